import { chiSquaredSf, normalTwoSided, Z95 } from './distributions.js'

/**
 * Wilson score interval for k successes out of n (95% by default). Its bounds at k = 0 and
 * k = n are exactly 0 and 1 (centre and half-width are then equal), which centre − half in
 * floating point misses by rounding (3.5e-18 at 0 of 100).
 */
export function wilson(k: number, n: number, z = Z95): [number, number] {
  if (n === 0) return [0, 1]
  const p = k / n
  const z2 = z * z
  const denom = 1 + z2 / n
  const centre = (p + z2 / (2 * n)) / denom
  const half = (z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / denom
  return [k <= 0 ? 0 : Math.max(0, centre - half), k >= n ? 1 : Math.min(1, centre + half)]
}

/** Pooled two-proportion z-test: z = (p1 − p2) / √(P(1−P)(1/n1 + 1/n2)). */
export function twoProportionZ(k1: number, n1: number, k2: number, n2: number): { z: number; p: number } {
  const pooled = (k1 + k2) / (n1 + n2)
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
  if (se === 0) return { z: 0, p: 1 }
  const z = (k1 / n1 - k2 / n2) / se
  return { z, p: normalTwoSided(z) }
}

/**
 * How a difference of means was tested: `z` (Welch's or the paired normal approximation),
 * or `zero_variance` when neither sample varies, so the difference is known without error.
 */
export type MeanTestMethod = 'z' | 'zero_variance'

/**
 * Rounding in ClickHouse's avg and varSamp of equal Float64 values, relative to their size:
 * 50 values of 0.1 average to 0.09999999999999998 (2e-16 off) with a variance of 1.1e-17 (a
 * standard deviation 3.4e-8 of the mean), a million to 0.10000000000000583 (5.8e-14 off). A gap
 * under DIFFERENCE_ROUNDING and a standard error under SPREAD_ROUNDING of the means' size are
 * rounding, not data.
 */
const DIFFERENCE_ROUNDING = 1e-9
const SPREAD_ROUNDING = 1e-7

/**
 * The two-sided p-value of a difference `d` of means with standard error `se`, the means
 * being of magnitude `scale`. With no spread (se = 0) no test is needed: a non-zero difference
 * is certain (p = 0, as scipy's ttest_ind/ttest_rel give t = ±inf, p = 0) and a zero difference
 * shows none (p = 1; scipy gives nan). null when se is unknown (a sample of one value).
 */
export function meanDifferenceTest(d: number, se: number, scale: number): { p: number; method: MeanTestMethod } | null {
  if (!Number.isFinite(se) || !Number.isFinite(d)) return null
  const flat = se <= SPREAD_ROUNDING * Math.abs(scale)
  if (Math.abs(d) <= DIFFERENCE_ROUNDING * Math.abs(scale)) return { p: 1, method: flat ? 'zero_variance' : 'z' }
  if (flat) return { p: 0, method: 'zero_variance' }
  return { p: normalTwoSided(d / se), method: 'z' }
}

/** Welch z for two means from (n, mean, sample variance) summaries (normal approximation). */
export function welchZ(n1: number, m1: number, v1: number, n2: number, m2: number, v2: number): { p: number; method: MeanTestMethod } | null {
  return meanDifferenceTest(m1 - m2, Math.sqrt(v1 / n1 + v2 / n2), Math.max(Math.abs(m1), Math.abs(m2)))
}

/** χ² test of independence on a groups × {bad, good} table; no Yates correction. */
export function chiSquaredIndependence(groups: Array<{ k: number; n: number }>): { statistic: number; df: number; p: number } {
  const n = groups.reduce((s, g) => s + g.n, 0)
  const k = groups.reduce((s, g) => s + g.k, 0)
  let stat = 0
  for (const g of groups) {
    for (const [obs, colTotal] of [
      [g.k, k],
      [g.n - g.k, n - k],
    ] as const) {
      const e = (g.n * colTotal) / n
      if (e > 0) stat += (obs - e) ** 2 / e
    }
  }
  const df = groups.length - 1
  return { statistic: stat, df, p: df > 0 && k > 0 && k < n ? chiSquaredSf(stat, df) : 1 }
}
