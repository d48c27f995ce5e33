import { describe, expect, it } from 'vitest'

describe('asymptotic KS p-value', () => {
  it('gives the classic 5% critical value: Q_KS(1.358) = 0.05 (Kolmogorov distribution tables)', async () => {
    const { kolmogorovSf } = await import('../src/stats/distributions.js')
    expect(kolmogorovSf(1.3581)).toBeCloseTo(0.05, 4)
    expect(kolmogorovSf(1.6276)).toBeCloseTo(0.01, 4)
    expect(kolmogorovSf(0)).toBe(1)
  })
})
