import { type ClickHouseClient, ParamBag, num, selectOne } from '../db.js'
import { chiSquaredSf } from '../stats/distributions.js'
import { PSI_EPSILON } from './numeric.js'
import { type DriftSets, sourceQuery } from './sets.js'
import type { SignalSpec } from './signals.js'
import type { CategoricalMethod, DriftStatistic, DriftThresholds, SignalDrift } from './types.js'

/** Categories beyond this many (by total count) are folded into one "(other)" category. */
const MAX_CATEGORIES = 500
/** Hashed vocabulary size for text drift. */
const TEXT_BUCKETS = 4096
/** Characters of each prompt/completion tokenized for text drift (bounds the cost per span). */
const TEXT_PREFIX_CHARS = 4000

interface DistributionRow {
  n_ref: number
  n_cur: number
  k: number
  chi2: number
  js: number
  psi: number
  top: Array<[string, number, number]>
}

/**
 * One pass over (category, side) counts, then in SQL: χ² goodness of fit of the
 * current counts against the reference shares (E_i = p_ref,i · n_cur, zero shares
 * floored at 1e-4), Jensen–Shannon distance with natural log (range [0, √ln2 ≈ 0.8326],
 * Evidently's base), and PSI over the categories.
 */
async function distribution(client: ClickHouseClient, keyedSource: string, params: Record<string, unknown>): Promise<DistributionRow> {
  const eps = PSI_EPSILON
  return selectOne<DistributionRow>(
    client,
    `WITH counts AS (
       SELECT cat, r, c FROM (
         SELECT if(rk <= ${MAX_CATEGORIES}, cat0, '(other)') AS cat, sum(r0) AS r, sum(c0) AS c FROM (
           SELECT cat0, r0, c0, row_number() OVER (ORDER BY r0 + c0 DESC, cat0) AS rk FROM (
             SELECT toString(k) AS cat0, countIf(side = 0) AS r0, countIf(side = 1) AS c0 FROM (${keyedSource}) GROUP BY cat0))
         GROUP BY cat)),
     totals AS (SELECT sum(r) AS nr, sum(c) AS nc FROM counts)
     SELECT any(nr) AS n_ref, any(nc) AS n_cur, count() AS k,
       sum(pow(c - if(r = 0, ${eps}, r / nr) * nc, 2) / (if(r = 0, ${eps}, r / nr) * nc)) AS chi2,
       sqrt(greatest(0,
         0.5 * sumIf((r / nr) * ln((r / nr) / ((r / nr + c / nc) / 2)), r > 0)
       + 0.5 * sumIf((c / nc) * ln((c / nc) / ((r / nr + c / nc) / 2)), c > 0))) AS js,
       sum((if(c = 0, ${eps}, c / nc) - if(r = 0, ${eps}, r / nr)) * ln(if(c = 0, ${eps}, c / nc) / if(r = 0, ${eps}, r / nr))) AS psi,
       arraySlice(arraySort(x -> -(x.2 + x.3), groupArray((cat, r / nr, c / nc))), 1, 20) AS top
     FROM counts, totals`,
    params,
  )
}

export async function categoricalDrift(
  client: ClickHouseClient,
  project: string,
  sets: DriftSets,
  spec: SignalSpec,
  opts: { thresholds: DriftThresholds; method: CategoricalMethod; minSamples: number },
): Promise<SignalDrift> {
  const bag = new ParamBag()
  const src = sourceQuery(project, sets, spec, bag)
  const row = await distribution(client, `SELECT v AS k, side FROM (${src})`, bag.values)
  const nRef = num(row.n_ref)
  const nCur = num(row.n_cur)
  const base: SignalDrift = { signal: spec.signal, type: 'categorical', nReference: nRef, nCurrent: nCur, status: 'ok', method: null, drifted: null, statistics: [] }
  if (!(nRef >= opts.minSamples && nCur >= opts.minSamples)) return { ...base, status: 'not_enough_data' }
  const t = opts.thresholds
  const k = num(row.k)
  const chi2 = num(row.chi2)
  const p = k > 1 ? chiSquaredSf(chi2, k - 1) : 1
  const js = num(row.js)
  const psi = num(row.psi)
  const stats: DriftStatistic[] = [
    { name: 'chi2', value: k > 1 ? chi2 : 0, pValue: p, threshold: t.chi2PValue, drifted: p < t.chi2PValue },
    { name: 'js', value: js, pValue: null, threshold: t.jsDistance, drifted: js >= t.jsDistance },
    { name: 'psi', value: psi, pValue: null, threshold: t.psiModerate, drifted: psi >= t.psiModerate },
  ]
  const method = opts.method === 'auto' ? (nRef <= t.smallReferenceMax ? 'chi2' : 'js') : opts.method
  return {
    ...base,
    method,
    drifted: stats.find((s) => s.name === method)?.drifted ?? null,
    statistics: stats,
    psiLevel: psi >= t.psiMajor ? 'major' : psi >= t.psiModerate ? 'moderate' : 'none',
    detail: {
      categories: k,
      top: (row.top ?? []).map(([category, ref, cur]) => ({ category, referenceShare: num(ref), currentShare: num(cur) })),
    },
  }
}

/**
 * Prompt/completion vocabulary: lower-cased tokens (ClickHouse `tokens`, split on
 * non-alphanumerics) hashed into 4096 buckets; Jensen–Shannon distance (natural log)
 * between the reference and current bucket distributions. Sample sizes are spans.
 */
export async function textDrift(
  client: ClickHouseClient,
  project: string,
  sets: DriftSets,
  spec: SignalSpec,
  opts: { thresholds: DriftThresholds; minSamples: number },
): Promise<SignalDrift> {
  const bag = new ParamBag()
  const src = sourceQuery(project, sets, spec, bag)
  const counts = await selectOne<{ n_ref: number; n_cur: number }>(
    client,
    `SELECT countIf(side = 0) AS n_ref, countIf(side = 1) AS n_cur FROM (${src})`,
    bag.values,
  )
  const nRef = num(counts.n_ref)
  const nCur = num(counts.n_cur)
  const base: SignalDrift = { signal: spec.signal, type: 'text', nReference: nRef, nCurrent: nCur, status: 'ok', method: null, drifted: null, statistics: [] }
  if (nRef < opts.minSamples || nCur < opts.minSamples) return { ...base, status: 'not_enough_data' }
  const bag2 = new ParamBag()
  const src2 = sourceQuery(project, sets, spec, bag2)
  const row = await distribution(
    client,
    `SELECT cityHash64(arrayJoin(tokens(lower(substringUTF8(v, 1, ${TEXT_PREFIX_CHARS}))))) % ${TEXT_BUCKETS} AS k, side FROM (${src2})`,
    bag2.values,
  )
  const js = num(row.js)
  const t = opts.thresholds.textJsDistance
  return {
    ...base,
    method: 'js',
    drifted: js >= t,
    statistics: [{ name: 'js', value: js, pValue: null, threshold: t, drifted: js >= t }],
    detail: { buckets: TEXT_BUCKETS, referenceTokens: num(row.n_ref), currentTokens: num(row.n_cur) },
  }
}
