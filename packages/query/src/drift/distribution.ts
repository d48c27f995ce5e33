import { chiSquaredSf, fisherExactTwoSided } from '../stats/distributions.js'

/** Evidently replaces an empty bin's share by this before taking logs. */
export const PSI_EPSILON = 1e-4

/** One category's count in each set. */
export interface CategoryCounts {
  cat: string
  r: number
  c: number
}

export interface DistributionStats {
  nRef: number
  nCur: number
  k: number
  chi2: number
  chi2Yates: number
  minExpected: number
  /** the two categories' (reference, current) counts when there are exactly two */
  cells: Array<[number, number]>
  js: number
  psi: number
  /** the 20 categories with the largest share, summed over both sides: (category, reference share, current share) */
  top: Array<[string, number, number]>
}

/**
 * From (category, reference count, current count) rows: the χ² statistic of homogeneity of
 * the 2 × k contingency table (E = row total · column total / N, as scipy.stats.chi2_contingency;
 * with Yates' correction too, which scipy applies at one degree of freedom), the smallest
 * expected count, Jensen–Shannon distance with natural log (range [0, √ln2 ≈ 0.8326],
 * Evidently's base), and PSI over the categories (zero shares floored at 1e-4).
 * Sums run in category order, so a signal's figures do not depend on which other signals
 * were counted in the same query.
 */
export function distributionStats(rows: readonly CategoryCounts[]): DistributionStats {
  const cells = [...rows].sort((a, b) => (a.cat < b.cat ? -1 : a.cat > b.cat ? 1 : 0))
  let nr = 0
  let nc = 0
  for (const { r, c } of cells) {
    nr += r
    nc += c
  }
  const n = nr + nc
  let chi2 = 0
  let chi2Yates = 0
  let minExpected = Number.POSITIVE_INFINITY
  let klRef = 0
  let klCur = 0
  let psi = 0
  for (const { r, c } of cells) {
    const er = (nr * (r + c)) / n
    const ec = (nc * (r + c)) / n
    chi2 += (r - er) ** 2 / er + (c - ec) ** 2 / ec
    chi2Yates += Math.max(0, Math.abs(r - er) - 0.5) ** 2 / er + Math.max(0, Math.abs(c - ec) - 0.5) ** 2 / ec
    minExpected = Math.min(minExpected, (Math.min(nr, nc) * (r + c)) / n)
    const p = r / nr
    const q = c / nc
    const m = (p + q) / 2
    if (r > 0) klRef += p * Math.log(p / m)
    if (c > 0) klCur += q * Math.log(q / m)
    const a = c === 0 ? PSI_EPSILON : q
    const e = r === 0 ? PSI_EPSILON : p
    psi += (a - e) * Math.log(a / e)
  }
  const top = cells
    .map((x): [string, number, number] => [x.cat, x.r / nr, x.c / nc])
    .sort((a, b) => b[1] + b[2] - (a[1] + a[2]))
    .slice(0, 20)
  return {
    nRef: nr,
    nCur: nc,
    k: cells.length,
    chi2,
    chi2Yates,
    minExpected: cells.length === 0 ? Number.NaN : minExpected,
    cells: cells.length === 2 ? cells.map((x): [number, number] => [x.r, x.c]) : [],
    js: Math.sqrt(Math.max(0, 0.5 * klRef + 0.5 * klCur)),
    psi,
    top,
  }
}

/** Expected counts below this make the χ² approximation poor (Cochran's rule). */
const SMALL_EXPECTED = 5

/**
 * The χ² test of homogeneity, decided as scipy.stats.chi2_contingency would, except
 * that a 2 × 2 table with an expected count below 5 gets Fisher's exact test. A larger
 * table with small expected counts keeps the asymptotic p-value (detail.minExpected says so).
 */
export function homogeneity(row: DistributionStats): { statistic: number; p: number; method: string } {
  const k = row.k
  if (k < 2) return { statistic: 0, p: 1, method: 'chi2_contingency' }
  if (k > 2) return { statistic: row.chi2, p: chiSquaredSf(row.chi2, k - 1), method: 'chi2_contingency' }
  const yates = row.chi2Yates
  const [first, second] = row.cells
  if (row.minExpected < SMALL_EXPECTED && first && second) {
    return { statistic: yates, p: fisherExactTwoSided(first[0], second[0], first[1], second[1]), method: 'fisher_exact' }
  }
  return { statistic: yates, p: chiSquaredSf(yates, 1), method: 'chi2_contingency_yates' }
}
