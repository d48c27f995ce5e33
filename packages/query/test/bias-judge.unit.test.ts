import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { judge } from '../src/bias/report.js'

type Row = Parameters<typeof judge>[2][number]

/** A group of −1/+1 thumbs: `up` of `n` traces scored +1, the rest −1 (per-trace mean, sample variance). */
function thumbs(g: string, up: number, n: number): Row {
  const mean = (2 * up - n) / n
  const sq = up * (1 - mean) ** 2 + (n - up) * (-1 - mean) ** 2
  return { g, n, k: n - up, mean, var: sq / (n - 1), lo: up === n ? 1 : -1, p95: 0 }
}

describe('bias on a signed score scale', () => {
  it('thumbs −1/+1 with means −0.2 and −0.8: the worse group has the lower ratio, breaks four-fifths and is flagged', () => {
    const r = judge('attr:grp', 'score_mean', [thumbs('good', 40, 100), thumbs('bad', 10, 100)], 30, 0.05, 0.8)
    expect(r.bestGroup).toBe('good')
    expect(r.ratioBaseline).toBe(-1)
    const bad = r.groups.find((g) => g.group === 'bad')
    // Measured from −1, the shares of thumbs-up: 0.1 / 0.4. Welch z = 0.6 / √(0.36364/100 + 0.96970/100)
    // = 5.196152422706631, two-sided normal p (2 · scipy.stats.norm.sf) = 2.034554614544436e-07.
    expect(bad?.ratio).toBeCloseTo(0.25, 12)
    expect(bad?.pValue).toBeCloseTo(2.034554614544436e-7, 16)
    expect(bad).toMatchObject({ fourFifthsViolation: true, significant: true, pValueMethod: 'welch_z' })
    expect(r.lowestRatio).toEqual({ group: 'bad', ratio: bad?.ratio })
    expect(r.demographicParityRatio).toBeCloseTo(0.25, 12)
    expect(r.demographicParityDifference).toBeCloseTo(0.6, 12)
    expect(r.flagged).toBe(true)
  })

  it('any thumbs groups: the best has ratio 1, every ratio is in [0, 1] and ordered as the means, lowestRatio names the lowest mean', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 200 }), { minLength: 2, maxLength: 6 }), (ups) => {
        const rows = ups.map((up, i) => thumbs(`g${i}`, up, 200))
        const r = judge('attr:grp', 'score_mean', rows, 30, 0.05, 0.8)
        const best = r.groups.find((g) => g.group === r.bestGroup)
        expect(best?.ratio).toBe(1)
        for (const a of r.groups) {
          expect(a.ratio).toBeGreaterThanOrEqual(0)
          expect(a.ratio).toBeLessThanOrEqual(1)
          for (const b of r.groups) if ((a.value as number) < (b.value as number)) expect(a.ratio).toBeLessThan(b.ratio as number)
        }
        const lowest = Math.min(...r.groups.map((g) => g.value as number))
        expect(r.groups.find((g) => g.group === r.lowestRatio?.group)?.value).toBe(lowest)
        expect(r.demographicParityRatio).toBeCloseTo(r.lowestRatio?.ratio as number, 12)
      }),
      { seed: 20250601, numRuns: 500 },
    )
  })

  it('a scale with no negative value keeps ratios of the means themselves (0/1 thumbs, output lengths)', () => {
    const rows: Row[] = [
      { g: 'long', n: 50, k: 0, mean: 100, var: 25, lo: 80, p95: 0 },
      { g: 'short', n: 50, k: 0, mean: 60, var: 25, lo: 40, p95: 0 },
    ]
    const r = judge('attr:grp', 'output_length', rows, 30, 0.05, 0.8)
    expect(r.ratioBaseline).toBe(0)
    expect(r.groups.find((g) => g.group === 'short')?.ratio).toBeCloseTo(0.6, 12)
    expect(r.demographicParityRatio).toBeCloseTo(0.6, 12)
  })
})
