import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { jsonRequest, llmAttrs, protobufRequest } from './helpers/otlp.js'
import { otlpTypes } from './helpers/proto.js'
import { bearer, KEYS, startServer, type TestServer } from './helpers/server.js'

// An exporter whose reply was lost (a timeout, a reset connection) sends the same request again.
describe.each([0, 2])('a repeated export request (%i prepare workers)', (workers) => {
  let server: TestServer
  const post = (body: Buffer | string, json: boolean, key = KEYS.acme) =>
    fetch(`${server.url}/v1/traces`, { method: 'POST', headers: { 'content-type': json ? 'application/json' : 'application/x-protobuf', ...bearer(key) }, body })
  const counts = async (service: string) => {
    await server.app.spanlens.flush()
    const [spans] = await server.rows<{ n: number }>(`SELECT count() AS n FROM spans FINAL WHERE service_name = {s:String}`, { s: service })
    const [rollup] = await server.rows<{ calls: number; input: number }>(`SELECT sum(calls) AS calls, sum(input_tokens) AS input FROM spans_minute WHERE service_name = {s:String}`, { s: service })
    return { spans: spans?.n, calls: rollup?.calls, input: rollup?.input }
  }
  const repeated = async () => {
    const text = (await server.app.inject({ method: 'GET', url: '/metrics' })).body
    return Number(/spanlens_ingest_requests_repeated_total\{signal="traces",project="acme"\} (\d+)/.exec(text)?.[1] ?? 0)
  }

  beforeAll(async () => {
    server = await startServer({ SPANLENS_INGEST_WORKERS: String(workers) })
  })
  afterAll(() => server?.close())

  it('is answered as the first was and stored once, so the per-minute rollup counts its spans once', async () => {
    const service = `repeat-seq-${workers}`
    const request = jsonRequest([{ attributes: llmAttrs('gpt-4o-mini', 100, 20) }, { attributes: llmAttrs('gpt-4o-mini', 7, 3) }, { name: 'bad', startTimeUnixNano: '1' }], service)
    const body = protobufRequest(request)
    const before = await repeated()
    const replies = []
    for (let i = 0; i < 3; i++) {
      const res = await post(body, false)
      expect(res.status).toBe(200)
      replies.push(otlpTypes().response.toObject(otlpTypes().response.decode(new Uint8Array(await res.arrayBuffer())), { longs: Number }))
    }
    // The same partial success every time: the span refused the first time is named again.
    expect(replies[0]).toMatchObject({ partialSuccess: { rejectedSpans: 1 } })
    expect(replies[1]).toEqual(replies[0])
    expect(replies[2]).toEqual(replies[0])
    expect(await counts(service)).toEqual({ spans: 2, calls: 2, input: 107 })
    expect((await repeated()) - before).toBe(2)
  })

  it('sent again while the first is still being written, waits for it and is stored once', async () => {
    const service = `repeat-concurrent-${workers}`
    const body = JSON.stringify(jsonRequest(Array.from({ length: 50 }, (_, i) => ({ attributes: llmAttrs('gpt-4o', 10 + i, 1) })), service))
    const statuses = await Promise.all(Array.from({ length: 4 }, () => post(body, true).then((r) => r.status)))
    expect(statuses).toEqual([200, 200, 200, 200])
    expect(await counts(service)).toEqual({ spans: 50, calls: 50, input: 50 * 10 + (49 * 50) / 2 })
  })

  it('is a repeat only of the same bytes: a span sent again with other content of the same length is stored', async () => {
    const service = `repeat-changed-${workers}`
    const [first] = (jsonRequest([{ attributes: llmAttrs('gpt-4o-mini', 100, 1) }], service).resourceSpans as Array<{ scopeSpans: Array<{ spans: Array<Record<string, unknown>> }> }>)[0]!.scopeSpans[0]!.spans
    const body = (tokens: number) => {
      const request = jsonRequest([{ ...first, attributes: llmAttrs('gpt-4o-mini', tokens, 1) }], service)
      return JSON.stringify(request)
    }
    const [draft, final] = [body(100), body(999)]
    expect(final.length).toBe(draft.length)
    expect((await post(draft, true)).status).toBe(200)
    expect((await post(final, true)).status).toBe(200)
    await server.app.spanlens.flush()
    expect(await server.rows(`SELECT input_tokens FROM spans FINAL WHERE service_name = {s:String}`, { s: service })).toEqual([{ input_tokens: 999 }])
  })

  it('is a repeat only of the same project and the same spans', async () => {
    const service = `repeat-other-${workers}`
    const spans = [{ attributes: llmAttrs('gpt-4o-mini', 5, 5) }]
    const first = jsonRequest(spans, service)
    expect((await post(JSON.stringify(first), true)).status).toBe(200)
    // Another project sending the same bytes stores its own spans.
    expect((await post(JSON.stringify(first), true, KEYS.other)).status).toBe(200)
    // New spans (new ids) in a body of the same size are a new request.
    expect((await post(JSON.stringify(jsonRequest(spans, service)), true)).status).toBe(200)
    await server.app.spanlens.flush()
    const rows = await server.rows<{ project_id: string; n: number }>(
      `SELECT project_id, count() AS n FROM spans FINAL WHERE service_name = {s:String} GROUP BY project_id ORDER BY project_id`,
      { s: service },
    )
    expect(rows).toEqual([
      { project_id: 'acme', n: 2 },
      { project_id: 'other', n: 1 },
    ])
  })
})
