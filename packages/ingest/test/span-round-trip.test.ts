import { randomUUID } from 'node:crypto'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { SpanRow } from '../src/normalize/row.js'
import { encodeRow, SEGMENT_FORMATS, SPOOL_FORMAT } from '../src/pipeline/row-format.js'
import { SPANS } from '../src/pipeline/tables.js'
import { migrate, type Store } from '../src/store/index.js'
import { openStore } from './helpers/server.js'
import { recentDay, tempDir } from './helpers/tmp.js'

// Inside the store's retention whatever day the test runs (helpers/tmp.ts).
const DAY = recentDay()
/** 10:00 UTC that day in epoch seconds, for the columns written as seconds.nanoseconds. */
const SEC = String(Date.parse(`${DAY}T10:00:00Z`) / 1000)

// Every span column written and read back unchanged, in each storage mode (vitest.config.ts
// lists this file for the served engine and the two-shard cluster): through a JSON insert,
// and through the path acknowledged spans take, a spool segment inserted as a file
// (embedded: ClickHouse reads it; served: streamed as the body of one HTTP insert).
const tmp = tempDir()
let store: Store

beforeAll(async () => {
  store = await openStore(join(tmp.path, 'data'))
  await migrate(store)
})
afterAll(async () => {
  await store?.close().catch(() => undefined)
  tmp.cleanup()
})

async function rows<T>(query: string, params: Record<string, unknown> = {}): Promise<T[]> {
  const rs = await store.client.query({ query, query_params: params, format: 'JSONEachRow' })
  return rs.json<T>()
}

describe('a span round-trips every column', () => {
  it('round-trips every span column, including unicode, a 1 MB prompt, empty and null values', async () => {
    const unit = 'Ω≈ç√ 你好 🚀 '
    const bigPrompt = unit.repeat(Math.ceil((1024 * 1024) / Buffer.byteLength(unit)))
    const full = {
      project_id: 'p1',
      trace_id: '0af7651916cd43dd8448eb211c80319c',
      span_id: 'b7ad6b7169203331',
      parent_span_id: '00f067aa0ba902b7',
      name: 'chat gpt-4o',
      kind: 'llm',
      span_kind: 'client',
      service_name: 'chat-api',
      scope_name: '@spanlens/sdk',
      scope_version: '0.1.0',
      start_time: `${DAY} 10:00:00.123456789`,
      end_time: `${DAY} 10:00:01.623456789`,
      duration_ms: 1500,
      status_code: 'error',
      status_message: 'rate limited ⚠',
      error_type: 'RateLimitError',
      provider: 'openai',
      operation: 'chat',
      request_model: 'gpt-4o',
      response_model: 'gpt-4o-2024-08-06',
      input_tokens: 4_000_000_000,
      output_tokens: 12,
      total_tokens: 4_000_000_012,
      cache_read_tokens: 3,
      cache_write_tokens: 4,
      reasoning_tokens: 5,
      cost_usd: 0.001234,
      ttft_ms: 210.5,
      finish_reason: 'stop',
      input: bigPrompt,
      output: '{"role":"assistant","content":"héllo \\"quoted\\"\\n"}',
      user_id: 'user-ü',
      session_id: 'sess-1',
      environment: 'production',
      release: 'v1.2.3',
      tags: ['a', 'b'],
      attributes: { 'gen_ai.request.temperature': '0.2', 'emoji.🔥': '✓' },
      resource_attributes: { 'service.name': 'chat-api' },
      scope_attributes: { 'scope.🔥': 'ü' },
      'events.time': [`${DAY} 10:00:00.500000000`],
      'events.name': ['gen_ai.choice'],
      'events.attributes': [{ index: '0' }],
      'links.trace_id': ['1af7651916cd43dd8448eb211c80319c'],
      'links.span_id': ['c7ad6b7169203331'],
      'links.attributes': [{}],
      embedding: [0.25, -1.5],
    }
    const sparse = {
      project_id: 'p1',
      trace_id: '0af7651916cd43dd8448eb211c80319d',
      span_id: 'b7ad6b7169203332',
      parent_span_id: '',
      name: '',
      kind: 'other',
      start_time: `${DAY} 10:00:02.000000000`,
      end_time: `${DAY} 10:00:02.000000000`,
      duration_ms: 0,
      status_code: 'unset',
      cost_usd: null,
      ttft_ms: null,
      input: '',
      output: '',
    }
    await store.client.insert({ table: 'spans', values: [full, sparse], format: 'JSONEachRow' })
    const got = await rows<Record<string, unknown>>(
      'SELECT * EXCEPT ingested_at FROM spans FINAL WHERE project_id = {p:String} ORDER BY start_time',
      { p: 'p1' },
    )
    expect(got).toHaveLength(2)
    const [a, b] = got as [Record<string, unknown>, Record<string, unknown>]
    expect(a.input).toBe(bigPrompt)
    expect(Buffer.byteLength(a.input as string)).toBeGreaterThanOrEqual(1024 * 1024)
    for (const [key, value] of Object.entries(full)) {
      if (key === 'input' || key.includes('.')) continue
      const expected = typeof value === 'number' && ['input_tokens', 'total_tokens'].includes(key) ? value : value
      expect(a[key], key).toEqual(expected)
    }
    expect(a['events.name']).toEqual(['gen_ai.choice'])
    expect(a['events.attributes']).toEqual([{ index: '0' }])
    expect(a['links.span_id']).toEqual(['c7ad6b7169203331'])
    expect(b.cost_usd).toBeNull()
    expect(b.ttft_ms).toBeNull()
    expect(b.input).toBe('')
    expect(b.attributes).toEqual({})
    expect(b['events.name']).toEqual([])
    expect(b.service_name).toBe('')
  })

  it('the spool row format (TabSeparated) round-trips hostile strings in every kind of column, read by ClickHouse from a file', async () => {
    // Everything TSV and ClickHouse literals treat specially, in scalars, arrays and maps.
    const nasty = `a\\b \\N \\t tab\there nl\nthere cr\r nul\0 'single' "double" [x], {k:v} ü 🚀 \\'`
    const row: SpanRow = {
      project_id: 'tsv',
      trace_id: '0af7651916cd43dd8448eb211c8031aa',
      span_id: 'b7ad6b71692033aa',
      parent_span_id: '',
      name: nasty,
      kind: 'llm',
      span_kind: 'client',
      service_name: nasty,
      scope_name: nasty,
      scope_version: nasty,
      start_time: `${SEC}.123456789`,
      end_time: `${Number(SEC) + 1}.000000001`,
      duration_ms: 876.543211,
      status_code: 'error',
      status_message: nasty,
      error_type: nasty,
      provider: nasty,
      operation: nasty,
      request_model: nasty,
      response_model: nasty,
      input_tokens: 4_000_000_000,
      output_tokens: 1,
      total_tokens: 4_000_000_001,
      cache_read_tokens: 2,
      cache_write_tokens: 3,
      reasoning_tokens: 4,
      cost_usd: 1.5e-7,
      ttft_ms: null,
      finish_reason: nasty,
      input: nasty.repeat(3),
      output: '',
      user_id: nasty,
      session_id: nasty,
      environment: nasty,
      release: nasty,
      tags: [nasty, '', "it's"],
      attributes: { [nasty]: nasty, empty: '', "k'ey": "v'al" },
      resource_attributes: {},
      scope_attributes: { [nasty]: nasty },
      'events.time': [`${SEC}.5`, `${SEC}.000000001`],
      'events.name': [nasty, ''],
      'events.attributes': [{ [nasty]: nasty }, {}],
      'links.trace_id': ['1af7651916cd43dd8448eb211c80319c'],
      'links.span_id': ['c7ad6b7169203331'],
      'links.attributes': [{ q: "'" }],
      embedding: [0.25, -1.5, 1e-7],
    }
    // A spool directory may be anywhere: the file's path is quoted for ClickHouse too.
    const segmentDir = join(tmp.path, "it's a \\ dir")
    mkdirSync(segmentDir, { recursive: true })
    const path = join(segmentDir, `0001-1-000000.${SPOOL_FORMAT}.seg`)
    writeFileSync(path, `${SPANS.header}${encodeRow(row)}\n`)
    await store.insertFile({ table: 'spans', columns: SPANS.columns, format: SEGMENT_FORMATS[SPOOL_FORMAT], path })
    const [got] = await rows<Record<string, unknown>>(
      `SELECT * EXCEPT ingested_at, toString(toUnixTimestamp64Nano(start_time)) AS s_ns, toString(toUnixTimestamp64Nano(end_time)) AS e_ns,
        arrayMap(t -> toString(toUnixTimestamp64Nano(t)), events.time) AS ev_ns
       FROM spans WHERE project_id = 'tsv'`,
    )
    expect(got).toBeDefined()
    const g = got as Record<string, unknown>
    for (const key of SPANS.columns as Array<keyof SpanRow>) {
      if (key.endsWith('time') || key === 'embedding') continue
      expect(g[key], key).toEqual(row[key])
    }
    expect(g.s_ns).toBe(`${SEC}123456789`)
    expect(g.e_ns).toBe(`${Number(SEC) + 1}000000001`)
    expect(g.ev_ns).toEqual([`${SEC}500000000`, `${SEC}000000001`])
    expect((g.embedding as number[]).map((x) => Number(x.toPrecision(6)))).toEqual([0.25, -1.5, 1e-7])
  })

  it('escapes a lone special character in long and short strings alike, read back by ClickHouse', async () => {
    // Long strings are checked with one scan per character, short ones with a
    // regex: each special character alone, on both sides of the cut-over.
    // A project of this attempt's own: a retried attempt (cluster mode) must not read the rows of the one before.
    const project = `lone-${randomUUID().slice(0, 8)}`
    const specials = ['\\', '\t', '\n', '\r', '\0', "'"]
    const values = specials.flatMap((c) => [`a${c}b`, `${'x'.repeat(63)}${c}`, `${'y'.repeat(200)}${c}${'z'.repeat(50)}`])
    const rowsIn: SpanRow[] = values.map((v, i) => ({
      project_id: project, trace_id: 'dd'.repeat(16), span_id: (i + 1).toString(16).padStart(16, '0'), parent_span_id: '',
      name: v, kind: 'llm', span_kind: 'client', service_name: 's', scope_name: '', scope_version: '', start_time: `${SEC}.000000001`,
      end_time: `${SEC}.000000002`, duration_ms: 0, status_code: 'ok', status_message: '', error_type: '', provider: '',
      operation: '', request_model: '', response_model: '', input_tokens: 0, output_tokens: 0, total_tokens: 0,
      cache_read_tokens: 0, cache_write_tokens: 0, reasoning_tokens: 0, cost_usd: null, ttft_ms: null, finish_reason: '',
      input: v, output: '', user_id: '', session_id: '', environment: '', release: '', tags: [v],
      attributes: { [v]: v }, resource_attributes: {}, scope_attributes: {}, 'events.time': [], 'events.name': [], 'events.attributes': [],
      'links.trace_id': [], 'links.span_id': [], 'links.attributes': [], embedding: [],
    }))
    const path = join(tmp.path, `0002-1-000000.${SPOOL_FORMAT}.seg`)
    const lines = rowsIn.map((r) => encodeRow(r))
    // Raw: one line per row, 44 fields each, no CR or NUL (which ClickHouse would take as data).
    for (const line of lines) {
      expect(line.split('\t')).toHaveLength(SPANS.columns.length)
      expect(line).not.toMatch(/[\n\r\0]/)
    }
    writeFileSync(path, SPANS.header + lines.map((l) => `${l}\n`).join(''))
    await store.insertFile({ table: 'spans', columns: SPANS.columns, format: SEGMENT_FORMATS[SPOOL_FORMAT], path })
    const got = await rows<{ name: string; input: string; tags: string[]; attributes: Record<string, string> }>(
      'SELECT name, input, tags, attributes FROM spans WHERE project_id = {project:String} ORDER BY span_id',
      { project },
    )
    expect(got).toEqual(values.map((v) => ({ name: v, input: v, tags: [v], attributes: { [v]: v } })))
  })
})
