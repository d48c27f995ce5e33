import { chiSquaredSf, normalTwoSided, Z95 } from './distributions.js'

/** Wilson score interval for k successes out of n (95% by default). */
export function wilson(k: number, n: number, z = Z95): [number, number] {
  if (n === 0) return [0, 1]
  const p = k / n
  const z2 = z * z
  const denom = 1 + z2 / n
  const centre = (p + z2 / (2 * n)) / denom
  const half = (z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / denom
  return [Math.max(0, centre - half), Math.min(1, centre + half)]
}

/** Pooled two-proportion z-test: z = (p1 − p2) / √(P(1−P)(1/n1 + 1/n2)). */
export function twoProportionZ(k1: number, n1: number, k2: number, n2: number): { z: number; p: number } {
  const pooled = (k1 + k2) / (n1 + n2)
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
  if (se === 0) return { z: 0, p: 1 }
  const z = (k1 / n1 - k2 / n2) / se
  return { z, p: normalTwoSided(z) }
}

/** Welch z for two means from (n, mean, variance) summaries (normal approximation). */
export function welchZ(n1: number, m1: number, v1: number, n2: number, m2: number, v2: number): { z: number; p: number } {
  const se = Math.sqrt(v1 / n1 + v2 / n2)
  if (!(se > 0)) return { z: 0, p: 1 }
  const z = (m1 - m2) / se
  return { z, p: normalTwoSided(z) }
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
