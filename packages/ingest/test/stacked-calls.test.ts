import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bearer, KEYS, startServer, type TestServer } from './helpers/server.js'

// Recorded, not built (fixtures/otlp/README.md): @anthropic-ai/sdk 0.137.0 traces itself, so under
// OpenLLMetry's Anthropic instrumentation (@traceloop/node-server-sdk 0.27.0) or OpenInference's
// (@arizeai/openinference-instrumentation-anthropic 0.2.8) each call is that library's span with the
// SDK's `anthropic.messages.create` under it, both with the call's usage. Traceloop copies the
// Messages API's input_tokens (cache left out), the SDK and OpenInference count the cache in.
let server: TestServer
const LIBRARIES = [
  { dir: 'openllmetry-anthropic', service: 'fixture-openllmetry-anthropic', outer: 'chat claude-haiku-4-5' },
  { dir: 'openinference-anthropic', service: 'fixture-openinference-anthropic', outer: 'Anthropic Messages' },
]

interface Row {
  trace_id: string
  span_id: string
  parent_span_id: string
  name: string
  kind: string
  request_model: string
  response_model: string
  input_tokens: number
  output_tokens: number
  cache_read_tokens: number
  cache_write_tokens: number
  cost_usd: number | null
  ttft_ms: number | null
  finish_reason: string
  status_code: string
  attributes: Record<string, string>
}

beforeAll(async () => {
  // Recorded payloads keep the times they were recorded at: retention 0 keeps them whatever
  // their age, and the summary below asks for a range from before the recording on.
  server = await startServer({ SPANLENS_RETENTION_DAYS: '0' })
  for (const { dir } of LIBRARIES) {
    for (const file of ['chat.pb', 'stream.pb', 'tool-call.pb', 'error-429.pb']) {
      const res = await fetch(`${server.url}/v1/traces`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-protobuf', ...bearer(KEYS.acme) },
        body: readFileSync(new URL(`./fixtures/otlp/${dir}/${file}`, import.meta.url)),
      })
      expect(res.status, `${dir}/${file}`).toBe(200)
    }
  }
  await server.app.spanlens.flush()
})
afterAll(() => server?.close())

const api = async <T>(path: string): Promise<T> => {
  const res = await fetch(`${server.url}/api/v1/${path}`, { headers: bearer(KEYS.acme) })
  expect(res.status, path).toBe(200)
  return (await res.json()) as T
}

// The fake provider's usage per call, cache included (OpenTelemetry's input tokens):
// chat 14 + 1200 read + 300 written = 1514 in, 9 out; stream 19/12; tool call 61/17, then 84 + 32 read = 116/12;
// and a call refused with 429, no usage.
const INPUT = 1514 + 19 + 61 + 116
const OUTPUT = 9 + 12 + 17 + 12

describe.each(LIBRARIES)('one Anthropic call reported by $dir and by the Anthropic SDK itself', ({ service: SERVICE, outer: OUTER }) => {
  const modelRows = () =>
    server.rows<Row>(
      `SELECT * FROM spans FINAL WHERE project_id = 'acme' AND service_name = {s:String} AND name IN ('anthropic.messages.create', {o:String}) ORDER BY start_time, name`,
      { s: SERVICE, o: OUTER },
    )

  it('is counted once in token and cost sums, from spans and from the per-minute rollup', async () => {
    const [spans] = await server.rows<{ calls: number; input: number; output: number; priced: number; cost: number }>(
      `SELECT countIf(kind = 'llm') AS calls, sum(input_tokens) AS input, sum(output_tokens) AS output, countIf(cost_usd > 0) AS priced, sum(ifNull(cost_usd, 0)) AS cost FROM spans FINAL WHERE project_id = 'acme' AND service_name = '${SERVICE}'`,
    )
    expect(spans).toMatchObject({ calls: 5, input: INPUT, output: OUTPUT, priced: 4 })
    // claude-haiku-4-5 per million: $1 fresh input, $0.10 cache read, $1.25 cache write, $5 output.
    const cost = ((14 + 19 + 61 + 84) * 1 + (1200 + 32) * 0.1 + 300 * 1.25 + OUTPUT * 5) / 1e6
    expect(spans?.cost).toBeCloseTo(cost, 10)
    const [rollup] = await server.rows<{ calls: number; input: number; output: number }>(
      `SELECT sum(calls) AS calls, sum(input_tokens) AS input, sum(output_tokens) AS output FROM spans_minute WHERE project_id = 'acme' AND service_name = '${SERVICE}' AND kind = 'llm'`,
    )
    expect(rollup).toEqual({ calls: 5, input: INPUT, output: OUTPUT })
    const summary = await api<{ rows: Array<{ calls: number; tokens: { input: number; output: number }; costUsd: number }> }>(`summary?service=${SERVICE}&kind=llm&from=2026-01-01T00:00:00Z`)
    expect(summary.rows.map((r) => [r.calls, r.tokens.input, r.tokens.output])).toEqual([[5, INPUT, OUTPUT]])
    expect(summary.rows[0]?.costUsd).toBeCloseTo(cost, 10)
  })

  it("keeps both spans in the trace: the SDK span under the library's, marked with the span that counts and its own usage", async () => {
    const rows = await modelRows()
    const outer = rows.find((r) => r.name === OUTER && r.input_tokens === 1514) as Row
    expect(outer).toMatchObject({ kind: 'llm', request_model: 'claude-haiku-4-5', response_model: 'claude-haiku-4-5-20251001', output_tokens: 9, cache_read_tokens: 1200, cache_write_tokens: 300 })
    const trace = await api<{
      totals: { llmCalls: number; tokens: { input: number; output: number } }
      roots: Array<{ name: string; kind: string; children: Array<{ name: string; kind: string; attributes: Record<string, string> }> }>
    }>(`traces/${outer.trace_id}`)
    expect(trace.totals).toMatchObject({ llmCalls: 1, tokens: { input: 1514, output: 9 } })
    expect(trace.roots).toHaveLength(1)
    expect(trace.roots[0]).toMatchObject({ name: OUTER, kind: 'llm' })
    expect(trace.roots[0]?.children).toHaveLength(1)
    expect(trace.roots[0]?.children[0]).toMatchObject({ name: 'anthropic.messages.create', kind: 'other' })
    expect(trace.roots[0]?.children[0]?.attributes).toMatchObject({
      'spanlens.duplicate_of': outer.span_id,
      'spanlens.duplicate.input_tokens': '1514',
      'spanlens.duplicate.cache_read_tokens': '1200',
      'spanlens.duplicate.cache_write_tokens': '300',
      'gen_ai.usage.input_tokens': '1514',
    })
  })

  it('both instrumentations name the model asked for and the one that answered alike', async () => {
    const rows = await modelRows()
    const answered = rows.filter((r) => r.status_code !== 'error')
    expect(answered).toHaveLength(8)
    expect(new Set(answered.map((r) => `${r.request_model} -> ${r.response_model}`))).toEqual(new Set(['claude-haiku-4-5 -> claude-haiku-4-5-20251001']))
  })

  it("a streamed call's counted span takes the SDK span's time to first token and stop reason", async () => {
    const rows = await modelRows()
    const stream = rows.find((r) => r.name === OUTER && r.input_tokens === 19)
    // The fake provider sends the first delta after 150 ms.
    expect(stream?.ttft_ms).toBeGreaterThanOrEqual(150)
    expect(stream?.finish_reason).toBe('stop')
  })

  it('two different calls of one workflow each count once', async () => {
    const rows = await modelRows()
    const tool = rows.filter((r) => r.kind === 'llm' && (r.input_tokens === 61 || r.input_tokens === 116))
    expect(tool.map((r) => [r.input_tokens, r.output_tokens, r.finish_reason])).toEqual([
      [61, 17, 'tool_calls'],
      [116, 12, 'stop'],
    ])
    expect(new Set(tool.map((r) => r.trace_id)).size).toBe(1)
    expect(rows.filter((r) => r.trace_id === tool[0]?.trace_id && r.kind === 'other')).toHaveLength(2)
  })

  it('a refused call, with no usage on either span, counts as one failed call, in spans and in the rollup', async () => {
    const [spans] = await server.rows<{ failed: number; demoted: number }>(
      `SELECT countIf(kind = 'llm' AND status_code = 'error') AS failed, countIf(kind = 'other' AND status_code = 'error' AND attributes['spanlens.duplicate_of'] != '') AS demoted FROM spans FINAL WHERE project_id = 'acme' AND service_name = '${SERVICE}'`,
    )
    expect(spans).toEqual({ failed: 1, demoted: 1 })
    const [rollup] = await server.rows<{ errors: number }>(
      `SELECT sum(errors) AS errors FROM spans_minute WHERE project_id = 'acme' AND service_name = '${SERVICE}' AND kind = 'llm'`,
    )
    expect(rollup).toEqual({ errors: 1 })
  })
})
