import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { drift, type SignalDrift } from '../src/index.js'
import { insertSpans, openStore, span } from './helpers/store.js'
import type { Store } from '@spanlens/ingest'

let store: Store
let close: () => Promise<void>

// Each scenario lives in its own project so the data sets never mix.
const num = (project: string, side: 'ref' | 'cur', values: number[]) =>
  values.map((v) => span({ project_id: project, release: side, attributes: { x: String(v) } }))
const cat = (project: string, side: 'ref' | 'cur', counts: Record<string, number>) =>
  Object.entries(counts).flatMap(([c, n]) => Array.from({ length: n }, () => span({ project_id: project, release: side, finish_reason: c })))

beforeAll(async () => {
  ;({ store, close } = await openStore())
  await insertSpans(store, [
    // scipy.stats.ks_2samp([1,2,3],[4,5,6]) -> statistic 1.0, pvalue 0.1 (exact: 2 / C(6,3))
    ...num('ks', 'ref', [1, 2, 3]),
    ...num('ks', 'cur', [4, 5, 6]),
    // scipy.stats.wasserstein_distance([0, 1, 3], [5, 6, 8]) -> 5.0
    ...num('w1', 'ref', [0, 1, 3]),
    ...num('w1', 'cur', [5, 6, 8]),
    // scipy: wasserstein_distance([0, 1], [0, 1], [3, 1], [2, 2]) -> 0.25 (weights as repeated rows)
    ...num('w2', 'ref', [0, 0, 0, 1]),
    ...num('w2', 'cur', [0, 0, 1, 1]),
    // all-equal values on both sides
    ...num('flat', 'ref', Array(50).fill(7)),
    ...num('flat', 'cur', Array(50).fill(7)),
    // NaN and negative inputs: NaN dropped, negatives kept
    ...num('nan', 'ref', [-3, -2, -1, Number.NaN, 0, 1, 2, 3]),
    ...num('nan', 'cur', [-3, -2, -1, 0, 1, 2, 3, Number.NaN]),
    // scipy.stats.chisquare([16, 18, 16, 14, 12, 12]) -> statistic 2.0, pvalue 0.84914503608460956
    ...cat('chi1', 'ref', { a: 10, b: 10, c: 10, d: 10, e: 10, f: 10 }),
    ...cat('chi1', 'cur', { a: 16, b: 18, c: 16, d: 14, e: 12, f: 12 }),
    // chisquare([16, 18, 16, 14, 12, 12], f_exp=[16, 16, 16, 16, 16, 8]) -> 3.5, pvalue 0.62338762774958223
    ...cat('chi2', 'ref', { a: 16, b: 16, c: 16, d: 16, e: 16, f: 8 }),
    ...cat('chi2', 'cur', { a: 16, b: 18, c: 16, d: 14, e: 12, f: 12 }),
    // scipy.spatial.distance.jensenshannon([1.0, 0.0], [0.5, 0.5]) -> 0.46450140402245893
    ...cat('js1', 'ref', { a: 10 }),
    ...cat('js1', 'cur', { a: 5, b: 5 }),
    // jensenshannon([1.0, 0.0, 0.0], [0.0, 1.0, 0.0], 2.0) -> 1.0 (base 2) = sqrt(ln 2) in base e
    ...cat('js2', 'ref', { a: 10 }),
    ...cat('js2', 'cur', { b: 10 }),
  ])
  // PSI: deciles of 1..100 reference; current all in the top decile.
  const ref = Array.from({ length: 100 }, (_, i) => i + 1)
  await insertSpans(store, [...num('psi', 'ref', ref), ...num('psi', 'cur', Array(100).fill(1000))])
})
afterAll(async () => close())

const stat = (s: SignalDrift | undefined, name: string) => s?.statistics.find((x) => x.name === name)
async function run(project: string, signal: string, minSamples = 2) {
  const report = await drift(store.client, project, { dimension: 'release', reference: 'ref', current: 'cur', signals: [signal], minSamples })
  return report.signals[0]
}

describe('numeric drift matches scipy reference values', () => {
  it('KS statistic and exact p-value (ks_2samp [1,2,3] vs [4,5,6])', async () => {
    const s = await run('ks', 'attr_num:x')
    expect(stat(s, 'ks')?.value).toBeCloseTo(1, 12)
    expect(stat(s, 'ks')?.pValue).toBeCloseTo(0.1, 12)
    expect(stat(s, 'ks')?.pValueMethod).toBe('exact')
    // n_ref <= 1000: Evidently decides by KS p <= 0.05; p = 0.1 is not drift
    expect(s?.method).toBe('ks')
    expect(s?.drifted).toBe(false)
  })

  it('Wasserstein-1 raw and normed by the reference std', async () => {
    const s = await run('w1', 'attr_num:x')
    expect(stat(s, 'wasserstein')?.value).toBeCloseTo(5.0, 12)
    const std = Math.sqrt(((0 - 4 / 3) ** 2 + (1 - 4 / 3) ** 2 + (3 - 4 / 3) ** 2) / 3)
    expect(stat(s, 'wasserstein_normed')?.value).toBeCloseTo(5.0 / std, 10)
    const s2 = await run('w2', 'attr_num:x')
    expect(stat(s2, 'wasserstein')?.value).toBeCloseTo(0.25, 12)
  })

  it('PSI with reference decile bins and epsilon 1e-4 for empty bins', async () => {
    const s = await run('psi', 'attr_num:x')
    // 10 bins of 10% each in reference; current: 100% in the top bin, others empty.
    const e = 0.1
    const expected = 9 * (1e-4 - e) * Math.log(1e-4 / e) + (1 - e) * Math.log(1 / e)
    expect(stat(s, 'psi')?.value).toBeCloseTo(expected, 9)
    expect(s?.psiLevel).toBe('major')
  })

  it('all-equal values: zero distances, one de-duplicated edge, no drift', async () => {
    const s = await run('flat', 'attr_num:x')
    expect(stat(s, 'ks')?.value).toBe(0)
    expect(stat(s, 'wasserstein')?.value).toBe(0)
    expect(stat(s, 'psi')?.value).toBeCloseTo(0, 12)
    expect((s?.detail?.binEdges as number[]).length).toBe(1)
    expect(s?.drifted).toBe(false)
  })

  it('drops NaN values and keeps negatives', async () => {
    const s = await run('nan', 'attr_num:x')
    expect(s?.nReference).toBe(7)
    expect(s?.nCurrent).toBe(7)
    expect(stat(s, 'wasserstein')?.value).toBeCloseTo(0, 12)
  })
})

describe('categorical drift matches scipy reference values', () => {
  it('chi-squared goodness of fit against reference shares (chisquare, uniform expected)', async () => {
    const s = await run('chi1', 'finish_reason')
    expect(stat(s, 'chi2')?.value).toBeCloseTo(2.0, 10)
    expect(stat(s, 'chi2')?.pValue).toBeCloseTo(0.84914503608460956, 9)
    expect(s?.drifted).toBe(false)
  })

  it('chi-squared with unequal expected shares (chisquare f_exp)', async () => {
    const s = await run('chi2', 'finish_reason')
    expect(stat(s, 'chi2')?.value).toBeCloseTo(3.5, 10)
    expect(stat(s, 'chi2')?.pValue).toBeCloseTo(0.62338762774958223, 9)
  })

  it('Jensen-Shannon distance in natural log (scipy jensenshannon)', async () => {
    expect(stat(await run('js1', 'finish_reason'), 'js')?.value).toBeCloseTo(0.46450140402245893, 12)
    expect(stat(await run('js2', 'finish_reason'), 'js')?.value).toBeCloseTo(Math.sqrt(Math.LN2), 12)
  })
})

describe('drift requests', () => {
  it('too few samples is SPANLENS_NOT_ENOUGH_DATA, not a verdict', async () => {
    await expect(drift(store.client, 'ks', { dimension: 'release', reference: 'ref', current: 'cur' })).rejects.toMatchObject({
      code: 'SPANLENS_NOT_ENOUGH_DATA',
      statusCode: 422,
    })
  })

  it('an empty window is SPANLENS_NOT_ENOUGH_DATA', async () => {
    await expect(
      drift(store.client, 'psi', { reference: { from: '2020-01-01T00:00:00Z', to: '2020-01-02T00:00:00Z' }, current: { from: '2020-01-02T00:00:00Z', to: '2020-01-03T00:00:00Z' } }),
    ).rejects.toMatchObject({ code: 'SPANLENS_NOT_ENOUGH_DATA' })
  })

  it('an unknown signal is SPANLENS_BAD_REQUEST', async () => {
    await expect(drift(store.client, 'psi', { dimension: 'release', reference: 'ref', current: 'cur', signals: ['nope'] })).rejects.toMatchObject({
      code: 'SPANLENS_BAD_REQUEST',
    })
  })

  it('project isolation: another project sees nothing', async () => {
    await expect(drift(store.client, 'other', { dimension: 'release', reference: 'ref', current: 'cur', minSamples: 2 })).rejects.toMatchObject({
      code: 'SPANLENS_NOT_ENOUGH_DATA',
    })
  })
})
