import { z } from 'zod'
import type { ParamBag } from './db.js'
import { errors } from './errors.js'
import { DECIMAL } from './params.js'

/**
 * A span's numbers a filter can bound (`ttftMs=>1000`, `costUsd=>0.01,<=0.02`), query
 * key → `spans` column. Strict and inclusive bounds both: a drift histogram bin is
 * (e1, e2] and an SLO's bad call is slower than its threshold, which "at least" and
 * "below" (minDurationMs, maxDurationMs) cannot say exactly for every float.
 * ttft_ms and cost_usd are NULL where unknown: no condition holds there.
 */
export const SPAN_NUMBERS = {
  durationMs: 'duration_ms',
  ttftMs: 'ttft_ms',
  costUsd: 'cost_usd',
  inputTokens: 'input_tokens',
  outputTokens: 'output_tokens',
  totalTokens: 'total_tokens',
} as const

export type SpanNumber = keyof typeof SPAN_NUMBERS
export const SPAN_NUMBER_KEYS = Object.keys(SPAN_NUMBERS) as SpanNumber[]

type Comparison = '=' | '!=' | '<' | '<=' | '>' | '>='
export interface NumberCondition {
  op: Comparison
  value: number
}

const COMPARISON = new RegExp(`^(<=|>=|!=|<|>|=)?\\s*(${DECIMAL.source.slice(1, -1)})$`, 'i')

/** `<=0`, `>0.5`, `=1`, `!=0` or a bare number (=); null when `raw` is none; a number beyond Float64 is an error. */
export function parseComparison(raw: string): NumberCondition | { error: string } | null {
  const m = COMPARISON.exec(raw.trim())
  if (!m) return null
  const value = Number(m[2])
  if (!Number.isFinite(value)) return { error: `${m[2]} is out of range for a number` }
  return { op: (m[1] ?? '=') as Comparison, value }
}

export const formatCondition = (c: NumberCondition): string => `${c.op}${c.value}`

/**
 * One field's conditions, all must hold: a string (comma-separated) or a list of them.
 * Checked here and kept as text (a request's filter is parsed again by toSpanFilter);
 * readConditions makes them conditions.
 */
export const numberConditions = z
  .union([z.string(), z.array(z.string())], { error: 'expected conditions such as >1000 or >0.01,<=0.02, as text or an array of texts' })
  .transform((v) => (Array.isArray(v) ? v : [v]).flatMap((s) => s.split(',')).map((s) => s.trim()))
  .superRefine((list, ctx) => {
    // An empty condition bounds nothing: dropped, `ttftMs=` would answer for every span.
    if (list.includes('')) {
      ctx.addIssue({ code: 'custom', message: 'expected conditions such as >1000 or >0.01,<=0.02, got an empty one' })
      return
    }
    for (const raw of list) {
      const c = parseComparison(raw)
      if (c === null) ctx.addIssue({ code: 'custom', message: `expected conditions such as >1000 or >0.01,<=0.02, got "${raw}"` })
      else if ('error' in c) ctx.addIssue({ code: 'custom', message: c.error })
    }
  })

/** Conditions numberConditions has checked. */
export function readConditions(list: readonly string[]): NumberCondition[] {
  return list.flatMap((raw) => {
    const c = parseComparison(raw)
    return c && !('error' in c) ? [c] : []
  })
}

/** One field's conditions read from text or a list of them; a bad or empty list is a 400 naming `field`. */
export function parseConditions(field: string, raw: string | readonly string[]): NumberCondition[] {
  const parsed = numberConditions.safeParse(raw)
  if (!parsed.success) throw errors.BAD_REQUEST(`${field}: ${parsed.error.issues[0]?.message ?? 'expected conditions such as >1000'}`)
  if (parsed.data.length === 0) throw errors.BAD_REQUEST(`${field}: expected conditions such as >1000 or >0.01,<=0.02, got none`)
  return readConditions(parsed.data)
}

/**
 * SQL conditions (all must hold) on one span number. A NULL number satisfies none: each
 * condition is 0 there, not NULL, so it also holds under NOT (filters.ts's `not`).
 * The value goes as text: @clickhouse/client refuses an integer beyond ±2^53.
 */
export function numberConditionsSql(column: string, conditions: NumberCondition[], bag: ParamBag): string[] {
  return conditions.map((c) => `ifNull(${column} ${c.op} ${bag.add(String(c.value), 'Float64')}, 0)`)
}
