import { describe, expect, it } from 'vitest'
import { TEXT_SAMPLE_SPANS, sampleThreshold } from '../src/drift/categorical.js'
import { distributionStats } from '../src/drift/distribution.js'

const table = (ref: number[], cur: number[]) => ref.map((r, i) => ({ cat: String.fromCharCode(97 + i), r, c: cur[i] as number }))

describe('categorical drift statistics from category counts', () => {
  it('χ² of homogeneity matches scipy.stats.chi2_contingency', () => {
    // chi2_contingency([[10]*6, [16, 18, 16, 14, 12, 12]]) -> statistic 0.8172004762913849
    const s = distributionStats(table([10, 10, 10, 10, 10, 10], [16, 18, 16, 14, 12, 12]))
    expect(s.chi2).toBeCloseTo(0.8172004762913849, 12)
    expect(s.k).toBe(6)
    expect([s.nRef, s.nCur]).toEqual([60, 88])
    // 2 x 2 with Yates: chi2_contingency([[60, 40], [40, 60]]) -> 7.22
    expect(distributionStats(table([60, 40], [40, 60])).chi2Yates).toBeCloseTo(7.22, 10)
  })

  it('Jensen-Shannon distance in natural log matches scipy jensenshannon', () => {
    // jensenshannon([1.0, 0.0], [0.5, 0.5]) -> 0.46450140402245893
    expect(distributionStats(table([10, 0], [5, 5])).js).toBeCloseTo(0.46450140402245893, 12)
    expect(distributionStats(table([10, 0], [0, 10])).js).toBeCloseTo(Math.sqrt(Math.LN2), 12)
  })

  it('gives the same figures, bit for bit, whatever order the categories come in', () => {
    const rows = Array.from({ length: 300 }, (_, i) => ({ cat: `c${i}`, r: (i * 7919) % 101, c: (i * 104729) % 97 }))
    const shuffled = [...rows].sort((a, b) => ((a.r * 31 + a.c) % 17) - ((b.r * 31 + b.c) % 17))
    expect(distributionStats(shuffled)).toEqual(distributionStats(rows))
  })

  it('no rows: zero sizes, no figures', () => {
    const s = distributionStats([])
    expect([s.nRef, s.nCur, s.k]).toEqual([0, 0, 0])
    expect(s.minExpected).toBeNaN()
  })
})

describe('text sampling', () => {
  it('keeps every span of a side up to the sample size, and about that many of a larger one', () => {
    expect(sampleThreshold(0)).toBe(1_000_000)
    expect(sampleThreshold(TEXT_SAMPLE_SPANS)).toBe(1_000_000)
    for (const n of [TEXT_SAMPLE_SPANS + 1, 250_000, 1_000_000, 37_000_000]) {
      const kept = (n * sampleThreshold(n)) / 1_000_000
      expect(kept).toBeGreaterThanOrEqual(TEXT_SAMPLE_SPANS)
      expect(kept).toBeLessThan(TEXT_SAMPLE_SPANS + n / 1_000_000 + 1)
    }
  })
})

describe('PSI bands', () => {
  it('follow the rule of thumb: < 0.1 none, 0.1 to 0.25 moderate with both ends, > 0.25 major', async () => {
    const { DEFAULT_THRESHOLDS, psiLevel } = await import('../src/drift/types.js')
    expect([0, 0.0999, 0.1, 0.2, 0.25, 0.2500001, 3].map((psi) => psiLevel(psi, DEFAULT_THRESHOLDS))).toEqual([
      'none',
      'none',
      'moderate',
      'moderate',
      'moderate',
      'major',
      'major',
    ])
  })
})
