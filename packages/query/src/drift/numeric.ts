import { type ClickHouseClient, ParamBag, num, select, selectOne } from '../db.js'
import { kolmogorovSf } from '../stats/distributions.js'
import { type DriftSets, sourceQuery } from './sets.js'
import type { SignalSpec } from './signals.js'
import { decide, type DriftStatistic, type DriftThresholds, type NumericMethod, type SignalDrift } from './types.js'

/** Evidently replaces an empty bin's share by this before taking logs. */
export const PSI_EPSILON = 1e-4
/** ClickHouse's exact KS p-value is a DP over n·m cells; above this the asymptotic Kolmogorov distribution is used. */
const KS_EXACT_MAX_CELLS = 1_000_000
const DECILES = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]

/**
 * Numeric drift in two ClickHouse passes:
 *  1. sizes, reference std and reference deciles (R-7 / numpy linear quantiles);
 *  2. one scan grouped by value: PSI over bins cut at the de-duplicated deciles, KS D, and
 *     Wasserstein-1 = Σ |F(x_i) − G(x_i)|·(x_{i+1} − x_i) walking the merged ECDFs.
 */
export async function numericDrift(
  client: ClickHouseClient,
  project: string,
  sets: DriftSets,
  spec: SignalSpec,
  opts: { thresholds: DriftThresholds; method: NumericMethod; minSamples: number },
): Promise<SignalDrift> {
  const bag = new ParamBag()
  const src = sourceQuery(project, sets, spec, bag)
  const first = await selectOne<{ n_ref: number; n_cur: number; std_ref: number; mean_ref: number; mean_cur: number; q: number[] }>(
    client,
    `SELECT countIf(side = 0) AS n_ref, countIf(side = 1) AS n_cur,
            stddevPopIf(v, side = 0) AS std_ref, avgIf(v, side = 0) AS mean_ref, avgIf(v, side = 1) AS mean_cur,
            quantilesExactInclusiveIf(${DECILES.join(', ')})(v, side = 0) AS q
     FROM (${src})`,
    bag.values,
  )
  const nRef = num(first.n_ref)
  const nCur = num(first.n_cur)
  const base: SignalDrift = { signal: spec.signal, type: 'numeric', nReference: nRef, nCurrent: nCur, status: 'ok', method: null, drifted: null, statistics: [] }
  if (nRef < opts.minSamples || nCur < opts.minSamples) return { ...base, status: 'not_enough_data' }

  const edges = [...new Set((first.q ?? []).map(Number))].sort((a, b) => a - b)
  const bag2 = new ParamBag()
  const src2 = sourceQuery(project, sets, spec, bag2)
  const e = bag2.add(edges, 'Array(Float64)')
  // bin b = number of edges strictly below v: (-inf, e1], (e1, e2], ..., (ek, +inf)
  const bins = edges.length + 1
  const refBins = Array.from({ length: bins }, (_, i) => `sumIf(r, b = ${i})`).join(', ')
  const curBins = Array.from({ length: bins }, (_, i) => `sumIf(c, b = ${i})`).join(', ')
  const eps = PSI_EPSILON
  // One scan: counts per distinct value, then ECDFs, bins, PSI and W1 from that small table.
  const second = await selectOne<{ psi: number; ref_bins: number[]; cur_bins: number[]; d: number; w1: number }>(
    client,
    `SELECT ref_bins, cur_bins, d, w1,
            arraySum(arrayMap((r, c) -> (if(c = 0, ${eps}, c / ${nCur}) - if(r = 0, ${eps}, r / ${nRef}))
                                        * ln(if(c = 0, ${eps}, c / ${nCur}) / if(r = 0, ${eps}, r / ${nRef})), ref_bins, cur_bins)) AS psi
     FROM (
       SELECT [${refBins}] AS ref_bins, [${curBins}] AS cur_bins, max(abs(F - G)) AS d, sum(abs(F - G) * (next_v - v)) AS w1
       FROM (
         SELECT v, r, c, arrayCount(x -> x < v, ${e}) AS b,
                sum(r) OVER w / ${nRef} AS F,
                sum(c) OVER w / ${nCur} AS G,
                leadInFrame(v, 1, v) OVER (ORDER BY v ROWS BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING) AS next_v
         FROM (SELECT v, countIf(side = 0) AS r, countIf(side = 1) AS c FROM (${src2}) GROUP BY v)
         WINDOW w AS (ORDER BY v ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)))`,
    bag2.values,
  )
  const d = num(second.d) < 1e-12 ? 0 : num(second.d)
  let ksP: number
  let ksMethod: 'exact' | 'asymptotic'
  if (nRef * nCur <= KS_EXACT_MAX_CELLS) {
    // Small sets: ClickHouse's exact two-sample distribution (scipy's mode='exact').
    const bag3 = new ParamBag()
    const src3 = sourceQuery(project, sets, spec, bag3)
    const ks = await selectOne<{ ks: { d_statistic: number; p_value: number } }>(
      client,
      `SELECT kolmogorovSmirnovTest('two-sided', 'exact')(v, side) AS ks FROM (${src3})`,
      bag3.values,
    )
    ksP = num(ks.ks.p_value)
    ksMethod = 'exact'
  } else {
    ksP = kolmogorovSf(d * Math.sqrt((nRef * nCur) / (nRef + nCur)))
    ksMethod = 'asymptotic'
  }
  ksP = Math.min(1, Math.max(0, ksP))
  const t = opts.thresholds
  const stdRef = num(first.std_ref)
  const w1 = num(second.w1)
  const wNormed = w1 / Math.max(stdRef, 0.001)
  const psi = num(second.psi)
  const stats: Array<Omit<DriftStatistic, 'role'>> = [
    { name: 'psi', value: psi, pValue: null, threshold: t.psiModerate, drifted: psi >= t.psiModerate },
    { name: 'ks', value: d, pValue: ksP, pValueMethod: ksMethod, threshold: t.ksPValue, drifted: ksP <= t.ksPValue },
    { name: 'wasserstein', value: w1, pValue: null, threshold: null, drifted: null },
    { name: 'wasserstein_normed', value: wNormed, pValue: null, threshold: t.wassersteinNormed, drifted: wNormed >= t.wassersteinNormed },
  ]
  // Evidently: small reference -> KS p-value; large -> normed Wasserstein.
  const method =
    opts.method === 'auto' ? (nRef <= t.smallReferenceMax ? 'ks' : 'wasserstein_normed') : opts.method === 'wasserstein' ? 'wasserstein_normed' : opts.method
  return {
    ...base,
    method,
    ...decide(stats, method),
    psiLevel: psi >= t.psiMajor ? 'major' : psi >= t.psiModerate ? 'moderate' : 'none',
    detail: {
      referenceMean: num(first.mean_ref),
      currentMean: num(first.mean_cur),
      referenceStd: stdRef,
      binEdges: edges,
      referenceBinCounts: second.ref_bins.map(Number),
      currentBinCounts: second.cur_bins.map(Number),
    },
  }
}

export async function countSets(client: ClickHouseClient, query: string, params: Record<string, unknown>) {
  const [row] = await select<{ n_ref: number; n_cur: number }>(client, query, params)
  return { nRef: num(row?.n_ref ?? 0), nCur: num(row?.n_cur ?? 0) }
}
