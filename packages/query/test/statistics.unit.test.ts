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
