import { type ClickHouseClient, ParamBag, num, select, selectOne } from '../db.js'
import { kolmogorovSf } from '../stats/distributions.js'
import { distributionStats, homogeneity, PSI_EPSILON } from './distribution.js'
import { type DriftSets, sourceQuery, unionOfSignals } from './sets.js'
import type { SignalSpec } from './signals.js'
import { decide, type DriftStatistic, type DriftThresholds, type NumericMethod, psiLevel, type SignalDrift } from './types.js'

/** ClickHouse's exact KS p-value is a DP over n·m cells; above this the asymptotic Kolmogorov distribution is used. */
const KS_EXACT_MAX_CELLS = 1_000_000
const DECILES = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]
/**
 * Evidently's default test judges a numeric signal with at most this many distinct values
 * (over both sets) as categories: χ² for a reference of up to 1000 values, Jensen–Shannon
 * above (evidently/calculations/stattests/registry.py, _get_default_stattest).
 */
const FEW_VALUES = 5

interface NumericRow {
  sig: number
  n_ref: number
  n_cur: number
  mean_ref: number
  mean_cur: number
  std_ref: number
  q: number[]
  ref_bins: number[]
  cur_bins: number[]
  d: number
  w1: number
  /** distinct values over both sets */
  n_values: number
  /** (value, reference count, current count) when there are at most FEW_VALUES values */
  few: Array<[string, number, number]>
}

/**
 * Numeric drift of several signals in one ClickHouse query. Each signal's values are
 * grouped into a table of (value, reference count, current count), sorted by value; every
 * statistic is read off that table with array functions, so the spans are scanned once:
 *  - sizes, reference mean and std (population), current mean;
 *  - reference deciles, R-7 / numpy linear, as ClickHouse's `quantilesExactInclusive`
 *    computes them (h = p·(n − 1) + 1, x_⌊h⌋ + (h − ⌊h⌋)·(x_⌊h⌋+1 − x_⌊h⌋) over the sorted
 *    reference values), the value of reference rank j being the first whose cumulative
 *    reference count reaches j;
 *  - PSI over bins cut at the de-duplicated deciles (bin = number of edges strictly below v);
 *  - KS D = max |F − G| and Wasserstein-1 = Σ |F(x_i) − G(x_i)|·(x_{i+1} − x_i) over the
 *    merged ECDFs.
 * A signal with no values has no row and gets zero sizes.
 */
export async function numericDrift(
  client: ClickHouseClient,
  project: string,
  sets: DriftSets,
  specs: readonly SignalSpec[],
  opts: { thresholds: DriftThresholds; method: NumericMethod; minSamples: number },
): Promise<SignalDrift[]> {
  const bag = new ParamBag()
  const grouped = unionOfSignals(
    project,
    sets,
    specs,
    bag,
    (i, src) => `SELECT ${i} AS sig, v, countIf(side = 0) AS r, countIf(side = 1) AS c FROM (${src}) GROUP BY v`,
  )
  const levels = bag.add(DECILES, 'Array(Float64)')
  const eps = PSI_EPSILON
  const rows = await select<NumericRow>(
    client,
    `SELECT sig, n_ref, n_cur, mean_ref, mean_cur, std_ref, q, ref_bins, cur_bins, length(vs) AS n_values,
            if(n_values <= ${FEW_VALUES}, arrayMap((x, r, c) -> (toString(x), r, c), vs, rs, cs), []) AS few,
            arrayMax(gaps) AS d, arraySum(arrayMap((gap, x, next) -> gap * (next - x), gaps, vs, arrayPushBack(arrayPopFront(vs), vs[-1]))) AS w1
     FROM (
       SELECT sig, arraySort(groupArray((v, r, c))) AS t, arrayMap(x -> x.1, t) AS vs, arrayMap(x -> x.2, t) AS rs, arrayMap(x -> x.3, t) AS cs,
              arrayCumSum(rs) AS cum_r, arrayCumSum(cs) AS cum_c, arraySum(rs) AS n_ref, arraySum(cs) AS n_cur,
              arraySum(arrayMap((x, k) -> x * k, vs, rs)) / n_ref AS mean_ref,
              arraySum(arrayMap((x, k) -> x * k, vs, cs)) / n_cur AS mean_cur,
              sqrt(arraySum(arrayMap((x, k) -> k * pow(x - mean_ref, 2), vs, rs)) / n_ref) AS std_ref,
              if(n_ref = 0, [], arrayMap(p -> ${quantileAt('p')}, ${levels})) AS q,
              arraySort(arrayDistinct(q)) AS edges,
              arrayMap(x -> arrayCount(e -> e < x, edges), vs) AS b,
              arrayMap(i -> arraySum(arrayMap((bin, k) -> if(bin = i, k, 0), b, rs)), range(length(edges) + 1)) AS ref_bins,
              arrayMap(i -> arraySum(arrayMap((bin, k) -> if(bin = i, k, 0), b, cs)), range(length(edges) + 1)) AS cur_bins,
              arrayMap((fr, fc) -> abs(fr / n_ref - fc / n_cur), cum_r, cum_c) AS gaps
       FROM (${grouped})
       GROUP BY sig)`,
    bag.values,
  )
  const bySig = new Map(rows.map((r) => [num(r.sig), r]))
  const out: SignalDrift[] = []
  for (const [i, spec] of specs.entries()) out.push(await judge(client, project, sets, spec, bySig.get(i), opts, eps))
  return out
}

async function judge(
  client: ClickHouseClient,
  project: string,
  sets: DriftSets,
  spec: SignalSpec,
  row: NumericRow | undefined,
  opts: { thresholds: DriftThresholds; method: NumericMethod; minSamples: number },
  eps: number,
): Promise<SignalDrift> {
  const nRef = row ? num(row.n_ref) : 0
  const nCur = row ? num(row.n_cur) : 0
  const base: SignalDrift = { signal: spec.signal, type: 'numeric', nReference: nRef, nCurrent: nCur, status: 'ok', method: null, drifted: null, statistics: [] }
  if (!row || nRef < opts.minSamples || nCur < opts.minSamples) return { ...base, status: 'not_enough_data' }
  const edges = [...new Set(row.q.map(Number))].sort((a, b) => a - b)
  const refBins = row.ref_bins.map(Number)
  const curBins = row.cur_bins.map(Number)
  let psi = 0
  for (const [i, r] of refBins.entries()) {
    const a = (curBins[i] as number) === 0 ? eps : (curBins[i] as number) / nCur
    const e = r === 0 ? eps : r / nRef
    psi += (a - e) * Math.log(a / e)
  }
  const d = num(row.d) < 1e-12 ? 0 : num(row.d)
  let ksP: number
  let ksMethod: 'exact' | 'asymptotic'
  if (nRef * nCur <= KS_EXACT_MAX_CELLS) {
    // Small sets: ClickHouse's exact two-sample distribution (scipy's mode='exact').
    const bag = new ParamBag()
    const src = sourceQuery(project, sets, spec, bag)
    const ks = await selectOne<{ ks: { d_statistic: number; p_value: number } }>(
      client,
      `SELECT kolmogorovSmirnovTest('two-sided', 'exact')(v, side) AS ks FROM (${src})`,
      bag.values,
    )
    ksP = num(ks.ks.p_value)
    ksMethod = 'exact'
  } else {
    ksP = kolmogorovSf(d * Math.sqrt((nRef * nCur) / (nRef + nCur)))
    ksMethod = 'asymptotic'
  }
  ksP = Math.min(1, Math.max(0, ksP))
  const t = opts.thresholds
  const stdRef = num(row.std_ref)
  const w1 = num(row.w1)
  const wNormed = w1 / Math.max(stdRef, 0.001)
  const stats: Array<Omit<DriftStatistic, 'role'>> = [
    { name: 'psi', value: psi, pValue: null, threshold: t.psiModerate, drifted: psi >= t.psiModerate },
    { name: 'ks', value: d, pValue: ksP, pValueMethod: ksMethod, threshold: t.ksPValue, drifted: ksP <= t.ksPValue },
    { name: 'wasserstein', value: w1, pValue: null, threshold: null, drifted: null },
    { name: 'wasserstein_normed', value: wNormed, pValue: null, threshold: t.wassersteinNormed, drifted: wNormed >= t.wassersteinNormed },
  ]
  // Evidently: small reference -> KS p-value; large -> normed Wasserstein; a signal of few
  // distinct values is judged as categories (χ², or JS for a large reference).
  const fewValues = num(row.n_values) <= FEW_VALUES
  if (fewValues) {
    const cats = distributionStats(row.few.map(([cat, r, c]) => ({ cat, r: num(r), c: num(c) })))
    const chi = homogeneity(cats)
    stats.push(
      { name: 'chi2', value: chi.statistic, pValue: chi.p, pValueMethod: chi.method, threshold: t.chi2PValue, drifted: chi.p < t.chi2PValue },
      { name: 'js', value: cats.js, pValue: null, threshold: t.jsDistance, drifted: cats.js >= t.jsDistance },
    )
  }
  const small = nRef <= t.smallReferenceMax
  const method =
    opts.method === 'auto'
      ? fewValues
        ? small
          ? 'chi2'
          : 'js'
        : small
          ? 'ks'
          : 'wasserstein_normed'
      : opts.method === 'wasserstein'
        ? 'wasserstein_normed'
        : opts.method
  return {
    ...base,
    method,
    ...decide(stats, method),
    psiLevel: psiLevel(psi, t),
    detail: {
      referenceMean: num(row.mean_ref),
      currentMean: num(row.mean_cur),
      referenceStd: stdRef,
      binEdges: edges,
      referenceBinCounts: refBins,
      currentBinCounts: curBins,
    },
  }
}

/**
 * The R-7 quantile at level `p` of the reference values, over the sorted table's arrays
 * `vs` (values) and `cum_r` (cumulative reference counts) of a reference of `n_ref` values:
 * ClickHouse's quantileExactInclusive, step for step (the same Float64 operations).
 */
function quantileAt(p: string): string {
  const h = `(${p} * (n_ref - 1) + 1)`
  const j = `toUInt64(${h})`
  const rank = (k: string) => `vs[arrayFirstIndex(cum -> cum >= ${k}, cum_r)]`
  return `multiIf(${j} >= n_ref, ${rank('n_ref')}, ${j} < 1, ${rank('1')}, ${rank(j)} + (${h} - ${j}) * (${rank(`${j} + 1`)} - ${rank(j)}))`
}

export async function countSets(client: ClickHouseClient, query: string, params: Record<string, unknown>) {
  const [row] = await select<{ n_ref: number; n_cur: number }>(client, query, params)
  return { nRef: num(row?.n_ref ?? 0), nCur: num(row?.n_cur ?? 0) }
}
