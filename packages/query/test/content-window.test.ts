// Reads that show content from GenAI logs (drift's text and finish-reason signals, bias
// refusals and prompt groups, counterfactual refusals, listings) give, once the content merge
// has run (content/merge.ts), what they would give if each span carried its content itself: a
// second project holds the same spans with their content already filled in by the sandbox's
// analyst_spans view (the rule in SQL that otlp-logs.test.ts checks against the API), and no
// content rows. Content rows lie far outside the windows (a log record's time need not fall
// in its span's), spans outside the windows carry content of their own, and a third project
// has content rows only for spans that already show their own. No analytics read joins the
// content rows: they read spans as stored.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ClickHouseClient } from '@clickhouse/client'
import type { Store } from '@spanlens/ingest'
import { bias, counterfactual, drift, listSpans, mergeContent } from '../src/index.js'
import { insertSpans, openStore, span } from './helpers/store.js'

let store: Store
let close: () => Promise<void>
const now = new Date(Math.floor(Date.now() / 60_000) * 60_000)
const DAY = 86_400_000
const N = 420
const REFUSAL = "I'm sorry, but I can't help with that."
const PROMPTS = ['How are you?', 'Привет, как дела?', 'こんにちは', 'Where is my order?']
const SYSTEM_ONLY = JSON.stringify([{ role: 'system', content: 'You are terse.' }])
const message = (role: string, content: string) => JSON.stringify([{ role, content }])

/** Spans of `project` over the last 3 days (the drift windows are the last two), some with empty fields. */
function spans(project: string, own: boolean): Array<Record<string, unknown>> {
  return Array.from({ length: N }, (_, i) => {
    const root = i % 5 === 0
    const systemOnly = !own && i % 7 === 1
    return span({
      project_id: project,
      trace_id: `${project === 'own' || project === 'own-ref' ? 'b' : 'a'}${String(i).padStart(31, '0')}`,
      span_id: String(i).padStart(16, '0'),
      start: new Date(now.getTime() - 60_000 - i * Math.floor((3 * DAY) / N)),
      kind: root ? 'chain' : 'llm',
      release: i % 2 ? 'v2' : 'v1',
      output_tokens: 20 + (i % 13) * (i % 2 ? 3 : 1),
      input: root || (!own && i % 7 === 0) ? '' : systemOnly ? SYSTEM_ONLY : message('user', PROMPTS[i % PROMPTS.length] as string),
      output: root || (!own && i % 4 === 0) ? '' : message('assistant', i % 9 === 3 ? REFUSAL : 'Sure.'),
      finish_reason: root || (!own && i % 6 === 0) ? '' : i % 23 === 5 ? 'content_filter' : 'stop',
      attributes: {
        tenant: `t${i % 3}`,
        ...(systemOnly ? { 'spanlens.input.source': 'gen_ai.system_instructions' } : {}),
        ...(i < 160 && !root ? { 'spanlens.counterfactual.pair_id': `pair-${Math.floor(i / 2)}`, 'spanlens.counterfactual.side': i % 2 ? 'b' : 'a' } : {}),
      },
    })
  })
}

/** Content rows for most spans, timed 20 days before or 10 after them; two rows for some (merged in (time, seq) order). */
function content(project: string, rows: Array<Record<string, unknown>>): Array<Record<string, unknown>> {
  return rows.flatMap((r, i) => {
    if (i % 3 === 2) return []
    const start = new Date(`${r.start_time as string}Z`).getTime()
    const time = new Date(start + (i % 2 ? 10 * DAY : -20 * DAY)).toISOString().replace('T', ' ').replace('Z', '')
    const base = { project_id: project, trace_id: r.trace_id, span_id: r.span_id, time, seq: 0 }
    const out = [
      {
        ...base,
        input: i % 7 === 4 ? '' : message('user', i % 2 ? 'Καλημέρα, πού είναι η παραγγελία μου;' : 'refund please'),
        output: i % 8 === 1 || i % 8 === 4 ? message('assistant', 'I cannot help with that request.') : message('assistant', 'Done from logs.'),
        finish_reason: i % 10 === 0 || i % 12 === 6 ? 'content_filter' : i % 10 === 3 ? '' : 'length',
      },
    ]
    if (i % 11 === 0) out.push({ ...base, seq: 1, input: message('user', 'and a second message'), output: message('assistant', 'second part'), finish_reason: 'stop' })
    return out
  })
}

/** Copies `from`'s spans into `to` as the analyst_spans view shows them: content filled, the refusal flag recomputed on insert. */
async function materialize(from: string, to: string): Promise<void> {
  await store.client.command({ query: 'INSERT INTO spans SELECT {to:String} AS project_id, *, 0 AS content_filled FROM analyst_spans(project = {from:String})', query_params: { from, to } })
}

/** The client, recording every query's SQL. */
function recording(c: ClickHouseClient, sql: string[]): ClickHouseClient {
  return new Proxy(c, {
    get(target, prop) {
      if (prop !== 'query') return Reflect.get(target, prop, target)
      return (params: Parameters<ClickHouseClient['query']>[0]) => {
        sql.push(params.query)
        return target.query(params)
      }
    },
  })
}

beforeAll(async () => {
  ;({ store, close } = await openStore())
  for (const [project, own] of [['p', false], ['own', true]] as const) {
    const rows = spans(project, own)
    await insertSpans(store, rows)
    await store.client.insert({ table: 'span_content', format: 'JSONEachRow', values: content(project, rows) })
  }
  await mergeContent(store.client)
  await materialize('p', 'p-ref')
  await materialize('own', 'own-ref')
})
afterAll(async () => {
  await close()
})

const windows = { reference: { from: new Date(now.getTime() - 2 * DAY).toISOString(), to: new Date(now.getTime() - DAY).toISOString() }, current: { from: new Date(now.getTime() - DAY).toISOString(), to: now.toISOString() } }

/** A read's answer, or the code of the error it ended with. */
const settled = (answer: Promise<unknown>): Promise<unknown> => answer.catch((err: { code?: string }) => ({ error: err.code }))

/** Each read of project `p` (content from logs) against the same read of its materialized twin. */
const reads: Array<[string, (c: ClickHouseClient, project: string) => Promise<unknown>]> = [
  ['drift of prompts, completions and finish reasons, 24 h vs 24 h', (c, p) => drift(c, p, { ...windows, signals: ['prompt', 'completion', 'finish_reason'], minSamples: 5 }, now)],
  ['the default drift report', (c, p) => drift(c, p, { ...windows, minSamples: 5 }, now)],
  ['drift by release of spans that did not refuse, in the last 2 days', (c, p) =>
    drift(c, p, { dimension: 'release', reference: 'v1', current: 'v2', filter: { from: windows.reference.from, refusal: false }, signals: ['completion', 'finish_reason'], minSamples: 5 }, now)],
  ['drift with a text filter', (c, p) => drift(c, p, { ...windows, filter: { text: 'refund' }, signals: ['prompt', 'finish_reason'], minSamples: 2 }, now)],
  ['bias refusal rate by tenant', (c, p) => bias(c, p, { groupBy: 'attr:tenant', outcome: 'refusal_rate', minGroupSize: 5 }, now)],
  ['bias refusal rate by tenant, in a window, custom phrases', (c, p) =>
    bias(c, p, { groupBy: 'attr:tenant', outcome: 'refusal_rate', refusalPhrases: ['cannot help'], minGroupSize: 5, filter: { from: windows.current.from } }, now)],
  ['bias output length by prompt language', (c, p) => bias(c, p, { groupBy: 'language', outcome: 'output_length', minGroupSize: 5 }, now)],
  ['bias error rate by tenant of refusing spans', (c, p) => bias(c, p, { groupBy: 'attr:tenant', outcome: 'error_rate', minGroupSize: 1, filter: { refusal: true } }, now)],
  ['counterfactual refusals', (c, p) => counterfactual(c, p, { minPairs: 5 }, now)],
  ['span listing of refusals in a window, with io', (c, p) =>
    listSpans(c, p, { limit: 500, includeIo: true, filter: { from: new Date(now.getTime() - DAY), refusal: true } }).then((page) => page.items.map((s) => [s.spanId, s.input, s.output, s.finishReason]))],
]

describe('reads with content from logs equal the spans carrying that content', () => {
  for (const [name, read] of reads) {
    it(`${name}: spans lacking content, filled from rows outside the window`, async () => {
      const sql: string[] = []
      expect(await settled(read(recording(store.client, sql), 'p'))).toEqual(await settled(read(store.client, 'p-ref')))
      // Analytics read spans as stored; only listings look content rows up, for the page's traces.
      expect(sql.filter((q) => q.includes('AS c ON s.trace_id'))).toEqual([])
    })
    it(`${name}: spans with their own content, content rows idle`, async () => {
      const sql: string[] = []
      const got = await settled(read(recording(store.client, sql), 'own'))
      expect(got).toEqual(await settled(read(store.client, 'own-ref')))
      expect(sql.filter((q) => q.includes('AS c ON s.trace_id'))).toEqual([])
    })
  }

  it('the twin differs from the spans as sent where content fills: the comparison has something to find', async () => {
    // The spans as sent, from the rows themselves: ClickHouse may already have merged their versions away.
    const sent = spans('p', false)
    const rs = await store.client.query({ query: "SELECT countIf(output = '') AS empty, countIf(finish_reason = 'content_filter') AS filtered FROM spans FINAL WHERE project_id = 'p-ref'", format: 'JSONEachRow' })
    const ref = (await rs.json<{ empty: string; filtered: string }>())[0]
    expect(Number(ref?.empty)).toBeLessThan(sent.filter((r) => r.output === '').length)
    expect(Number(ref?.filtered)).toBeGreaterThan(sent.filter((r) => r.finish_reason === 'content_filter').length)
  })
})
