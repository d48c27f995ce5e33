import fc from 'fast-check'
import { describe, expect, it } from 'vitest'

describe('asymptotic KS p-value', () => {
  it('gives the classic 5% critical value: Q_KS(1.358) = 0.05 (Kolmogorov distribution tables)', async () => {
    const { kolmogorovSf } = await import('../src/stats/distributions.js')
    expect(kolmogorovSf(1.3581)).toBeCloseTo(0.05, 4)
    expect(kolmogorovSf(1.6276)).toBeCloseTo(0.01, 4)
    expect(kolmogorovSf(0)).toBe(1)
  })
})

describe("Fisher's exact test, two-sided", () => {
  it.each([
    [[40, 0, 39, 1], 1.0],
    [[8, 2, 1, 5], 0.034965034965034975],
    [[3, 1, 1, 3], 0.48571428571428565],
    [[100, 5, 90, 15], 0.03216472502352807],
    [[0, 0, 5, 5], 1.0],
    [[1, 9, 11, 3], 0.0027594561852200836],
  ])('matches scipy.stats.fisher_exact on %j', async ([a, b, c, d], p) => {
    const { fisherExactTwoSided } = await import('../src/stats/distributions.js')
    expect(fisherExactTwoSided(a as number, b as number, c as number, d as number)).toBeCloseTo(p, 12)
  })
})

describe('Wilson interval', () => {
  // scipy.stats.binomtest(k, n).proportion_ci(method='wilson')
  it.each([
    [0, 100, 0, 0.03699349820698568],
    [100, 100, 0.9630065017930143, 1],
    [0, 10, 0, 0.27753279986288926],
    [3, 7, 0.1582198552514697, 0.7495416354723428],
    [1, 1, 0.20654931437723745, 1],
    [12, 99, 0.07071551497720936, 0.20000661537720532],
  ])('matches scipy for %i of %i', async (k, n, low, high) => {
    const { wilson } = await import('../src/stats/proportions.js')
    const [lo, hi] = wilson(k, n)
    expect(lo).toBeCloseTo(low, 14)
    expect(hi).toBeCloseTo(high, 14)
  })

  it('is exactly 0 below no events and exactly 1 above all events, and holds the observed rate', async () => {
    const { wilson } = await import('../src/stats/proportions.js')
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10_000_000 }), fc.double({ min: 0, max: 1, noNaN: true }), (n, share) => {
        const k = Math.round(share * n)
        const [lo, hi] = wilson(k, n)
        expect(lo <= k / n && k / n <= hi).toBe(true)
        if (k === 0) expect(lo).toBe(0)
        else expect(lo).toBeGreaterThan(0)
        if (k === n) expect(hi).toBe(1)
        else expect(hi).toBeLessThan(1)
      }),
      { seed: 20250601, numRuns: 2000 },
    )
  })
})

describe('difference of two means', () => {
  it('with no spread in either group: a non-zero gap is certain (p = 0, scipy ttest_ind gives t = inf), no gap is p = 1', async () => {
    const { welchZ } = await import('../src/stats/proportions.js')
    // scipy.stats.ttest_ind([100]*50, [40]*50, equal_var=False) -> statistic inf, pvalue 0.0
    expect(welchZ(50, 40, 0, 50, 100, 0)).toEqual({ p: 0, method: 'zero_variance' })
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 1_000_000 }),
        fc.integer({ min: 2, max: 1_000_000 }),
        // Integer outcomes (token counts, thumbs): two unequal values differ by at least 1e-6 of their size.
        fc.integer({ min: -1_000_000, max: 1_000_000 }),
        fc.integer({ min: -1_000_000, max: 1_000_000 }),
        (n1, n2, a, b) => {
          const t = welchZ(n1, a, 0, n2, b, 0)
          expect(t).toEqual({ p: a === b ? 1 : 0, method: 'zero_variance' })
        },
      ),
      { seed: 20250601, numRuns: 2000 },
    )
  })

  it('reads the rounding of ClickHouse avg/varSamp over equal values as no spread and no gap', async () => {
    const { welchZ } = await import('../src/stats/proportions.js')
    // SELECT avg(0.1), varSamp(0.1) FROM numbers(50) -> 0.09999999999999998, 1.1328806373726087e-17;
    // over numbers(1000000) -> 0.10000000000000583, 0
    expect(welchZ(50, 0.09999999999999998, 1.1328806373726087e-17, 1_000_000, 0.10000000000000583, 0)).toEqual({ p: 1, method: 'zero_variance' })
    expect(welchZ(50, 0.09999999999999998, 1.1328806373726087e-17, 50, 0.2, 0)).toEqual({ p: 0, method: 'zero_variance' })
  })

  it('with spread, is the two-sided normal p-value of the Welch z; a sample of one value gives no test', async () => {
    const { welchZ } = await import('../src/stats/proportions.js')
    // z = (10 − 12) / √(4/40 + 9/50) = −3.7796447300922718; 2·scipy.stats.norm.sf(3.7796447300922718)
    expect(welchZ(40, 10, 4, 50, 12, 9)?.method).toBe('z')
    expect(welchZ(40, 10, 4, 50, 12, 9)?.p).toBeCloseTo(0.00015705228423075165, 12)
    expect(welchZ(1, 10, Number.NaN, 50, 12, 9)).toBeNull()
  })
})
