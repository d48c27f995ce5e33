import { z } from 'zod'
import { type ClickHouseClient, ParamBag, num, select } from '../db.js'
import { errors } from '../errors.js'
import { filterObject, filterText, spanConditions, toSpanFilter } from '../filters.js'
import { invalidFields } from '../params.js'
import { Z95 } from '../stats/distributions.js'
import { chiSquaredIndependence, twoProportionZ, welchZ, wilson } from '../stats/proportions.js'
import { groupExpr, refusalExpr } from './groups.js'
import { LIVE_SCORES } from '../scores/live.js'
import { keysByUse } from '../map-keys.js'
import { headedTraces } from '../traces/heads.js'

const BIAS_OUTCOMES = ['error_rate', 'refusal_rate', 'negative_feedback_rate', 'score_mean', 'latency_p95', 'output_length'] as const
type BiasOutcome = (typeof BIAS_OUTCOMES)[number]

const biasRequestSchema = z
  .object({
    groupBy: filterText,
    outcome: z.enum(BIAS_OUTCOMES),
    /** score name for negative_feedback_rate / score_mean (default "feedback") */
    score: filterText.default('feedback'),
    /** a score at or below this is negative feedback (default 0: thumbs 0/1 or -1/1) */
    negativeAtMost: z.number().default(0),
    filter: filterObject.optional(),
    /** groups smaller than this are reported but not judged (default 30) */
    minGroupSize: z.number().int().min(1).default(30),
    alpha: z.number().gt(0).lt(1).default(0.05),
    /** four-fifths rule threshold on the favourable-rate ratio (default 0.8) */
    ratioThreshold: z.number().gt(0).max(1).default(0.8),
    refusalPhrases: z.array(filterText.min(1)).max(200).optional(),
    maxGroups: z.number().int().min(1).max(1000).default(100),
  })
  .strict()

export type BiasRequest = z.input<typeof biasRequestSchema>

export interface BiasGroup {
  group: string
  n: number
  value: number | null
  ci: [number, number] | null
  judged: boolean
  /** value − best group's value */
  difference: number | null
  /**
   * ratio to the best group on the favourable scale (1 − rate for bad-outcome rates,
   * best/value for latency, (value − ratioBaseline)/(best − ratioBaseline) for score and
   * output length); 1 = parity
   */
  ratio: number | null
  fourFifthsViolation: boolean | null
  /** test against the best group: two-proportion z (rates) or Welch z (means) */
  pValue: number | null
  /**
   * how pValue was found: `zero_variance` when neither group's values vary, so the
   * difference of means is exact (p = 0 when it is not zero, 1 when it is)
   */
  pValueMethod: 'two_proportion_z' | 'welch_z' | 'zero_variance' | null
  /** Bonferroni-adjusted over the (judged groups − 1) comparisons */
  pValueAdjusted: number | null
  significant: boolean | null
}

export interface BiasReport {
  groupBy: string
  outcome: BiasOutcome
  kind: 'proportion' | 'mean' | 'quantile'
  /** lower or higher values are better */
  better: 'lower' | 'higher'
  bestGroup: string | null
  groups: BiasGroup[]
  /**
   * The worst-off judged group's `ratio`, on the same favourable scale as the group
   * rows ((1 − rate)/(1 − best rate) for rates): what the four-fifths rule compares with 0.8.
   */
  lowestRatio: { group: string; ratio: number } | null
  /**
   * Means only: the point mean ratios are measured from, 0 unless some value is negative
   * (−1/+1 thumbs), then the lowest per-trace value of the reported groups. A ratio of two
   * means is meaningful from a floor no value goes under: of −0.2 and −0.8 it would be 4.
   */
  ratioBaseline: number | null
  /**
   * fairlearn demographic parity over judged groups, on the outcome's own scale: max − min
   * and min / max of the values (for refusal rates, of the refusal rates: not comparable with
   * `ratio`); for means, min / max measured from `ratioBaseline`
   */
  demographicParityDifference: number | null
  demographicParityRatio: number | null
  /** χ² test of independence, groups × {outcome, not}, no Yates correction (rates only) */
  chiSquared: { statistic: number; df: number; pValue: number } | null
  comparisons: number
  /** at least one judged group violates four-fifths (rates/ratios) and differs significantly */
  flagged: boolean
}

const KIND: Record<BiasOutcome, BiasReport['kind']> = {
  error_rate: 'proportion',
  refusal_rate: 'proportion',
  negative_feedback_rate: 'proportion',
  score_mean: 'mean',
  latency_p95: 'quantile',
  output_length: 'mean',
}
const BETTER: Record<BiasOutcome, 'lower' | 'higher'> = {
  error_rate: 'lower',
  refusal_rate: 'lower',
  negative_feedback_rate: 'lower',
  score_mean: 'higher',
  latency_p95: 'lower',
  output_length: 'higher',
}

interface Row {
  g: string
  n: number
  k: number
  mean: number
  var: number
  /** lowest value in the group (means) */
  lo: number
  p95: number
}

/** Which outcomes read each optional setting: given with another outcome it would be ignored unsaid. */
const READ_BY: Record<string, readonly BiasOutcome[]> = {
  score: ['negative_feedback_rate', 'score_mean'],
  negativeAtMost: ['negative_feedback_rate'],
  refusalPhrases: ['refusal_rate'],
}

function refuseUnused(given: Record<string, unknown>, outcome: BiasOutcome): void {
  for (const [key, outcomes] of Object.entries(READ_BY)) {
    if (given[key] !== undefined && !outcomes.includes(outcome)) {
      throw errors.BAD_REQUEST(`${key}: applies to the outcome${outcomes.length > 1 ? 's' : ''} ${outcomes.join(' and ')}, not ${outcome}`)
    }
  }
}

/** Per-group outcome with confidence intervals, parity metrics and significance, computed from per-group aggregates. */
export async function bias(client: ClickHouseClient, project: string, request: BiasRequest, now = new Date()): Promise<BiasReport> {
  const parsed = biasRequestSchema.safeParse(request)
  if (!parsed.success) throw invalidFields(parsed.error)
  const r = parsed.data
  refuseUnused(request as Record<string, unknown>, r.outcome)
  const filter = toSpanFilter(r.filter, now, 'filter.')
  const bag = new ParamBag()
  const g = groupExpr(r.groupBy, bag)
  // A key that reads the prompt (language) and refusals (the completion, the finish reason and
  // the stored refusal flag) read spans as stored: content that arrived as log records is on
  // them once the server's content merge has run (content/merge.ts).
  const scored = r.outcome === 'negative_feedback_rate' || r.outcome === 'score_mean'
  const where = spanConditions(project, filter, bag)
  if (!filter.kind || filter.kind.length === 0) where.push("kind = 'llm'")
  let sql: string
  if (scored) {
    // Scores are per trace (or span): group by the scored trace's head in the filter
    // (traces/heads.ts): its root, or its earliest span when it has no root within reach, as
    // the trace listing lists it. Only scored traces' spans are read (drift/sets.ts says why).
    const p = bag.add(project, 'String')
    const name = bag.add(r.score, 'String')
    // As text: @clickhouse/client refuses to send an integer beyond ±2^53 (1e300 is one).
    const neg = bag.add(String(r.negativeAtMost), 'Float64')
    const scores = `${LIVE_SCORES} AND project_id = ${p} AND name = ${name} AND value IS NOT NULL AND isFinite(assumeNotNull(value))`
    const heads = headedTraces(project, filter, spanConditions(project, filter, bag).join(' AND '), bag, {
      value: g.expr,
      where: [`trace_id IN (SELECT trace_id FROM ${scores})`],
      final: true,
    })
    sql = `SELECT t.head_value AS g, count() AS n, countIf(s.v <= ${neg}) AS k, avg(s.v) AS mean, varSamp(s.v) AS var, min(s.v) AS lo, 0 AS p95
      FROM (SELECT trace_id, avg(assumeNotNull(value)) AS v FROM ${scores} GROUP BY trace_id) AS s
      INNER JOIN (${heads}) AS t
      ON s.trace_id = t.trace_id
      GROUP BY g ORDER BY n DESC, g LIMIT ${r.maxGroups}`
  } else {
    const phrases = r.refusalPhrases ? bag.add(r.refusalPhrases, 'Array(String)') : null
    const outcome =
      r.outcome === 'error_rate'
        ? "status_code = 'error'"
        : r.outcome === 'refusal_rate'
          ? refusalExpr(phrases)
          : '0'
    // Only output_length is judged on a mean: the other outcomes use n, k or p95, and a mean and
    // variance of latency beside them cost 40% of the query's CPU (bench/README.md, "Query").
    const value = r.outcome === 'output_length' ? 'toFloat64(output_tokens)' : null
    sql = `SELECT ${g.expr} AS g, count() AS n, countIf(${outcome}) AS k, ${value ? `avg(${value})` : '0'} AS mean, ${value ? `varSamp(${value})` : '0'} AS var, ${value ? `min(${value})` : '0'} AS lo,
        ${r.outcome === 'latency_p95' ? 'quantileExact(0.95)(duration_ms)' : '0'} AS p95
      FROM spans FINAL WHERE ${where.join(' AND ')}
      GROUP BY g ORDER BY n DESC, g LIMIT ${r.maxGroups}`
  }
  const rows = (await select<Row>(client, sql, bag.values)).map((x) => ({ ...x, g: String(x.g), n: num(x.n), k: num(x.k), mean: num(x.mean), var: num(x.var), lo: num(x.lo), p95: num(x.p95) }))
  if (rows.length === 0) throw errors.NOT_ENOUGH_DATA(scored ? `no trace matching the filter has a score named ${JSON.stringify(r.score)}` : 'no spans match the filter')
  // An attribute no matching span carries puts every span in one blank group, which
  // reads as "no bias found": say so, with the keys that do exist.
  if (g.map && rows.every((x) => x.g === '')) {
    const { column, key } = g.map
    const keys = (await keysByUse(client, column, where.join(' AND '), bag.values, EXISTING_KEYS_SHOWN)).map((k) => k.key)
    throw errors.BAD_REQUEST(
      `groupBy: no span matching the filter has ${column === 'attributes' ? 'attribute' : 'resource attribute'} "${key}"; ` +
        (keys.length ? `keys that exist: ${keys.map((k) => `${column === 'attributes' ? 'attr' : 'resource'}:${k}`).join(', ')}` : 'those spans have none'),
    )
  }
  return judge(r.groupBy, r.outcome, rows, r.minGroupSize, r.alpha, r.ratioThreshold)
}

const EXISTING_KEYS_SHOWN = 20

function lowestRatio(groups: BiasGroup[]): { group: string; ratio: number } | null {
  let low: { group: string; ratio: number } | null = null
  for (const g of groups) if (g.ratio !== null && (low === null || g.ratio < low.ratio)) low = { group: g.group, ratio: g.ratio }
  return low
}

/** Per-group judgement from per-group aggregates (exported for its unit tests). */
export function judge(groupBy: string, outcome: BiasOutcome, rows: Row[], minGroupSize: number, alpha: number, ratioThreshold: number): BiasReport {
  const kind = KIND[outcome]
  const better = BETTER[outcome]
  const valueOf = (x: Row): number | null =>
    x.n === 0 ? null : kind === 'proportion' ? x.k / x.n : kind === 'quantile' ? x.p95 : Number.isFinite(x.mean) ? x.mean : null
  const judged = rows.filter((x) => x.n >= minGroupSize && valueOf(x) !== null)
  const best = judged.reduce<Row | null>((b, x) => {
    if (!b) return x
    const vb = valueOf(b) as number
    const vx = valueOf(x) as number
    return better === 'lower' ? (vx < vb ? x : b) : vx > vb ? x : b
  }, null)
  const comparisons = Math.max(0, judged.length - 1)
  const bestValue = best ? (valueOf(best) as number) : null
  // Means are compared from a floor no value goes under: 0, or a signed scale's lowest value.
  const baseline = kind === 'mean' ? Math.min(0, ...rows.map((x) => x.lo).filter(Number.isFinite)) : 0
  const fromBaseline = (value: number, reference: number): number => (reference === baseline ? 1 : (value - baseline) / (reference - baseline))

  const groups = rows.map((x): BiasGroup => {
    const value = valueOf(x)
    const isJudged = judged.includes(x)
    const ci: [number, number] | null =
      kind === 'proportion'
        ? wilson(x.k, x.n)
        : kind === 'mean' && x.n > 1 && Number.isFinite(x.var)
          ? [x.mean - (Z95 * Math.sqrt(x.var)) / Math.sqrt(x.n), x.mean + (Z95 * Math.sqrt(x.var)) / Math.sqrt(x.n)]
          : null
    if (!isJudged || !best || value === null || bestValue === null) {
      return { group: x.g, n: x.n, value, ci, judged: false, difference: null, ratio: null, fourFifthsViolation: null, pValue: null, pValueMethod: null, pValueAdjusted: null, significant: null }
    }
    const ratio =
      kind === 'proportion'
        ? bestValue === 1
          ? 1
          : (1 - value) / (1 - bestValue)
        : better === 'lower'
          ? value === 0
            ? 1
            : bestValue / value
          : fromBaseline(value, bestValue)
    let pValue: number | null = null
    let pValueMethod: BiasGroup['pValueMethod'] = null
    if (x !== best) {
      if (kind === 'proportion') {
        pValue = twoProportionZ(x.k, x.n, best.k, best.n).p
        pValueMethod = 'two_proportion_z'
      } else if (kind === 'mean') {
        const t = welchZ(x.n, x.mean, x.var, best.n, best.mean, best.var)
        pValue = t?.p ?? null
        pValueMethod = t === null ? null : t.method === 'z' ? 'welch_z' : 'zero_variance'
      }
    }
    const adjusted = pValue === null ? null : Math.min(1, pValue * Math.max(1, comparisons))
    return {
      group: x.g,
      n: x.n,
      value,
      ci,
      judged: true,
      difference: value - bestValue,
      ratio,
      fourFifthsViolation: ratio < ratioThreshold,
      pValue,
      pValueMethod,
      pValueAdjusted: adjusted,
      significant: adjusted === null ? null : adjusted < alpha,
    }
  })
  const values = judged.map((x) => valueOf(x) as number)
  const max = values.length ? Math.max(...values) : null
  const min = values.length ? Math.min(...values) : null
  const chi = kind === 'proportion' && judged.length > 1 ? chiSquaredIndependence(judged.map((x) => ({ k: x.k, n: x.n }))) : null
  return {
    groupBy,
    outcome,
    kind,
    better,
    bestGroup: best?.g ?? null,
    groups,
    lowestRatio: lowestRatio(groups),
    ratioBaseline: kind === 'mean' ? baseline : null,
    demographicParityDifference: max !== null && min !== null && judged.length > 1 ? max - min : null,
    demographicParityRatio: max !== null && min !== null && judged.length > 1 ? (kind === 'mean' ? fromBaseline(min, max) : max === 0 ? 1 : min / max) : null,
    chiSquared: chi ? { statistic: chi.statistic, df: chi.df, pValue: chi.p } : null,
    comparisons,
    flagged: groups.some((x) => x.fourFifthsViolation === true && x.significant === true),
  }
}
