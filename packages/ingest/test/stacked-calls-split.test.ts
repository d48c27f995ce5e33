import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { jsonRequest, llmAttrs } from './helpers/otlp.js'
import { bearer, KEYS, startServer, type TestServer } from './helpers/server.js'

// A stacked pair (stacked-calls.test.ts) whose two spans an SDK's batch processor exported in two
// requests: the inner span at the end of one batch, the outer one, ending milliseconds later, in the next.
const hex = (n: number, bytes: number) => n.toString(16).padStart(bytes * 2, '0')
const trace = (n: number) => hex(0xfeed0000 + n, 16)
const spanId = (n: number, i: number) => hex(0x5a000000 + n * 16 + i, 8)

/** One model call (parent span `outer`, child `inner`, same usage), or two calls when the usage differs. */
const pair = (n: number, service: string, innerUsage = 100) => ({
  outer: jsonRequest([{ traceId: trace(n), spanId: spanId(n, 0), name: 'chat gpt-4o-mini', attributes: llmAttrs('gpt-4o-mini', 100, 20) }], service),
  inner: jsonRequest([{ traceId: trace(n), spanId: spanId(n, 1), parentSpanId: spanId(n, 0), name: 'openai.chat', attributes: llmAttrs('gpt-4o-mini', innerUsage, 20) }], service),
})

describe.each([0, 2])('a stacked pair split across two export requests (%i prepare workers)', (workers) => {
  let server: TestServer
  const service = `split-pairs-${workers}`
  const send = async (body: unknown) => {
    const res = await fetch(`${server.url}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json', ...bearer(KEYS.acme) }, body: JSON.stringify(body) })
    expect(res.status).toBe(200)
  }
  const innerFirst = pair(1, service)
  const outerFirst = pair(2, service)
  const twoCalls = pair(3, service, 101)

  beforeAll(async () => {
    server = await startServer({ SPANLENS_INGEST_WORKERS: String(workers) })
    await send(innerFirst.inner)
    await send(innerFirst.outer)
    await send(outerFirst.outer)
    await send(outerFirst.inner)
    await send(twoCalls.inner)
    await send(twoCalls.outer)
    await server.app.spanlens.flush()
  })
  afterAll(() => server?.close())

  const llmSums = () =>
    server.rows<{ calls: number; input: number; output: number }>(
      `SELECT countIf(kind = 'llm') AS calls, sum(input_tokens) AS input, sum(output_tokens) AS output FROM spans FINAL WHERE project_id = 'acme' AND service_name = {s:String}`,
      { s: service },
    )

  it('counts the call once in spans and in the per-minute rollup, whichever half came first', async () => {
    expect(await llmSums()).toEqual([{ calls: 4, input: 100 + 100 + 100 + 101, output: 80 }])
    const rollup = await server.rows<{ calls: number; input: number }>(
      `SELECT sum(calls) AS calls, sum(input_tokens) AS input FROM spans_minute WHERE project_id = 'acme' AND service_name = {s:String} AND kind = 'llm'`,
      { s: service },
    )
    expect(rollup).toEqual([{ calls: 4, input: 401 }])
  })

  it('demotes the half that came second, naming the span that counts', async () => {
    const rows = await server.rows<{ trace_id: string; span_id: string; kind: string; input_tokens: number; dup: string; dupInput: string }>(
      `SELECT trace_id, span_id, kind, input_tokens, attributes['spanlens.duplicate_of'] AS dup, attributes['spanlens.duplicate.input_tokens'] AS dupInput
       FROM spans FINAL WHERE project_id = 'acme' AND service_name = {s:String} AND kind = 'other' ORDER BY trace_id`,
      { s: service },
    )
    expect(rows).toEqual([
      { trace_id: trace(1), span_id: spanId(1, 0), kind: 'other', input_tokens: 0, dup: spanId(1, 1), dupInput: '100' },
      { trace_id: trace(2), span_id: spanId(2, 1), kind: 'other', input_tokens: 0, dup: spanId(2, 0), dupInput: '100' },
    ])
  })

  it('prepares a retried request as the first time: what counted still counts, what was demoted stays demoted', async () => {
    for (const body of [innerFirst.inner, innerFirst.outer, outerFirst.outer, outerFirst.inner]) await send(body)
    await server.app.spanlens.flush()
    expect(await llmSums()).toEqual([{ calls: 4, input: 401, output: 80 }])
  })
})
