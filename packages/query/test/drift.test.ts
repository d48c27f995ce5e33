import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { drift, type SignalDrift } from '../src/index.js'
import { recordScore } from '../src/scores/record.js'
import { TEXT_SAMPLE_SPANS } from '../src/drift/categorical.js'
import { distributionStats } from '../src/drift/distribution.js'
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
    // scipy.stats.chi2_contingency([[10]*6, [16, 18, 16, 14, 12, 12]]) -> statistic 0.8172004762913849, pvalue 0.9759232943251624, dof 5
    ...cat('chi1', 'ref', { a: 10, b: 10, c: 10, d: 10, e: 10, f: 10 }),
    ...cat('chi1', 'cur', { a: 16, b: 18, c: 16, d: 14, e: 12, f: 12 }),
    // chi2_contingency([[16, 16, 16, 16, 16, 8], [16, 18, 16, 14, 12, 12]]) -> 1.6224089635854342, pvalue 0.8985262394026607
    ...cat('chi2', 'ref', { a: 16, b: 16, c: 16, d: 16, e: 16, f: 8 }),
    ...cat('chi2', 'cur', { a: 16, b: 18, c: 16, d: 14, e: 12, f: 12 }),
    // One span of a model new in the current set: chi2_contingency([[20, 20, 0], [20, 19, 1]]) -> 1.0256410256410255,
    // pvalue 0.5988042596485019 (a goodness-of-fit test with the new share floored at 1e-4 says chi2 248, p 1.4e-54)
    ...cat('newcat', 'ref', { a: 20, b: 20 }),
    ...cat('newcat', 'cur', { a: 20, b: 19, c: 1 }),
    // 2 x 2, large counts: chi2_contingency([[60, 40], [40, 60]]) (Yates) -> 7.22, pvalue 0.007209570764742524
    ...cat('yates', 'ref', { a: 60, b: 40 }),
    ...cat('yates', 'cur', { a: 40, b: 60 }),
    // 2 x 2, an expected count under 5: scipy.stats.fisher_exact([[8, 2], [1, 5]]) -> pvalue 0.034965034965034975
    // (chi2_contingency's Yates p-value would be 0.0510)
    ...cat('fisher', 'ref', { a: 8, b: 2 }),
    ...cat('fisher', 'cur', { a: 1, b: 5 }),
    // scipy.spatial.distance.jensenshannon([1.0, 0.0], [0.5, 0.5]) -> 0.46450140402245893
    ...cat('js1', 'ref', { a: 10 }),
    ...cat('js1', 'cur', { a: 5, b: 5 }),
    // jensenshannon([1.0, 0.0, 0.0], [0.0, 1.0, 0.0], 2.0) -> 1.0 (base 2) = sqrt(ln 2) in base e
    ...cat('js2', 'ref', { a: 10 }),
    ...cat('js2', 'cur', { b: 10 }),
  ])
  // A 1-3 rating: scipy.stats.chi2_contingency([[40, 30, 30], [25, 40, 35]]) -> 5.2747252747252755, pvalue 0.07154972350393342
  // (ks_2samp's p-value 0.21117008625127576); a reference over 1000: jensenshannon([600, 400, 200], [500, 500, 200]) -> 0.06493195110387728
  const repeat = (counts: number[]) => counts.flatMap((n, i) => Array(n).fill(i + 1) as number[])
  await insertSpans(store, [...num('few', 'ref', repeat([40, 30, 30])), ...num('few', 'cur', repeat([25, 40, 35]))])
  await insertSpans(store, [...num('few-big', 'ref', repeat([600, 400, 200])), ...num('few-big', 'cur', repeat([500, 500, 200]))])
  // PSI: deciles of 1..100 reference; current all in the top decile.
  const ref = Array.from({ length: 100 }, (_, i) => i + 1)
  await insertSpans(store, [...num('psi', 'ref', ref), ...num('psi', 'cur', Array(100).fill(1000))])
  // Two numeric attributes with ties and negatives, for the one-query numeric pass against a reference in JS.
  const pair = (side: 'ref' | 'cur', n: number, a: number, b: number) =>
    Array.from({ length: n }, (_, i) => span({ project_id: 'big', release: side, attributes: { x: String((((i * a) % 211) - 50) / 4), y: String((i * b) % 13) } }))
  await insertSpans(store, [...pair('ref', 1500, 37, 5), ...pair('cur', 1300, 53, 7)])
  // Prompts stored as structured messages (gen_ai.input.messages): 'alpha beta' then 'alpha gamma', 40 a side,
  // alone and after an identical system prompt of 5000 characters ('rule ' 1000 times)
  const prompt = (system: string | null, user: string) =>
    JSON.stringify([...(system === null ? [] : [{ role: 'system', parts: [{ type: 'text', content: system }] }]), { role: 'user', parts: [{ type: 'text', content: user }] }])
  for (const [project, system] of [['text-json', null], ['text-json-long', 'rule '.repeat(1000)]] as const) {
    await insertSpans(store, [
      ...Array.from({ length: 40 }, () => span({ project_id: project, release: 'ref', input: prompt(system, 'alpha beta') })),
      ...Array.from({ length: 40 }, () => span({ project_id: project, release: 'cur', input: prompt(system, 'alpha gamma') })),
    ])
  }
  // LLM calls failing 1% then 8% of the time, among five times as many healthy chain and tool spans.
  // Over the calls: chi2_contingency([[198, 2], [184, 16]]) (Yates) -> 9.8313, pvalue 0.0017157 (drift).
  // Over every span (n > 1000): JS distance 0.051, under 0.1 (not drift).
  const calls = (side: 'ref' | 'cur', errors: number) => [
    ...Array.from({ length: 200 }, (_, i) => span({ project_id: 'status-calls', release: side, status_code: i < errors ? 'error' : 'ok' })),
    ...Array.from({ length: 1000 }, (_, i) => span({ project_id: 'status-calls', release: side, kind: i % 2 === 0 ? 'chain' : 'tool', name: `step-${i % 3}` })),
  ]
  await insertSpans(store, [...calls('ref', 2), ...calls('cur', 16)])
  // More prompts a side than the text sample keeps (every span's start time its own).
  await store.client.command({
    query: `INSERT INTO spans (project_id, trace_id, span_id, kind, start_time, end_time, input, release)
      SELECT 'text', leftPad(lower(hex(number)), 32, '0'), leftPad(lower(hex(number)), 16, '0'), 'llm',
        now64(9) - toIntervalMillisecond(number * 37), now64(9) - toIntervalMillisecond(number * 37 - 100),
        concat('word', toString(number % 50), ' ', if(number % 2 = 0, 'alpha', 'beta'), if(number % 5 = 0 AND number % 2 = 1, ' gamma', ''), ' n', toString(number % 7)),
        if(number % 2 = 0, 'ref', 'cur')
      FROM numbers(${2 * (TEXT_SAMPLE_SPANS + 20_000)})`,
  })
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

/** The numeric statistics as their definitions say, straight from the values (numpy's default quantiles). */
function reference(ref: number[], cur: number[]) {
  const x = [...ref].sort((a, b) => a - b)
  const decile = (p: number) => {
    const h = p * (x.length - 1) + 1
    const j = Math.floor(h)
    if (j >= x.length) return x[x.length - 1] as number
    if (j < 1) return x[0] as number
    return (x[j - 1] as number) + (h - j) * ((x[j] as number) - (x[j - 1] as number))
  }
  const edges = [...new Set([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9].map(decile))].sort((a, b) => a - b)
  const bins = (vs: number[]) => Array.from({ length: edges.length + 1 }, (_, b) => vs.filter((v) => edges.filter((e) => e < v).length === b).length)
  const values = [...new Set([...ref, ...cur])].sort((a, b) => a - b)
  const ecdf = (vs: number[], v: number) => vs.filter((y) => y <= v).length / vs.length
  let d = 0
  let w1 = 0
  for (const [i, v] of values.entries()) {
    const gap = Math.abs(ecdf(ref, v) - ecdf(cur, v))
    d = Math.max(d, gap)
    w1 += gap * ((values[i + 1] ?? v) - v)
  }
  const [rb, cb] = [bins(ref), bins(cur)]
  let psi = 0
  for (const [i, r] of rb.entries()) {
    const a = cb[i] === 0 ? 1e-4 : (cb[i] as number) / cur.length
    const e = r === 0 ? 1e-4 : r / ref.length
    psi += (a - e) * Math.log(a / e)
  }
  const mean = ref.reduce((a, b) => a + b, 0) / ref.length
  const std = Math.sqrt(ref.reduce((a, b) => a + (b - mean) ** 2, 0) / ref.length)
  return { edges, rb, cb, d, w1, psi, std }
}

describe('numeric drift of few distinct values (Evidently: at most 5 are categories)', () => {
  it('a 1-3 rating with a reference of up to 1000 is judged by chi-squared (scipy chi2_contingency), KS supporting', async () => {
    const s = await run('few', 'attr_num:x')
    expect(s?.method).toBe('chi2')
    expect(stat(s, 'chi2')).toMatchObject({ role: 'verdict', pValueMethod: 'chi2_contingency', drifted: false })
    expect(stat(s, 'chi2')?.value).toBeCloseTo(5.2747252747252755, 10)
    expect(stat(s, 'chi2')?.pValue).toBeCloseTo(0.07154972350393342, 12)
    expect(stat(s, 'ks')).toMatchObject({ role: 'supporting' })
    expect(stat(s, 'ks')?.pValue).toBeCloseTo(0.21117008625127576, 12)
  })

  it('with a reference over 1000, by Jensen-Shannon distance (scipy jensenshannon)', async () => {
    const s = await run('few-big', 'attr_num:x')
    expect(s?.method).toBe('js')
    expect(stat(s, 'js')?.role).toBe('verdict')
    expect(stat(s, 'js')?.value).toBeCloseTo(0.06493195110387728, 12)
    expect(s?.drifted).toBe(false)
  })

  it('6 distinct values keep KS', async () => {
    expect((await run('ks', 'attr_num:x'))?.method).toBe('ks')
  })
})

describe('numeric drift of several signals in one query', () => {
  it('deciles, bins, KS D, Wasserstein-1, PSI and std equal their definitions, for two attributes with keys of their own', async () => {
    const report = await drift(store.client, 'big', { dimension: 'release', reference: 'ref', current: 'cur', signals: ['attr_num:x', 'attr_num:y'] })
    const values = (a: number, b: number, n: number, key: 'x' | 'y') =>
      Array.from({ length: n }, (_, i) => (key === 'x' ? (((i * a) % 211) - 50) / 4 : (i * b) % 13))
    for (const [s, key] of [[report.signals[0], 'x'], [report.signals[1], 'y']] as const) {
      const want = reference(values(37, 5, 1500, key), values(53, 7, 1300, key))
      expect([s?.nReference, s?.nCurrent]).toEqual([1500, 1300])
      expect(s?.detail?.binEdges).toEqual(want.edges)
      expect(s?.detail?.referenceBinCounts).toEqual(want.rb)
      expect(s?.detail?.currentBinCounts).toEqual(want.cb)
      expect(stat(s, 'ks')?.value).toBeCloseTo(want.d, 12)
      expect(stat(s, 'wasserstein')?.value).toBeCloseTo(want.w1, 10)
      expect(stat(s, 'psi')?.value).toBeCloseTo(want.psi, 10)
      expect(s?.detail?.referenceStd).toBeCloseTo(want.std, 10)
    }
  })
})

describe('text drift over a sample', () => {
  it('counts every span, tokenizes about TEXT_SAMPLE_SPANS a side, the same ones each time, near the whole sets\' distance', async () => {
    const ask = () => drift(store.client, 'text', { dimension: 'release', reference: 'ref', current: 'cur', signals: ['prompt'] })
    const [a, b] = [await ask(), await ask()]
    const s = a.signals[0]
    expect([s?.nReference, s?.nCurrent]).toEqual([TEXT_SAMPLE_SPANS + 20_000, TEXT_SAMPLE_SPANS + 20_000])
    expect(s?.detail?.sampled).toBe(true)
    // 3 tokens a prompt (4 for a fifth of the current ones): about TEXT_SAMPLE_SPANS · 3 a side.
    expect(Math.abs((s?.detail?.referenceTokens as number) / (3 * TEXT_SAMPLE_SPANS) - 1)).toBeLessThan(0.05)
    expect(b).toEqual(a)
    // The whole sets' distance, by the same rule, without sampling.
    const rs = await store.client.query({
      query: `SELECT toString(cityHash64(arrayJoin(tokens(lower(input)))) % 4096) AS cat, countIf(release = 'ref') AS r, countIf(release = 'cur') AS c
              FROM spans WHERE project_id = 'text' GROUP BY cat`,
      format: 'JSONEachRow',
      clickhouse_settings: { output_format_json_quote_64bit_integers: 0 },
    })
    const whole = distributionStats(await rs.json<{ cat: string; r: number; c: number }>())
    expect(whole.js).toBeGreaterThan(0.1)
    expect(Math.abs((stat(s, 'js')?.value as number) - whole.js)).toBeLessThan(0.01)
  })
})

describe('text drift of structured prompts', () => {
  it('tokenizes the messages\' text, not the JSON around it: alpha beta vs alpha gamma is √(½ ln 2) apart', async () => {
    const s = await run('text-json', 'prompt')
    // p = (½, ½, 0), q = (½, 0, ½), m = (½, ¼, ¼): JS² = ½·(½ ln 2) + ½·(½ ln 2)
    expect(stat(s, 'js')?.value).toBeCloseTo(Math.sqrt(Math.LN2 / 2), 12)
    expect(s?.detail).toMatchObject({ referenceTokens: 80, currentTokens: 80 })
  })

  it('reads the user\'s turn after a system prompt longer than the 4000 characters tokenized of each part', async () => {
    const s = await run('text-json-long', 'prompt')
    // Each prompt: 800 × rule (4000 characters), alpha, and beta or gamma: JS² = ½·(ln 2)/802 + ½·(ln 2)/802
    expect(s?.detail).toMatchObject({ referenceTokens: 40 * 802, currentTokens: 40 * 802 })
    expect(stat(s, 'js')?.value).toBeCloseTo(Math.sqrt(Math.LN2 / 802), 12)
  })
})

describe('categorical drift matches scipy reference values', () => {
  it.each([
    ['chi1', 0.8172004762913849, 0.9759232943251624, 'chi2_contingency'],
    ['chi2', 1.6224089635854342, 0.8985262394026607, 'chi2_contingency'],
    ['newcat', 1.0256410256410255, 0.5988042596485019, 'chi2_contingency'],
    ['yates', 7.22, 0.007209570764742524, 'chi2_contingency_yates'],
  ])('chi-squared test of homogeneity of the two samples (%s, scipy chi2_contingency)', async (project, statistic, p, method) => {
    const s = stat(await run(project, 'finish_reason'), 'chi2')
    expect(s?.value).toBeCloseTo(statistic, 10)
    expect(s?.pValue).toBeCloseTo(p, 12)
    expect(s?.pValueMethod).toBe(method)
  })

  it('a category new in the current set is not drift by itself', async () => {
    const s = await run('newcat', 'finish_reason')
    expect(s?.method).toBe('chi2')
    expect(s?.drifted).toBe(false)
    expect(s?.detail?.minExpected).toBeCloseTo(0.5, 12)
  })

  it("a 2 x 2 table with an expected count under 5 gets Fisher's exact test (scipy fisher_exact)", async () => {
    const s = stat(await run('fisher', 'finish_reason'), 'chi2')
    expect(s?.pValueMethod).toBe('fisher_exact')
    expect(s?.pValue).toBeCloseTo(0.034965034965034975, 12)
  })

  it('Jensen-Shannon distance in natural log (scipy jensenshannon)', async () => {
    expect(stat(await run('js1', 'finish_reason'), 'js')?.value).toBeCloseTo(0.46450140402245893, 12)
    expect(stat(await run('js2', 'finish_reason'), 'js')?.value).toBeCloseTo(Math.sqrt(Math.LN2), 12)
  })
})

describe('the spans each built-in signal reads', () => {
  it('status: the LLM calls, so a rise in their errors is not diluted by the spans around them', async () => {
    const s = await run('status-calls', 'status')
    expect([s?.nReference, s?.nCurrent]).toEqual([200, 200])
    expect(s?.method).toBe('chi2')
    expect(stat(s, 'chi2')?.pValue).toBeCloseTo(0.001715673031179824, 10)
    expect(s?.drifted).toBe(true)
  })

  it('kind and service: every span; tool: tool spans', async () => {
    expect([(await run('status-calls', 'kind'))?.nReference, (await run('status-calls', 'service'))?.nReference]).toEqual([1200, 1200])
    const tool = await run('status-calls', 'tool')
    expect([tool?.nReference, tool?.nCurrent]).toEqual([500, 500])
  })

  it('a filter naming a kind reads that kind instead', async () => {
    const report = await drift(store.client, 'status-calls', { dimension: 'release', reference: 'ref', current: 'cur', signals: ['status'], filter: { kind: ['chain'] }, minSamples: 2 })
    expect([report.signals[0]?.nReference, report.signals[0]?.drifted]).toEqual([500, false])
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

  it.each([
    // Each was answered before: the first two as "current has 0 spans" (a span in both sets counts as
    // reference; "" selected every span), the others by silently dropping what was asked.
    ['the same value on both sides', { dimension: 'release', reference: 'ref', current: 'ref' }, /^current: selects the same spans as reference/],
    ['an empty dimension value', { dimension: 'release', reference: ' ', current: 'cur' }, /^reference: the release to compare is empty/],
    ['the same window on both sides', { reference: { from: 'now-1h' }, current: { from: 'now-1h' } }, /^current: selects the same spans/],
    ['a signal named twice', { dimension: 'release', reference: 'ref', current: 'cur', signals: ['latency', 'status', 'latency'] }, /^signals: latency is named twice/],
    ['a misspelt threshold', { dimension: 'release', reference: 'ref', current: 'cur', thresholds: { ksPvalue: 0.01 } }, /ksPvalue/],
    ['a method by signal name', { dimension: 'release', reference: 'ref', current: 'cur', method: { latency: 'chi2' } }, /latency/],
  ])('%s is SPANLENS_BAD_REQUEST naming what is wrong', async (_, request, message) => {
    await expect(drift(store.client, 'psi', request as never)).rejects.toMatchObject({ code: 'SPANLENS_BAD_REQUEST', statusCode: 400, message: expect.stringMatching(message) })
  })

  it('a report of several signals gives each the answer it gets alone, in the order asked', async () => {
    // More signals than run at once (report.ts), so some wait for a turn.
    const signals = ['attr_num:x', 'status', 'latency', 'kind', 'input_tokens', 'service', 'attr:x']
    const report = await drift(store.client, 'psi', { dimension: 'release', reference: 'ref', current: 'cur', signals, minSamples: 2 })
    expect(report.signals.map((s) => s.signal)).toEqual(signals)
    for (const [i, signal] of signals.entries()) expect(report.signals[i]).toEqual(await run('psi', signal))
  })

  it("combines each side with the shared filter: the filter's window narrows a side's, and both sides' score conditions hold", async () => {
    // A project of its own per attempt: a retry must not meet the rows of the attempt before.
    const project = `windows-${randomUUID()}`
    const hour = 3_600_000
    const now = Date.now()
    const at = (hoursAgo: number, i: number) => span({ project_id: project, start: new Date(now - hoursAgo * hour + i * 1000), duration_ms: 100 + i })
    // 20 spans each at 40 h, 28 h and 12 h ago; every other span's trace has feedback 0, the rest 1.
    const spans = [40, 28, 12].flatMap((h) => Array.from({ length: 20 }, (_, i) => at(h, i)))
    await insertSpans(store, spans)
    for (const [i, s] of spans.entries()) await recordScore(store.client, project, { traceId: s.trace_id, name: 'feedback', value: i % 2 })
    const report = await drift(
      store.client,
      project,
      { reference: { from: 'now-48h', to: 'now-24h' }, current: { from: 'now-24h', scores: { feedback: '*' } }, signals: ['latency'], minSamples: 2, filter: { from: 'now-30h', scores: { feedback: '<=0' } } },
      new Date(now),
    )
    // The reference is 28 h ago only (filter.from), and both sides are feedback 0 only (filter's <=0 with current's *).
    expect([report.nReference, report.nCurrent]).toEqual([10, 10])
    expect(report.reference.from?.getTime()).toBe(now - 30 * hour)
    expect(report.reference.to?.getTime()).toBe(now - 24 * hour)
    expect(report.current.scores).toEqual({ feedback: { op: 'value', conditions: [{ op: '<=', value: 0 }] } })
  })

  it('sides a score of a trace without a root within reach by its earliest span, as the trace listing lists it', async () => {
    const project = `rootless-${randomUUID()}`
    const hour = 3_600_000
    const t = Date.now() - 3 * hour
    const trace = () => randomUUID().replaceAll('-', '')
    const at = (id: string, hoursBefore: number, root: boolean) => span({ project_id: project, trace_id: id, parent_span_id: root ? '' : 'feedfacefeedface', start: new Date(t - hoursBefore * hour) })
    const [a, b, c, d, e, f] = Array.from({ length: 6 }, trace) as [string, string, string, string, string, string]
    // The reference is [t − 2h, t − 1h), the current [t − 1h, t).
    await insertSpans(store, [
      ...[at(a, 1.5, true), at(a, 0.5, false)], // a root in the reference: reference
      ...[at(b, 1.5, false), at(b, 0.5, false)], // no root, earliest span in the reference: reference
      at(c, 0.5, false), // no root: current
      ...[at(d, 50, true), at(d, 0.5, false)], // a root two days before, beyond reach: current
      ...[at(e, 2.5, true), at(e, 0.5, false)], // a root within reach but in neither set: left out, as the listing leaves it out
      at(f, 0.5, true), // a root in the current: current
    ])
    for (const [i, id] of [a, b, c, d, e, f].entries()) await recordScore(store.client, project, { traceId: id, name: 'quality', value: i })
    const iso = (hoursBefore: number) => new Date(t - hoursBefore * hour).toISOString()
    const report = await drift(store.client, project, { reference: { from: iso(2), to: iso(1) }, current: { from: iso(1), to: iso(0) }, signals: ['score:quality'], minSamples: 2 })
    expect([report.signals[0]?.nReference, report.signals[0]?.nCurrent]).toEqual([2, 3])
  })

  it('refuses a side and a filter that no span meets together, naming the side', async () => {
    await expect(drift(store.client, 'psi', { dimension: 'release', reference: 'ref', current: 'cur', filter: { release: ['other'] } })).rejects.toMatchObject({
      code: 'SPANLENS_BAD_REQUEST',
      message: expect.stringMatching(/^reference\.release: /),
    })
    await expect(drift(store.client, 'psi', { reference: { from: 'now-2d', to: 'now-1d' }, current: { from: 'now-1d' }, filter: { from: 'now-1h' } })).rejects.toMatchObject({
      code: 'SPANLENS_BAD_REQUEST',
      message: expect.stringMatching(/^reference: /),
    })
  })

  it('project isolation: another project sees nothing', async () => {
    await expect(drift(store.client, 'other', { dimension: 'release', reference: 'ref', current: 'cur', minSamples: 2 })).rejects.toMatchObject({
      code: 'SPANLENS_NOT_ENOUGH_DATA',
    })
  })
})
