// Every number leads to its traces: the traces filter behind each link of the console
// (an SLO's bad events, a drift histogram bin, a bias group and its outcome) selects
// exactly the spans the number counted. Each span here is a trace of its own, so the
// traces listing's total is the count of spans the link's filter selects.
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Store } from '@spanlens/ingest'
import { bias, drift, mergeContent, parseSloText, sloStatus } from '../src/index.js'
import { parseDuration } from '../src/time.js'
import { insertSpans, openStore, queryApp, span } from './helpers/store.js'

let store: Store
let close: () => Promise<void>
let app: FastifyInstance
// Half a minute past a minute: the rollup's windows end at the minute, the spans' at `at`.
const at = new Date(Math.floor(Date.now() / 60_000) * 60_000 - 60_000 + 30_000)
const N = 240
const REFUSAL = "I'm sorry, but I can't help with that."
const USERS = ['alice', 'albert', 'al', '', 'bob', 'bo', 'alina']
const PROMPTS = ['How are you?', 'Привет', '你好', 'こんにちは', '', '']
const DOCS = 'retrieval.docs'

/** A numeric attribute as apps send it: numbers as text, 23 levels (bin edges fall on values), and texts that are not finite numbers. */
function docs(i: number, v2: boolean): Record<string, string> {
  if (i % 6 === 5) return {}
  if (i % 11 === 3) return { [DOCS]: 'n/a' }
  if (i % 13 === 2) return { [DOCS]: i % 2 ? '-inf' : 'inf' }
  if (i % 17 === 4) return { [DOCS]: 'nan' }
  return { [DOCS]: String(((i * 31) % 23) * 0.37 + (v2 ? 2.5 : 0)) }
}

beforeAll(async () => {
  ;({ store, close } = await openStore())
  const rows = Array.from({ length: N }, (_, i) => {
    const v2 = i % 2 === 1
    const input = 10 + ((i * 13) % 90)
    const output = 20 + ((i * 7) % 60) + (v2 ? 30 : 0)
    return span({
      start: new Date(at.getTime() - 5_000 - i * 12_000),
      release: v2 ? 'v2' : 'v1',
      service_name: i % 9 === 4 ? 'batch' : 'chat',
      // Some answered by another model than asked, some by a model never asked for.
      request_model: i % 10 === 7 ? '' : i % 3 === 0 ? 'gpt-4o' : 'claude',
      response_model: i % 10 === 7 ? 'gpt-4o-mini' : i % 10 === 2 ? 'gpt-4o' : '',
      // Floats nowhere near a round number: quantile bin edges fall between them.
      duration_ms: 100 + ((i * 37) % 500) + (i % 3) * 0.25 + (v2 ? 120 : 0),
      ttft_ms: i % 7 === 0 ? null : 50 + ((i * 53) % 400) * 1.1 + (v2 ? 60 : 0),
      cost_usd: i % 5 === 0 ? null : ((i * 29) % 97) * 0.0001234 + (v2 ? 0.002 : 0),
      input_tokens: input,
      output_tokens: output,
      total_tokens: input + output,
      status_code: i % 4 === 1 ? 'error' : 'ok',
      user_id: USERS[i % USERS.length],
      input: PROMPTS[i % PROMPTS.length],
      output: i % 8 === 3 ? REFUSAL : 'Sure.',
      attributes: docs(i, v2),
    })
  })
  await insertSpans(store, rows)
  // A relevance score on most traces, 19 levels; a categorical one of the same name (no value) on some.
  const time = (r: Record<string, unknown>) => r.start_time
  const scored = rows.flatMap((r, i) => {
    const base = { project_id: 'p1', trace_id: r.trace_id, span_id: '', name: 'relevance', source: 'eval', comment: '', author: '', metadata: {}, timestamp: time(r) }
    const out = []
    if (i % 5 !== 3) out.push({ ...base, score_id: `r${i}`, value: ((i * 17) % 19) / 19 + (i % 2 ? 0.15 : 0), string_value: '', data_type: 'NUMERIC' })
    if (i % 7 === 1) out.push({ ...base, score_id: `c${i}`, value: null, string_value: 'relevant', data_type: 'CATEGORICAL' })
    return out
  })
  await store.client.insert({ table: 'scores', format: 'JSONEachRow', values: scored })
  // Prompts that arrived as GenAI log records: the span's input is empty, its language Greek.
  const content = rows.filter((_, i) => i % PROMPTS.length === 4)
  await store.client.insert({
    table: 'span_content',
    format: 'JSONEachRow',
    values: content.map((r) => ({
      project_id: 'p1', trace_id: r.trace_id, span_id: r.span_id, time: r.start_time, seq: 0,
      input: JSON.stringify([{ role: 'user', content: 'Καλημέρα' }]), output: '', finish_reason: '',
    })),
  })
  // Bias reads spans as stored: the server's content merge has put those prompts on them.
  await mergeContent(store.client)
  app = await queryApp(store, 'p1', { sql: { maxExecutionSeconds: 5, maxMemoryBytes: 256 * 1024 * 1024, maxResultRows: 1000, maxResultBytes: 64 * 1024 * 1024 } })
})
afterAll(async () => {
  await app?.close()
  await close()
})

/** What the console's link shows: the traces (one span each) its query string selects. */
async function count(q: Record<string, string>): Promise<number> {
  const res = await app.inject({ method: 'GET', url: `/api/v1/traces?${new URLSearchParams({ ...q, total: '1', limit: '1' })}` })
  expect(res.statusCode, res.body).toBe(200)
  return res.json().total
}

/**
 * The count behind each histogram bin of `edges` as the console links it: (−∞, e[0]],
 * (e[i−1], e[i]], (e[last], ∞), its conditions (`>a,<=b`) given to `query`.
 */
async function binCounts(edges: readonly number[], query: (conditions: string) => Record<string, string>): Promise<number[]> {
  const got: number[] = []
  for (let i = 0; i <= edges.length; i++) {
    const conditions = [i > 0 ? `>${edges[i - 1]}` : '', i < edges.length ? `<=${edges[i]}` : ''].filter(Boolean).join(',')
    got.push(await count(query(conditions)))
  }
  return got
}

describe('an SLO leads to the bad events of its window', () => {
  const FILE = `
slos:
  - name: availability
    service: chat
    model: gpt-4o
    objective: 99
    window: 1h
    indicator: { type: success }
  - name: availability-two-models
    model: [gpt-4o, claude]
    objective: 99
    window: 1h
    indicator: { type: success }
  - name: latency
    objective: 90
    window: 30m
    indicator: { type: latency, thresholdMs: 400.25 }
  - name: first-token
    service: chat
    objective: 90
    window: 1h
    indicator: { type: ttft, thresholdMs: 300.3 }
  - name: first-token-ratio
    kind: llm
    objective: 90
    window: 45m
    indicator: { type: ratio, total: { kind: [llm, tool], status: ok }, good: { ttftMs: '<=300' } }
  - name: no-refusals
    service: [chat, other]
    objective: 95
    window: 1h
    indicator: { type: ratio, total: { service: chat, model: claude }, good: { refusal: false } }
`

  it('every kind of SLO: the filter with its window selects exactly total − good', async () => {
    const report = await sloStatus(store.client, 'p1', parseSloText(FILE), { at })
    const checked: string[] = []
    for (const s of report.slos) {
      if (s.badEvents === null) continue
      const end = Date.parse(s.windowEnd)
      const bad = await count({ ...s.badEvents, from: new Date(end - parseDuration(s.window)).toISOString(), to: s.windowEnd })
      expect(s.total - s.good, s.name).toBeGreaterThan(0)
      expect(bad, `${s.name}: ${JSON.stringify(s.badEvents)}`).toBe(s.total - s.good)
      checked.push(s.name)
    }
    expect(checked).toEqual(['availability', 'latency', 'first-token', 'first-token-ratio', 'no-refusals'])
    const byName = Object.fromEntries(report.slos.map((s) => [s.name, s]))
    expect(byName.availability?.windowEnd).toBe(new Date(at.getTime() - 30_000).toISOString())
    expect(byName.availability?.badEvents).toEqual({ service: 'chat', status: 'error', 'group.model': 'gpt-4o' })
    expect(byName['first-token']?.badEvents).toEqual({ service: 'chat', ttftMs: '>300.3' })
    // A call without a time to first token is not good: it is among the ratio's bad events.
    expect(byName['first-token-ratio']?.badEvents).toEqual({ kind: 'llm', status: 'ok', 'not.ttftMs': '<=300' })
    expect(byName['no-refusals']?.badEvents).toEqual({ service: 'chat', model: 'claude', 'not.refusal': '0' })
  })

  it('no filter for a success SLO over several models: the rollup keeps one model per span', async () => {
    const report = await sloStatus(store.client, 'p1', parseSloText(FILE), { at })
    expect(report.slos.find((s) => s.name === 'availability-two-models')?.badEvents).toBeNull()
  })
})

describe('a drift histogram bin leads to its spans on either side', () => {
  // The console's drift/links.ts: a numeric signal's bin as conditions on the span number it reads.
  const KEY: Record<string, string> = { latency: 'durationMs', ttft: 'ttftMs', input_tokens: 'inputTokens', output_tokens: 'outputTokens', total_tokens: 'totalTokens', cost: 'costUsd' }

  it('each bin (e[i−1], e[i]] of every built-in numeric signal selects exactly its count', async () => {
    const report = await drift(store.client, 'p1', { dimension: 'release', reference: 'v1', current: 'v2', signals: Object.keys(KEY), minSamples: 10 })
    for (const s of report.signals) {
      const edges = s.detail?.binEdges as number[]
      expect(edges.length, s.signal).toBeGreaterThan(3)
      for (const [side, counts] of [['v1', s.detail?.referenceBinCounts], ['v2', s.detail?.currentBinCounts]] as const) {
        const got = await binCounts(edges, (conditions) => ({ release: side, kind: 'llm', [KEY[s.signal]!]: conditions }))
        expect(got, `${s.signal} ${side}`).toEqual(counts)
      }
    }
  }, 120_000)
})

describe('a drift bin of a score or a numeric attribute leads to its traces on either side', () => {
  // The console's drift/links.ts: score:<name> as score.<name>, attr_num:<key> as attrNum.<key>.
  const FILTER: Record<string, string> = { 'score:relevance': 'score.relevance', [`attr_num:${DOCS}`]: `attrNum.${DOCS}` }

  it('each bin (e[i−1], e[i]] selects exactly as many traces as it counted', async () => {
    const report = await drift(store.client, 'p1', { dimension: 'release', reference: 'v1', current: 'v2', signals: Object.keys(FILTER), minSamples: 10 })
    expect(report.signals.map((s) => s.signal)).toEqual(Object.keys(FILTER))
    for (const s of report.signals) {
      const edges = s.detail?.binEdges as number[]
      expect(edges.length, s.signal).toBeGreaterThan(3)
      for (const [side, counts] of [['v1', s.detail?.referenceBinCounts], ['v2', s.detail?.currentBinCounts]] as const) {
        const got = await binCounts(edges, (conditions) => ({ release: side, [FILTER[s.signal]!]: conditions }))
        expect(got, `${s.signal} ${side}`).toEqual(counts)
        expect(got.reduce((a, b) => a + b, 0), `${s.signal} ${side}`).toBe(side === 'v1' ? s.nReference : s.nCurrent)
      }
    }
  }, 120_000)

  it('an attribute that is not a finite number is in no bin and matches no condition', async () => {
    const all = await count({ [`attrNum.${DOCS}`]: '>-1e308' })
    const levels = Array.from({ length: N }, (_, i) => docs(i, i % 2 === 1)[DOCS]).filter((v) => v !== undefined && Number.isFinite(Number(v)))
    expect(all).toBe(levels.length)
    expect(await count({ [`not.attrNum.${DOCS}`]: '>-1e308' })).toBe(N - levels.length)
  })
})

describe('a bias group leads to its spans with that outcome', () => {
  for (const groupBy of ['user_prefix:3', 'language', 'model', 'user']) {
    for (const [outcome, condition] of [['error_rate', { status: 'error' }], ['refusal_rate', { refusal: '1' }]] as const) {
      it(`${groupBy}, ${outcome}: each group's filter selects its n spans and its k outcomes`, async () => {
        const r = await bias(store.client, 'p1', { groupBy, outcome, minGroupSize: 1 })
        expect(r.groups.length).toBeGreaterThan(1)
        for (const g of r.groups) {
          const group = { kind: 'llm', [`group.${groupBy}`]: g.group }
          expect(await count(group), `${groupBy}=${g.group}`).toBe(g.n)
          expect(await count({ ...group, ...condition }), `${groupBy}=${g.group} ${outcome}`).toBe(Math.round((g.value ?? 0) * g.n))
        }
      })
    }
  }

  it('groups a prompt that arrived as a log record by its language, whatever the outcome', async () => {
    const r = await bias(store.client, 'p1', { groupBy: 'language', outcome: 'error_rate', minGroupSize: 1 })
    expect(r.groups.map((g) => g.group).sort()).toEqual(['el', 'ja', 'latin', 'ru', 'unknown', 'zh'])
    expect(r.groups.find((g) => g.group === 'el')?.n).toBe(N / PROMPTS.length)
    // A refusal filter reads the `refusal` column, which spans' * leaves out (it is MATERIALIZED).
    const answered = await bias(store.client, 'p1', { groupBy: 'language', outcome: 'error_rate', minGroupSize: 1, filter: { refusal: false } })
    for (const g of answered.groups) expect(await count({ kind: 'llm', refusal: '0', 'group.language': g.group }), g.group).toBe(g.n)
  })
})

describe('the filters these links use refuse bad values with a 400 naming the field', () => {
  const cases: Array<[string, RegExp]> = [
    ['ttftMs=fast', /ttftMs/],
    ['costUsd=>1e999', /costUsd/],
    ['durationMs=>1,<<2', /durationMs/],
    // Empty: read as no condition, it answered for every span.
    ['inputTokens=', /^inputTokens:/],
    ['inputTokens=,', /^inputTokens:/],
    ['group.nope=1', /group\.nope/],
    ['group.user_prefix:0=a', /group\.user_prefix:0/],
    ['not.bogus=1', /not\.bogus/],
    // Closed sets: a misspelt value matched nothing and was answered with nothing.
    ['status=erorr', /status/],
    ['not.status=okk', /status/],
    ['kind=llms', /kind/],
    // Yes/no parameters: another value was read as no.
    ['io=yes', /^io:/],
    ['total=maybe', /^total:/],
    ['not.from=now-1h', /not/],
    ['not.not.status=ok', /not/],
    ['not.ttftMs=slow', /ttftMs/],
    ['not.score.feedback=>1e999', /not\.score\.feedback/],
    ['score.relevance=>0.2,<<0.4', /score\.relevance/],
    ['attrNum.retrieval.docs=many', /attrNum\.retrieval\.docs/],
    ['not.attrNum.retrieval.docs=>1,<=1e999', /not\.attrNum\.retrieval\.docs/],
  ]
  for (const [q, field] of cases) {
    it(q, async () => {
      const res = await app.inject({ method: 'GET', url: `/api/v1/traces?${q}` })
      expect(res.statusCode, res.body).toBe(400)
      expect(res.json().error.code).toBe('SPANLENS_BAD_REQUEST')
      expect(res.json().error.message).toMatch(field)
    })
  }
})
