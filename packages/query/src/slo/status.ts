import { type ClickHouseClient, ParamBag, num, selectOne } from '../db.js'
import { type SpanFilter, spanConditions, toSpanFilter } from '../filters.js'
import { badEvents } from './bad-events.js'
import { MIN_TIME_MS, chTime, parseDuration } from '../time.js'
import type { SloDefinition } from './file.js'

const BURN_WINDOWS = ['5m', '30m', '1h', '2h', '6h', '1d', '3d'] as const
export type BurnWindow = (typeof BURN_WINDOWS)[number]

/**
 * SRE Workbook multi-window, multi-burn-rate alerts (for a 30-day budget):
 * page at 14.4x over 1h and 5m (2% of budget in 1h), 6x over 6h and 30m (5% in 6h);
 * ticket at 3x over 1d and 2h (10% in 1d), 1x over 3d and 6h (10% in 3d).
 */
export const ALERT_RULES = [
  { severity: 'page', factor: 14.4, longWindow: '1h', shortWindow: '5m' },
  { severity: 'page', factor: 6, longWindow: '6h', shortWindow: '30m' },
  { severity: 'ticket', factor: 3, longWindow: '1d', shortWindow: '2h' },
  { severity: 'ticket', factor: 1, longWindow: '3d', shortWindow: '6h' },
] as const

export interface SloAlert {
  severity: 'page' | 'ticket'
  factor: number
  longWindow: BurnWindow
  shortWindow: BurnWindow
  burnRateLong: number | null
  burnRateShort: number | null
  firing: boolean
}

export interface SloStatus {
  name: string
  description?: string
  objective: number
  window: string
  indicator: SloDefinition['indicator']['type']
  /** the spans the SLO counts, as a span filter (the SLO's service, model, environment, kind, operation) */
  scope: SloScope
  /** latency and ttft indicators: a call slower than this many ms is a bad event */
  thresholdMs?: number
  /** good / total over the window; null without traffic */
  sli: number | null
  total: number
  good: number
  errorBudget: {
    /** 1 − (bad/total)/(1 − objective); negative once overspent */
    remaining: number
    consumed: number
  }
  /** (bad/total in the window) / (1 − objective); null without traffic in that window */
  burnRates: Record<BurnWindow, number | null>
  alerts: SloAlert[]
  firing: boolean
  /** `rollup` when computed from spans_minute, else `spans` */
  source: 'rollup' | 'spans'
  /**
   * Where every window ends (exclusive; `at`, or the minute it falls in for the rollup):
   * the window `w` is [windowEnd − w, windowEnd).
   */
  windowEnd: string
  /**
   * The window's bad events as a traces filter in the query-string form of GET
   * /traces (docs/api.md), without time: with `from` and `to` of a window it selects
   * exactly the spans counted bad there. Null when no filter says it (slo/bad-events.ts).
   */
  badEvents: Record<string, string> | null
}

export interface SloReport {
  at: string
  firing: boolean
  slos: SloStatus[]
}

export type SloScope = Pick<SpanFilter, 'service' | 'model' | 'environment' | 'kind' | 'operation'>

function scopeFilter(slo: SloDefinition): SloScope {
  const f: SloScope = {}
  if (slo.service) f.service = slo.service
  if (slo.model) f.model = slo.model
  if (slo.environment) f.environment = slo.environment
  if (slo.kind) f.kind = slo.kind
  if (slo.operation) f.operation = slo.operation
  return f
}

/**
 * A burn rate or budget share to 12 significant digits. 1 − objective is rarely exact in binary
 * floating point (1 − 0.995 = 0.0050000000000000044), so 1 bad call in 200 against 99.5% spent
 * 0.9999999999999991 of the budget and left 8.9e-16 of it; the counts are whole numbers and the
 * objective has a few digits, so nothing past the 12th is information.
 */
const figure = (x: number): number => Number(x.toPrecision(12))

/** Evaluates every SLO at `at` (default now): one ClickHouse pass per SLO covering all windows. */
export async function sloStatus(client: ClickHouseClient, project: string, slos: SloDefinition[], opts: { at?: Date } = {}): Promise<SloReport> {
  const at = opts.at ?? new Date()
  const out: SloStatus[] = []
  for (const slo of slos) out.push(await evaluate(client, project, slo, at))
  return { at: at.toISOString(), firing: out.some((s) => s.firing), slos: out }
}

async function evaluate(client: ClickHouseClient, project: string, slo: SloDefinition, at: Date): Promise<SloStatus> {
  const periodMs = parseDuration(slo.window)
  const windows: Array<[string, number]> = [...BURN_WINDOWS.map((w): [string, number] => [w, parseDuration(w)]), ['period', periodMs]]
  const lookback = Math.max(periodMs, parseDuration('3d'))
  // An `at` near 1900 must not look back before the earliest time DateTime64 holds.
  const from = new Date(Math.max(MIN_TIME_MS, at.getTime() - lookback))
  const bag = new ParamBag()
  const atP = bag.add(chTime(at), "DateTime64(3, 'UTC')")
  const scope = scopeFilter(slo)
  const ind = slo.indicator
  const useRollup = ind.type === 'success'
  let table: string
  let timeCol: string
  let where: string[]
  let totalExpr: string
  let goodExpr: string
  let end = atP
  if (useRollup) {
    // Success ratio from the per-minute rollup: minute buckets, cheap over 30 days.
    table = 'spans_minute'
    timeCol = 'minute'
    // A minute is counted once it has ended: at 12:00:30 the 12:00 bucket holds calls
    // up to 12:00:59, after `at`, so every window ends at the last whole minute.
    end = `toStartOfMinute(${atP})`
    where = [`project_id = ${bag.add(project, 'String')}`, `minute >= toStartOfMinute(${bag.add(chTime(from), "DateTime64(3, 'UTC')")})`, `minute < ${end}`]
    const inList = (col: string, v: string[] | undefined) => v && v.length > 0 && where.push(`${col} IN ${bag.add(v, 'Array(String)')}`)
    inList('service_name', scope.service)
    inList('model', scope.model)
    inList('environment', scope.environment)
    inList('kind', scope.kind)
    inList('operation', scope.operation)
    totalExpr = 'calls'
    goodExpr = 'calls - errors'
  } else {
    table = 'spans FINAL'
    timeCol = 'start_time'
    where = [...spanConditions(project, { ...scope, from }, bag), `start_time < ${atP}`]
    if (ind.type === 'latency') {
      totalExpr = '1'
      // As text: @clickhouse/client refuses to send an integer beyond ±2^53.
      goodExpr = `duration_ms <= ${bag.add(String(ind.thresholdMs), 'Float64')}`
    } else if (ind.type === 'ttft') {
      where.push('ttft_ms IS NOT NULL')
      totalExpr = '1'
      goodExpr = `assumeNotNull(ttft_ms) <= ${bag.add(String(ind.thresholdMs), 'Float64')}`
    } else {
      const total = spanConditions(project, toSpanFilter(ind.total), bag).slice(1)
      const good = spanConditions(project, toSpanFilter(ind.good), bag).slice(1)
      where.push(total.length ? total.join(' AND ') : '1')
      totalExpr = '1'
      goodExpr = good.length ? good.join(' AND ') : '1'
    }
  }
  const cols = windows.flatMap(([name, ms]) => {
    const cond = `${timeCol} >= ${end} - toIntervalMillisecond(${ms})`
    return useRollup
      ? [`sumIf(${totalExpr}, ${cond}) AS total_${name}`, `sumIf(${goodExpr}, ${cond}) AS good_${name}`]
      : [`countIf(${cond}) AS total_${name}`, `countIf(${cond} AND (${goodExpr})) AS good_${name}`]
  })
  const row = await selectOne<Record<string, number>>(client, `SELECT ${cols.join(', ')} FROM ${table} WHERE ${where.join(' AND ')}`, bag.values)
  const budget = 1 - slo.objective
  const burn = (name: string): number | null => {
    const total = num(row[`total_${name}`])
    if (!(total > 0)) return null
    return figure((total - num(row[`good_${name}`])) / total / budget)
  }
  const burnRates = Object.fromEntries(BURN_WINDOWS.map((w) => [w, burn(w)])) as Record<BurnWindow, number | null>
  const alerts: SloAlert[] = ALERT_RULES.map((rule) => {
    const long = burnRates[rule.longWindow]
    const short = burnRates[rule.shortWindow]
    return {
      severity: rule.severity,
      factor: rule.factor,
      longWindow: rule.longWindow,
      shortWindow: rule.shortWindow,
      burnRateLong: long,
      burnRateShort: short,
      // (bad/total)/(1 − objective) is rarely exact in binary floating point (0.03/0.01 = 2.9999999999999996)
      firing: long !== null && short !== null && long >= rule.factor * (1 - 1e-9) && short >= rule.factor * (1 - 1e-9),
    }
  })
  const total = num(row.total_period)
  const good = num(row.good_period)
  const consumed = total > 0 ? figure((total - good) / total / budget) : 0
  const status: SloStatus = {
    name: slo.name,
    objective: slo.objective,
    window: slo.window,
    indicator: ind.type,
    scope,
    sli: total > 0 ? good / total : null,
    total,
    good,
    errorBudget: { remaining: figure(1 - consumed), consumed },
    burnRates,
    alerts,
    firing: alerts.some((a) => a.firing),
    source: useRollup ? 'rollup' : 'spans',
    // toStartOfMinute in UTC, as the rollup's windows end.
    windowEnd: new Date(useRollup ? Math.floor(at.getTime() / 60_000) * 60_000 : at.getTime()).toISOString(),
    badEvents: badEvents(slo, scope),
  }
  if (slo.description !== undefined) status.description = slo.description
  if (ind.type === 'latency' || ind.type === 'ttft') status.thresholdMs = ind.thresholdMs
  return status
}
