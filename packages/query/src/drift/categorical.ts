import { type ClickHouseClient, ParamBag, num, selectOne } from '../db.js'
import { chiSquaredSf, fisherExactTwoSided } from '../stats/distributions.js'
import { PSI_EPSILON } from './numeric.js'
import { type DriftSets, sourceQuery } from './sets.js'
import type { SignalSpec } from './signals.js'
import { decide, type CategoricalMethod, type DriftStatistic, type DriftThresholds, type SignalDrift } from './types.js'

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
  chi2_yates: number
  min_expected: number
  cells: Array<[number, number]>
  js: number
  psi: number
  top: Array<[string, number, number]>
}

/** Expected counts below this make the χ² approximation poor (Cochran's rule). */
const SMALL_EXPECTED = 5

/**
 * One pass over (category, side) counts, then in SQL: the χ² test of homogeneity
 * of the 2 × k contingency table (reference and current counts per category,
 * E = row total · column total / N, as scipy.stats.chi2_contingency; with Yates'
 * correction too, which scipy applies at one degree of freedom), the smallest
 * expected count, Jensen–Shannon distance with natural log (range [0, √ln2 ≈ 0.8326],
 * Evidently's base), and PSI over the categories (zero shares floored at 1e-4).
 * A category seen on one side only is one more column, not a share of 1e-4: one
 * span of a new model among 40 is not evidence of drift.
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
       sum(pow(r - nr * (r + c) / (nr + nc), 2) / (nr * (r + c) / (nr + nc))
         + pow(c - nc * (r + c) / (nr + nc), 2) / (nc * (r + c) / (nr + nc))) AS chi2,
       sum(pow(greatest(0, abs(r - nr * (r + c) / (nr + nc)) - 0.5), 2) / (nr * (r + c) / (nr + nc))
         + pow(greatest(0, abs(c - nc * (r + c) / (nr + nc)) - 0.5), 2) / (nc * (r + c) / (nr + nc))) AS chi2_yates,
       min(least(nr, nc) * (r + c) / (nr + nc)) AS min_expected,
       if(count() = 2, groupArray((r, c)), []) AS cells,
       sqrt(greatest(0,
         0.5 * sumIf((r / nr) * ln((r / nr) / ((r / nr + c / nc) / 2)), r > 0)
       + 0.5 * sumIf((c / nc) * ln((c / nc) / ((r / nr + c / nc) / 2)), c > 0))) AS js,
       sum((if(c = 0, ${eps}, c / nc) - if(r = 0, ${eps}, r / nr)) * ln(if(c = 0, ${eps}, c / nc) / if(r = 0, ${eps}, r / nr))) AS psi,
       arraySlice(arraySort(x -> -(x.2 + x.3), groupArray((cat, r / nr, c / nc))), 1, 20) AS top
     FROM counts, totals`,
    params,
  )
}

/**
 * The χ² test of homogeneity, decided as scipy.stats.chi2_contingency would, except
 * that a 2 × 2 table with an expected count below 5 gets Fisher's exact test. A larger
 * table with small expected counts keeps the asymptotic p-value (detail.minExpected says so).
 */
function homogeneity(row: DistributionRow, k: number): { statistic: number; p: number; method: string } {
  if (k < 2) return { statistic: 0, p: 1, method: 'chi2_contingency' }
  if (k > 2) return { statistic: num(row.chi2), p: chiSquaredSf(num(row.chi2), k - 1), method: 'chi2_contingency' }
  const yates = num(row.chi2_yates)
  const [first, second] = row.cells.map(([r, c]) => [num(r), num(c)] as const)
  if (num(row.min_expected) < SMALL_EXPECTED && first && second) {
    return { statistic: yates, p: fisherExactTwoSided(first[0], second[0], first[1], second[1]), method: 'fisher_exact' }
  }
  return { statistic: yates, p: chiSquaredSf(yates, 1), method: 'chi2_contingency_yates' }
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
  const chi = homogeneity(row, k)
  const js = num(row.js)
  const psi = num(row.psi)
  const stats: Array<Omit<DriftStatistic, 'role'>> = [
    { name: 'chi2', value: chi.statistic, pValue: chi.p, pValueMethod: chi.method, threshold: t.chi2PValue, drifted: chi.p < t.chi2PValue },
    { name: 'js', value: js, pValue: null, threshold: t.jsDistance, drifted: js >= t.jsDistance },
    { name: 'psi', value: psi, pValue: null, threshold: t.psiModerate, drifted: psi >= t.psiModerate },
  ]
  const method = opts.method === 'auto' ? (nRef <= t.smallReferenceMax ? 'chi2' : 'js') : opts.method
  return {
    ...base,
    method,
    ...decide(stats, method),
    psiLevel: psi >= t.psiMajor ? 'major' : psi >= t.psiModerate ? 'moderate' : 'none',
    detail: {
      categories: k,
      minExpected: num(row.min_expected),
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
    ...decide([{ name: 'js', value: js, pValue: null, threshold: t, drifted: js >= t }], 'js'),
    detail: { buckets: TEXT_BUCKETS, referenceTokens: num(row.n_ref), currentTokens: num(row.n_cur) },
  }
}
