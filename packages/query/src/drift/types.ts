export interface DriftStatistic {
  /** psi | ks | wasserstein | wasserstein_normed | chi2 | js | centroid_l2 | centroid_cosine */
  name: string
  value: number
  pValue: number | null
  /** how pValue was computed, where it matters (ks: exact | asymptotic) */
  pValueMethod?: string
  threshold: number | null
  /** this statistic against its own threshold; null when it has none (informational) */
  drifted: boolean | null
  /**
   * `verdict`: the one statistic the signal's `drifted` is taken from (`method`);
   * `supporting`: shown beside it as evidence, never a verdict of its own. A
   * supporting row over its threshold under a "no drift" verdict is not a contradiction.
   */
  role: 'verdict' | 'supporting'
}

/** The signal's verdict from the statistic named `method`; every other statistic is supporting. */
export function decide(stats: Array<Omit<DriftStatistic, 'role'>>, method: string | null): { drifted: boolean | null; statistics: DriftStatistic[] } {
  const statistics = stats.map((s): DriftStatistic => ({ ...s, role: s.name === method ? 'verdict' : 'supporting' }))
  return { drifted: statistics.find((s) => s.role === 'verdict')?.drifted ?? null, statistics }
}

export interface SignalDrift {
  signal: string
  type: 'numeric' | 'categorical' | 'text' | 'embedding'
  nReference: number
  nCurrent: number
  /** ok, or not_enough_data when either side had fewer than minSamples values */
  status: 'ok' | 'not_enough_data'
  /** the statistic the verdict comes from (Evidently's choice unless overridden) */
  method: string | null
  drifted: boolean | null
  statistics: DriftStatistic[]
  /** psi bands (psiLevel()): none < 0.1 ≤ moderate ≤ 0.25 < major */
  psiLevel?: 'none' | 'moderate' | 'major'
  detail?: Record<string, unknown>
}

export interface DriftThresholds {
  /** reference size at or below which p-value tests decide (Evidently: 1000) */
  smallReferenceMax: number
  ksPValue: number
  chi2PValue: number
  wassersteinNormed: number
  jsDistance: number
  psiModerate: number
  psiMajor: number
  textJsDistance: number
  /** centroid cosine distance; no published default, so none unless given */
  embeddingCosine: number | null
}

export const DEFAULT_THRESHOLDS: DriftThresholds = {
  smallReferenceMax: 1000,
  ksPValue: 0.05,
  chi2PValue: 0.05,
  wassersteinNormed: 0.1,
  jsDistance: 0.1,
  psiModerate: 0.1,
  psiMajor: 0.25,
  textJsDistance: 0.1,
  embeddingCosine: null,
}

/**
 * The PSI rule of thumb's band: < 0.1 none, 0.1–0.25 moderate, > 0.25 major (the
 * thresholds `psiModerate` and `psiMajor`): exactly 0.25 is still moderate.
 */
export function psiLevel(psi: number, t: Pick<DriftThresholds, 'psiModerate' | 'psiMajor'>): 'none' | 'moderate' | 'major' {
  return psi > t.psiMajor ? 'major' : psi >= t.psiModerate ? 'moderate' : 'none'
}

export type NumericMethod = 'auto' | 'ks' | 'wasserstein' | 'psi'
export type CategoricalMethod = 'auto' | 'chi2' | 'js' | 'psi'
