// Display formatting only; values stay numbers everywhere else. Money, durations and
// times as the CLI writes them (@spanlens/query/format).
import { costTotal, duration, timestamp } from '@spanlens/query/format'
import type { Tokens } from './api/types.js'

export const ms = (v: number | null | undefined): string => (v === null || v === undefined || !Number.isFinite(v) ? '–' : duration(v))

/** Dollars; `incomplete`: some calls had no price, so this is a lower bound (≥), or `unknown` at 0 (costTotal). */
export const usd = (v: number | null | undefined, incomplete = false): string => costTotal(v, incomplete)

/** Why a cost is `≥` or `unknown`, for a title attribute. */
export const COST_NOTE = 'Some LLM calls have no price: a model missing from the price table, or a call that reported no usage (failed calls).'

export function int(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–'
  return Math.round(v).toLocaleString('en-US')
}

/**
 * The token counts beside input and output that a call reported, those above zero:
 * `1,200 cache reads · 300 cache writes · 50 reasoning`; '' when none.
 */
export function tokenDetails(t: Pick<Tokens, 'cacheRead' | 'cacheWrite' | 'reasoning'>): string {
  const parts: string[] = []
  if (t.cacheRead > 0) parts.push(`${int(t.cacheRead)} cache reads`)
  if (t.cacheWrite > 0) parts.push(`${int(t.cacheWrite)} cache writes`)
  if (t.reasoning > 0) parts.push(`${int(t.reasoning)} reasoning`)
  return parts.join(' · ')
}

/** A group or category as shown: the empty one is the spans without the value (no model, no attribute). */
export const groupName = (v: string | undefined): string => (v === undefined || v === '' ? '(none)' : v)

export function pct(v: number | null | undefined, digits = 2): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–'
  return `${(v * 100).toFixed(digits)}%`
}

export function num(v: number | null | undefined, digits = 3): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–'
  if (v !== 0 && Math.abs(v) < 10 ** -digits) return v.toExponential(2)
  return Number(v.toFixed(digits)).toString()
}

export function pValue(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–'
  return v < 0.0001 ? '< 0.0001' : v.toFixed(4)
}

/** A time in one format, in the browser's zone, with the zone named. */
export function time(iso: string): string {
  return timestamp(iso, Intl.DateTimeFormat().resolvedOptions().timeZone)
}

export function shortId(id: string): string {
  return id.length > 12 ? `${id.slice(0, 8)}…` : id
}
