import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Store } from '@spanlens/ingest'
import { bias, counterfactual } from '../src/index.js'
import { REFUSAL_PHRASES } from '../src/bias/groups.js'
import { insertSpans, openStore, span } from './helpers/store.js'

let store: Store
let close: () => Promise<void>

/** Content as the ingest normalizer stores structured messages: a JSON array of {role, parts}. */
const messages = (list: Array<[string, string]>) => JSON.stringify(list.map(([role, content]) => ({ role, parts: [{ type: 'text', content }] })))

const group = (project: string, grp: string, bad: number, n: number, extra: Record<string, unknown> = {}) =>
  Array.from({ length: n }, (_, i) => span({ project_id: project, attributes: { grp }, status_code: i < bad ? 'error' : 'ok', ...extra }))

beforeAll(async () => {
  ;({ store, close } = await openStore())
  await insertSpans(store, [
    // scipy.stats.chi2_contingency([[10, 10, 20], [20, 20, 20]]) -> statistic 2.7777777777777777, pvalue 0.24935220877729619, dof 2
    ...group('chi', 'A', 10, 30),
    ...group('chi', 'B', 10, 30),
    ...group('chi', 'C', 20, 40),
    // statsmodels proportions_ztest(count=[5, 12], nobs=[83, 99]) -> pvalue 0.159 (docs print 3 decimals)
    ...group('z', 'X', 5, 83),
    ...group('z', 'Y', 12, 99),
    ...group('z', 'tiny', 3, 3),
    // eight groups tied on size and rate: a hash table's order is no order
    ...['kiwi', 'apple', 'mango', 'fig', 'banana', 'lime', 'cherry', 'date'].flatMap((grp) => group('tie', grp, 2, 12)),
    // Wilson 95% interval for 0 / 10 is [0, 0.2775]
    ...group('one', 'only', 0, 10),
    // refusals: content_filter or a refusal phrase in the completion
    ...Array.from({ length: 10 }, (_, i) => span({ project_id: 'ref', attributes: { grp: 'a' }, finish_reason: i < 2 ? 'content_filter' : 'stop', output: 'Sure!' })),
    ...Array.from({ length: 10 }, (_, i) => span({ project_id: 'ref', attributes: { grp: 'b' }, output: i < 5 ? "I'm sorry, but I can't help with that." : 'Sure!' })),
    // derived language from the prompt's script
    ...Array.from({ length: 4 }, () => span({ project_id: 'lang', input: 'Привет, как дела?' })),
    ...Array.from({ length: 6 }, () => span({ project_id: 'lang', input: 'How are you?' })),
    ...Array.from({ length: 2 }, () => span({ project_id: 'lang', input: '你好' })),
    // the same prompts stored as structured messages (gen_ai.input.messages): grouped by the text, not the JSON
    ...[
      ['12345 !!!', 3],
      ['வணக்கம், எப்படி இருக்கிறீர்கள்?', 2],
      ['How are you?', 4],
    ].flatMap(([text, n]) => Array.from({ length: n as number }, () => span({ project_id: 'lang-json', input: messages([['user', text as string]]) }))),
    // an English system prompt before a Japanese question
    ...Array.from({ length: 2 }, () => span({ project_id: 'lang-json', input: messages([['system', 'You are a helpful assistant.'], ['user', '注文はいつ届きますか？']]) })),
    // completions as structured messages: a phrase with quotes, and the same words only in a tool call's arguments
    ...Array.from({ length: 10 }, (_, i) =>
      span({
        project_id: 'ref-json',
        attributes: { grp: 'a' },
        output:
          i < 3
            ? messages([['assistant', 'I have to say "no" to that.']])
            : JSON.stringify([{ role: 'assistant', parts: [{ type: 'tool_call', name: 'reply', arguments: '{"text":"I have to say \\"no\\" to that."}' }] }]),
      }),
    ),
    // counterfactual pairs: side b refused in 10 of 12 pairs, side a never; b's answers 10 tokens shorter
    ...Array.from({ length: 12 }, (_, i) => [
      span({ project_id: 'cf', output: 'Here you go', output_tokens: 50 + i, attributes: { 'spanlens.counterfactual.pair_id': `p${i}`, 'spanlens.counterfactual.side': 'a' } }),
      span({
        project_id: 'cf',
        output: i < 10 ? 'I cannot help with that' : 'Here you go',
        output_tokens: 40 + i + (i % 2),
        attributes: { 'spanlens.counterfactual.pair_id': `p${i}`, 'spanlens.counterfactual.side': 'b' },
      }),
    ]).flat(),
    // a gap with no spread: every answer of one group 100 tokens long, of the other 40
    ...Array.from({ length: 50 }, () => span({ project_id: 'flat', attributes: { grp: 'big' }, output_tokens: 100 })),
    ...Array.from({ length: 50 }, () => span({ project_id: 'flat', attributes: { grp: 'small' }, output_tokens: 40 })),
    // counterfactual pairs whose side b is always exactly 10 tokens shorter
    ...Array.from({ length: 12 }, (_, i) =>
      (['a', 'b'] as const).map((side) =>
        span({ project_id: 'cf-flat', output: 'Sure', output_tokens: 50 + i - (side === 'b' ? 10 : 0), attributes: { 'spanlens.counterfactual.pair_id': `p${i}`, 'spanlens.counterfactual.side': side } }),
      ),
    ).flat(),
  ])
  // −1/+1 thumbs, one per trace: group good 40 up of 100 (mean −0.2), group bad 10 up of 100 (mean −0.8)
  const thumbs = (['good', 'bad'] as const).flatMap((grp) => Array.from({ length: 100 }, (_, i) => ({ grp, up: i < (grp === 'good' ? 40 : 10) })))
  const roots = thumbs.map(({ grp }) => span({ project_id: 'thumbs', attributes: { grp } }))
  await insertSpans(store, roots)
  await store.client.insert({
    table: 'scores',
    format: 'JSONEachRow',
    values: roots.map((r, i) => ({ project_id: 'thumbs', score_id: `s${i}`, trace_id: r.trace_id, name: 'feedback', value: thumbs[i]?.up ? 1 : -1, data_type: 'NUMERIC', source: 'API', timestamp: r.start_time })),
  })
})
afterAll(async () => close())

describe('bias across groups', () => {
  it('chi-squared test of independence matches scipy chi2_contingency', async () => {
    const r = await bias(store.client, 'chi', { groupBy: 'attr:grp', outcome: 'error_rate', minGroupSize: 1 })
    expect(r.chiSquared?.statistic).toBeCloseTo(2.7777777777777777, 10)
    expect(r.chiSquared?.pValue).toBeCloseTo(0.24935220877729619, 9)
    expect(r.chiSquared?.df).toBe(2)
    expect(r.comparisons).toBe(2)
  })

  it('two-proportion z-test matches statsmodels proportions_ztest; demographic parity per fairlearn definitions', async () => {
    const r = await bias(store.client, 'z', { groupBy: 'attr:grp', outcome: 'error_rate', minGroupSize: 10 })
    const y = r.groups.find((g) => g.group === 'Y')
    const x = r.groups.find((g) => g.group === 'X')
    expect(r.bestGroup).toBe('X')
    expect(y?.pValue).toBeCloseTo(0.159, 3)
    // one comparison (tiny is below minGroupSize): Bonferroni leaves p unchanged
    expect(y?.pValueAdjusted).toBeCloseTo(y?.pValue ?? -1, 12)
    expect(y?.significant).toBe(false)
    // fairlearn: difference = max − min, ratio = min / max of the group rates
    expect(r.demographicParityDifference).toBeCloseTo(12 / 99 - 5 / 83, 12)
    expect(r.demographicParityRatio).toBeCloseTo(5 / 83 / (12 / 99), 12)
    // The summary ratio is on the rows' favourable scale: Y's (1 − 12/99) / (1 − 5/83), not a ratio of error rates.
    expect(r.lowestRatio).toEqual({ group: 'Y', ratio: y?.ratio })
    expect(r.lowestRatio?.ratio).toBeCloseTo((1 - 12 / 99) / (1 - 5 / 83), 12)
    // four-fifths on the favourable (non-error) rate: (1 − 12/99) / (1 − 5/83) > 0.8
    expect(y?.ratio).toBeCloseTo((1 - 12 / 99) / (1 - 5 / 83), 12)
    expect(y?.fourFifthsViolation).toBe(false)
    expect(x?.difference).toBe(0)
    // a group under minGroupSize is reported but not judged
    const tiny = r.groups.find((g) => g.group === 'tiny')
    expect(tiny).toMatchObject({ n: 3, value: 1, judged: false, significant: null })
    expect(r.flagged).toBe(false)
  })

  it('lists groups tied on size by name, and names the first of the tied best', async () => {
    const names = ['apple', 'banana', 'cherry', 'date', 'fig', 'kiwi', 'lime', 'mango']
    const r = await bias(store.client, 'tie', { groupBy: 'attr:grp', outcome: 'error_rate', minGroupSize: 1 })
    expect(r.groups.map((g) => g.group)).toEqual(names)
    expect(r.bestGroup).toBe('apple')
    // A limit that cuts through the tie keeps the same groups on every store.
    const cut = await bias(store.client, 'tie', { groupBy: 'attr:grp', outcome: 'error_rate', minGroupSize: 1, maxGroups: 3 })
    expect(cut.groups.map((g) => g.group)).toEqual(names.slice(0, 3))
  })

  it('one group: Wilson interval, no comparisons, no parity figures', async () => {
    const r = await bias(store.client, 'one', { groupBy: 'attr:grp', outcome: 'error_rate', minGroupSize: 1 })
    expect(r.groups).toHaveLength(1)
    expect(r.groups[0]?.ci?.[0]).toBe(0)
    expect(r.groups[0]?.ci?.[1]).toBeCloseTo(0.2775, 4)
    expect(r.demographicParityDifference).toBeNull()
    expect(r.chiSquared).toBeNull()
  })

  it('refusal rate counts content_filter and refusal phrases', async () => {
    const r = await bias(store.client, 'ref', { groupBy: 'attr:grp', outcome: 'refusal_rate', minGroupSize: 1 })
    expect(r.groups.find((g) => g.group === 'a')?.value).toBeCloseTo(0.2, 12)
    expect(r.groups.find((g) => g.group === 'b')?.value).toBeCloseTo(0.5, 12)
  })

  it('a custom phrase list scans the completion instead of the stored flag', async () => {
    const r = await bias(store.client, 'ref', { groupBy: 'attr:grp', outcome: 'refusal_rate', minGroupSize: 1, refusalPhrases: ['no-such-phrase-anywhere'] })
    // only content_filter spans count now
    for (const g of r.groups) expect(g.value).toBeLessThanOrEqual(0.5)
    expect(r.groups.reduce((n, g) => n + (g.value ?? 0), 0)).toBeLessThan(0.7)
  })

  it('the refusal flag stored at insert uses exactly the default phrases', async () => {
    const rs = await store.client.query({
      query: "SELECT default_expression AS e FROM system.columns WHERE database = currentDatabase() AND table = 'spans' AND name = 'refusal'",
      format: 'JSONEachRow',
    })
    const [row] = await rs.json<{ e: string }>()
    const literals = [...(row?.e ?? '').matchAll(/'((?:[^'\\]|\\.)*)'/g)].map((m) => (m[1] as string).replace(/\\'/g, "'"))
    expect(literals.filter((l) => l !== 'content_filter').sort()).toEqual([...REFUSAL_PHRASES].sort())
  })

  it('groups by the prompt script as a derived language', async () => {
    const r = await bias(store.client, 'lang', { groupBy: 'language', outcome: 'output_length', minGroupSize: 1 })
    expect(Object.fromEntries(r.groups.map((g) => [g.group, g.n]))).toEqual({ latin: 6, ru: 4, zh: 2 })
  })

  it('a gap in mean output length with no spread in either group is significant and flagged (scipy ttest_ind: t = inf, p = 0)', async () => {
    const r = await bias(store.client, 'flat', { groupBy: 'attr:grp', outcome: 'output_length' })
    expect(r.bestGroup).toBe('big')
    expect(r.groups.find((g) => g.group === 'small')).toMatchObject({ value: 40, ratio: 0.4, fourFifthsViolation: true, pValue: 0, pValueMethod: 'zero_variance', significant: true })
    expect(r.flagged).toBe(true)
  })

  it('score_mean on −1/+1 thumbs: measured from −1, the worse group has the lower ratio, breaks four-fifths and is flagged', async () => {
    const r = await bias(store.client, 'thumbs', { groupBy: 'attr:grp', outcome: 'score_mean' })
    expect(r).toMatchObject({ bestGroup: 'good', ratioBaseline: -1, lowestRatio: { group: 'bad' }, flagged: true })
    expect(r.groups.find((g) => g.group === 'bad')).toMatchObject({ fourFifthsViolation: true, significant: true })
    // the shares of thumbs-up, 0.1 / 0.4
    expect(r.lowestRatio?.ratio).toBeCloseTo(0.25, 12)
    expect(r.demographicParityRatio).toBeCloseTo(0.25, 12)
  })

  it('groups a score of a trace without a root within reach by its earliest span, as the trace listing lists it', async () => {
    // A project of its own per attempt: a retry must not meet the rows of the attempt before.
    const project = `rootless-${randomUUID()}`
    const hour = 3_600_000
    const t = Date.now() - 3 * hour
    const at = (id: string, hoursBefore: number, service: string, root: boolean) =>
      span({ project_id: project, trace_id: id, service_name: service, parent_span_id: root ? '' : 'feedfacefeedface', start: new Date(t - hoursBefore * hour) })
    const [a, c, d, e] = Array.from({ length: 4 }, () => randomUUID().replaceAll('-', '')) as [string, string, string, string]
    // The filter is [t − 1h, t).
    const spans = [
      ...[at(a, 0.5, 'front', true), at(a, 0.4, 'back', false)], // a root: front
      ...[at(c, 0.5, 'back', false), at(c, 0.4, 'other', false)], // no root, earliest span back: back
      ...[at(d, 50, 'front', true), at(d, 0.5, 'back', false)], // a root two days before, beyond reach: back
      ...[at(e, 2, 'front', true), at(e, 0.5, 'back', false)], // a root within reach, before the filter: left out, as the listing leaves it out
    ]
    await insertSpans(store, spans)
    await store.client.insert({
      table: 'scores',
      format: 'JSONEachRow',
      values: [a, c, d, e].map((id, i) => ({ project_id: project, score_id: `s${i}`, trace_id: id, name: 'feedback', value: i, data_type: 'NUMERIC', source: 'API', timestamp: spans[0]?.start_time })),
    })
    const iso = (hoursBefore: number) => new Date(t - hoursBefore * hour).toISOString()
    const r = await bias(store.client, project, { groupBy: 'service', outcome: 'score_mean', minGroupSize: 1, filter: { from: iso(1), to: iso(0) } })
    expect(Object.fromEntries(r.groups.map((g) => [g.group, g.n]))).toEqual({ front: 1, back: 2 })
  })

  it('groups a structured prompt by the script of its messages\' text, not of its JSON keys', async () => {
    const r = await bias(store.client, 'lang-json', { groupBy: 'language', outcome: 'error_rate', minGroupSize: 1 })
    expect(Object.fromEntries(r.groups.map((g) => [g.group, g.n]))).toEqual({ unknown: 5, latin: 4, ja: 2 })
  })

  it('a custom refusal phrase is found in a structured completion\'s text as written, not in a tool call\'s arguments', async () => {
    const r = await bias(store.client, 'ref-json', { groupBy: 'attr:grp', outcome: 'refusal_rate', refusalPhrases: ['say "no"'], minGroupSize: 1 })
    expect(r.groups[0]).toMatchObject({ n: 10, value: 0.3 })
  })

  it('no matching spans is SPANLENS_NOT_ENOUGH_DATA', async () => {
    await expect(bias(store.client, 'nobody', { groupBy: 'attr:grp', outcome: 'error_rate' })).rejects.toMatchObject({ code: 'SPANLENS_NOT_ENOUGH_DATA' })
  })

  it('a setting the outcome does not read is a 400 naming it, not ignored', async () => {
    for (const [extra, key, applies] of [
      [{ score: 'feedback' }, 'score', 'negative_feedback_rate and score_mean'],
      [{ negativeAtMost: 1 }, 'negativeAtMost', 'negative_feedback_rate'],
      [{ refusalPhrases: ['no'] }, 'refusalPhrases', 'refusal_rate'],
    ] as Array<[Record<string, unknown>, string, string]>) {
      await expect(bias(store.client, 'nobody', { groupBy: 'model', outcome: 'error_rate', ...extra })).rejects.toMatchObject({
        code: 'SPANLENS_BAD_REQUEST',
        message: `${key}: applies to the outcome${key === 'score' ? 's' : ''} ${applies}, not error_rate`,
      })
    }
    await expect(bias(store.client, 'nobody', { groupBy: 'model', outcome: 'score_mean', negativeAtMost: 0 })).rejects.toMatchObject({ code: 'SPANLENS_BAD_REQUEST' })
  })

  it('a score no trace has is named as such, not as spans that do not match', async () => {
    await expect(bias(store.client, 'nobody', { groupBy: 'model', outcome: 'score_mean', score: 'nope' })).rejects.toMatchObject({
      code: 'SPANLENS_NOT_ENOUGH_DATA',
      message: expect.stringContaining('no trace matching the filter has a score named "nope"'),
    })
  })

  it('an unknown group key is SPANLENS_BAD_REQUEST', async () => {
    await expect(bias(store.client, 'z', { groupBy: 'shoe_size', outcome: 'error_rate' })).rejects.toMatchObject({ code: 'SPANLENS_BAD_REQUEST' })
  })

  it.each([
    ['attr:tenant', /^groupBy: no span matching the filter has attribute "tenant"; keys that exist: attr:grp/],
    ['resource:tenant', /^groupBy: no span matching the filter has resource attribute "tenant"; those spans have none$/],
  ])('grouping by %s, which no span carries, is SPANLENS_BAD_REQUEST naming the keys that exist (not one blank group, "not flagged")', async (groupBy, message) => {
    const err = await bias(store.client, 'z', { groupBy, outcome: 'error_rate' }).catch((e: unknown) => e)
    expect(err).toMatchObject({ code: 'SPANLENS_BAD_REQUEST', statusCode: 400 })
    expect((err as Error).message).toMatch(message)
  })
})

describe('counterfactual pairs', () => {
  it('compares refusals with McNemar and output length with a paired test', async () => {
    const r = await counterfactual(store.client, 'cf', {})
    expect(r.pairs).toBe(12)
    expect(r.refusal).toMatchObject({ onlyA: 0, onlyB: 10, method: 'mcnemar_exact', significant: true })
    // exact McNemar: two-sided binomial(10, 0.5) at 0 = 2 · 0.5^10
    expect(r.refusal.pValue).toBeCloseTo(2 * 0.5 ** 10, 12)
    expect(r.outputLength.meanDifference).toBeCloseTo(-9.5, 12)
    expect(r.outputLength.significant).toBe(true)
    expect(r.score.pairs).toBe(0)
  })

  it('a difference every pair shares exactly is certain: p = 0, said to be a zero-variance case (scipy ttest_rel gives t = inf)', async () => {
    const r = await counterfactual(store.client, 'cf-flat', {})
    expect(r.outputLength).toMatchObject({ pairs: 12, meanDifference: -10, pValue: 0, method: 'zero_variance', significant: true })
  })

  it('too few pairs is SPANLENS_NOT_ENOUGH_DATA', async () => {
    await expect(counterfactual(store.client, 'z', {})).rejects.toMatchObject({ code: 'SPANLENS_NOT_ENOUGH_DATA' })
  })
})
