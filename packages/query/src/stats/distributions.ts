/**
 * Tail probabilities for test statistics whose sufficient statistics ClickHouse
 * has already reduced to a handful of numbers (never raw rows). Accuracy ~1e-10
 * for the gamma series/continued fraction (Numerical Recipes 6.2), ~1e-15 for erfc via gamma.
 */

function lnGamma(x: number): number {
  // Lanczos approximation (g = 7, n = 9).
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ]
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - lnGamma(1 - x)
  x -= 1
  let a = c[0] as number
  const t = x + 7.5
  for (let i = 1; i < 9; i++) a += (c[i] as number) / (x + i)
  return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(a)
}

/** Regularized upper incomplete gamma Q(a, x). */
function gammaQ(a: number, x: number): number {
  if (x <= 0) return 1
  if (!Number.isFinite(x)) return 0
  if (x < a + 1) {
    let sum = 1 / a
    let del = sum
    let ap = a
    for (let n = 0; n < 10_000; n++) {
      ap += 1
      del *= x / ap
      sum += del
      if (Math.abs(del) < Math.abs(sum) * 1e-16) break
    }
    return 1 - sum * Math.exp(-x + a * Math.log(x) - lnGamma(a))
  }
  const tiny = 1e-300
  let b = x + 1 - a
  let c = 1 / tiny
  let d = 1 / b
  let h = d
  for (let i = 1; i < 10_000; i++) {
    const an = -i * (i - a)
    b += 2
    d = an * d + b
    if (Math.abs(d) < tiny) d = tiny
    c = b + an / c
    if (Math.abs(c) < tiny) c = tiny
    d = 1 / d
    const del = d * c
    h *= del
    if (Math.abs(del - 1) < 1e-16) break
  }
  return Math.exp(-x + a * Math.log(x) - lnGamma(a)) * h
}

/**
 * Two-sided p-value of Fisher's exact test on the 2×2 table [[a, b], [c, d]], as
 * scipy.stats.fisher_exact: the probability, under the hypergeometric law with the
 * table's margins, of every table at most as likely as the observed one (relative
 * tolerance 1e-7 for ties).
 */
export function fisherExactTwoSided(a: number, b: number, c: number, d: number): number {
  const row1 = a + b
  const col1 = a + c
  const n = a + b + c + d
  if (n === 0) return 1
  const lnChoose = (m: number, k: number) => lnGamma(m + 1) - lnGamma(k + 1) - lnGamma(m - k + 1)
  const lnDenominator = lnChoose(n, row1)
  const lnP = (x: number) => lnChoose(col1, x) + lnChoose(n - col1, row1 - x) - lnDenominator
  const observed = lnP(a)
  let p = 0
  for (let x = Math.max(0, row1 + col1 - n); x <= Math.min(row1, col1); x++) {
    const lp = lnP(x)
    if (lp <= observed + Math.log1p(1e-7)) p += Math.exp(lp)
  }
  return Math.min(1, p)
}

/** P(X >= x) for X ~ chi-squared with df degrees of freedom. */
export function chiSquaredSf(x: number, df: number): number {
  if (df <= 0 || Number.isNaN(x)) return Number.NaN
  return gammaQ(df / 2, x / 2)
}

/** Two-sided p-value of a standard normal statistic: P(|Z| >= |z|) = erfc(|z|/√2). */
export function normalTwoSided(z: number): number {
  if (Number.isNaN(z)) return Number.NaN
  const x = (Math.abs(z) / Math.SQRT2) ** 2
  // erfc(t) = Q(1/2, t²) for t >= 0
  return x === 0 ? 1 : gammaQ(0.5, x)
}

/** Two-sided exact binomial test p-value for k successes in n trials at p = 0.5 (McNemar exact). */
export function binomialTwoSidedHalf(k: number, n: number): number {
  if (n === 0) return 1
  const lo = Math.min(k, n - k)
  let tail = 0
  for (let i = 0; i <= lo; i++) tail += Math.exp(lnGamma(n + 1) - lnGamma(i + 1) - lnGamma(n - i + 1) - n * Math.LN2)
  return Math.min(1, 2 * tail)
}

export const Z95 = 1.959963984540054

/**
 * Asymptotic two-sided KS p-value: Q_KS(λ) = 2 Σ_{k≥1} (−1)^{k−1} e^{−2k²λ²},
 * λ = D·√(nm/(n+m)) (Kolmogorov's limiting distribution, as ClickHouse's 'asymp').
 */
export function kolmogorovSf(lambda: number): number {
  if (!(lambda > 0)) return 1
  if (lambda < 0.2) return 1
  let sum = 0
  for (let k = 1; k <= 100; k++) {
    const term = Math.exp(-2 * k * k * lambda * lambda)
    sum += (k % 2 === 1 ? 1 : -1) * term
    if (term < 1e-17) break
  }
  return Math.min(1, Math.max(0, 2 * sum))
}
