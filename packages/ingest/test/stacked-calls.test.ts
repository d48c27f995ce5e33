import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bearer, KEYS, startServer, type TestServer } from './helpers/server.js'
import { jsonRequest } from './helpers/otlp.js'

// OpenLLMetry's Anthropic instrumentation and the Anthropic SDK's own tracing on one
// call: Traceloop's `anthropic.chat` with the library's `anthropic.messages.create`
// under it, both with the call's usage (the shapes each library sends).
let server: TestServer
const TRACE = 'abcdef0123456789abcdef0123456789'

const str = (key: string, v: string) => ({ key, value: { stringValue: v } })
const int = (key: string, v: number) => ({ key, value: { intValue: String(v) } })
const usage = (input: number, output: number) => [int('gen_ai.usage.input_tokens', input), int('gen_ai.usage.output_tokens', output)]

beforeAll(async () => {
  server = await startServer()
  const body = jsonRequest(
    [
      { traceId: TRACE, spanId: '0000000000000001', name: 'answer', attributes: [str('traceloop.span.kind', 'workflow')] },
      {
        traceId: TRACE,
        spanId: '0000000000000002',
        parentSpanId: '0000000000000001',
        name: 'anthropic.chat',
        attributes: [str('gen_ai.system', 'Anthropic'), str('gen_ai.request.model', 'claude-3-5-haiku-20241022'), str('llm.request.type', 'chat'), ...usage(1200, 300)],
      },
      {
        traceId: TRACE,
        spanId: '0000000000000003',
        parentSpanId: '0000000000000002',
        name: 'anthropic.messages.create',
        attributes: [str('gen_ai.provider.name', 'anthropic'), str('gen_ai.operation.name', 'chat'), str('gen_ai.request.model', 'claude-3-5-haiku-20241022'), ...usage(1200, 300)],
      },
      // A second, different call in the same trace counts on its own.
      {
        traceId: TRACE,
        spanId: '0000000000000004',
        parentSpanId: '0000000000000001',
        name: 'anthropic.chat',
        attributes: [str('gen_ai.system', 'Anthropic'), str('gen_ai.request.model', 'claude-3-5-haiku-20241022'), ...usage(50, 5)],
      },
    ],
    'stacked-svc',
  )
  const res = await fetch(`${server.url}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json', ...bearer(KEYS.acme) }, body: JSON.stringify(body) })
  expect(res.status).toBe(200)
  await server.app.spanlens.flush()
})
afterAll(() => server?.close())

const api = async <T>(path: string): Promise<T> => {
  const res = await fetch(`${server.url}/api/v1/${path}`, { headers: bearer(KEYS.acme) })
  expect(res.status, path).toBe(200)
  return (await res.json()) as T
}

describe('one model call reported by two stacked instrumentations', () => {
  it('is counted once in token and cost sums, from spans and from the per-minute rollup', async () => {
    const [spans] = await server.rows<{ calls: number; input: number; output: number; priced: number }>(
      "SELECT countIf(kind = 'llm') AS calls, sum(input_tokens) AS input, sum(output_tokens) AS output, countIf(cost_usd > 0) AS priced FROM spans WHERE project_id = 'acme' AND service_name = 'stacked-svc'",
    )
    expect(spans).toEqual({ calls: 2, input: 1250, output: 305, priced: 2 })
    const [rollup] = await server.rows<{ calls: number; input: number }>(
      "SELECT sum(calls) AS calls, sum(input_tokens) AS input FROM spans_minute WHERE project_id = 'acme' AND service_name = 'stacked-svc' AND kind = 'llm'",
    )
    expect(rollup).toEqual({ calls: 2, input: 1250 })
    const summary = await api<{ rows: Array<{ calls: number; tokens: { input: number; output: number } }> }>('summary?service=stacked-svc&kind=llm&from=now-1h')
    expect(summary.rows.map((r) => [r.calls, r.tokens.input, r.tokens.output])).toEqual([[2, 1250, 305]])
  })

  it('keeps both spans in the trace, the inner one marked with the span that counts and its own usage', async () => {
    const trace = await api<{ totals: { llmCalls: number; tokens: { input: number } }; roots: Array<{ children: Array<{ name: string; kind: string; children: Array<{ name: string; kind: string; attributes: Record<string, string> }> }> }> }>(
      `traces/${TRACE}`,
    )
    expect(trace.totals).toMatchObject({ llmCalls: 2, tokens: { input: 1250 } })
    const chat = trace.roots[0]?.children.find((c) => c.children.length > 0)
    expect(chat).toMatchObject({ name: 'anthropic.chat', kind: 'llm' })
    expect(chat?.children[0]).toMatchObject({ name: 'anthropic.messages.create', kind: 'other' })
    expect(chat?.children[0]?.attributes).toMatchObject({ 'spanlens.duplicate_of': '0000000000000002', 'spanlens.duplicate.input_tokens': '1200' })
  })
})
