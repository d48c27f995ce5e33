import { randomBytes, randomUUID } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { gzipSync } from 'node:zlib'
import { pino } from 'pino'
import { tempDir } from './helpers/tmp.js'
import { rawBlock, zstdBomb, zstdFrame, zstdStored } from './helpers/zstd.js'
import { context, trace, SpanStatusCode } from '@opentelemetry/api'
import { OTLPTraceExporter as ProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto'
import { OTLPTraceExporter as JsonExporter } from '@opentelemetry/exporter-trace-otlp-http'
import { resourceFromAttributes } from '@opentelemetry/resources'
import { BasicTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadConfig } from '../src/config/load.js'
import { otlpTypes } from './helpers/proto.js'
import { buildServer } from '../src/server.js'
import { bearer, KEYS, startServer, type TestServer } from './helpers/server.js'
import { jsonRequest, llmAttrs, protobufRequest } from './helpers/otlp.js'

let server: TestServer
beforeAll(async () => {
  server = await startServer({ SPANLENS_BODY_LIMIT_BYTES: String(2 * 1024 * 1024) })
})
afterAll(() => server.close())

const post = (body: string | Uint8Array, headers: Record<string, string>, path = '/v1/traces') =>
  fetch(`${server.url}${path}`, { method: 'POST', headers, body })
const json = (body: unknown, key = KEYS.acme) =>
  post(JSON.stringify(body), { 'content-type': 'application/json', ...bearer(key) })
const count = async (where: string, params: Record<string, unknown> = {}) => {
  await server.app.spanlens.flush()
  const [r] = await server.rows<{ c: string }>(`SELECT count() AS c FROM spans FINAL WHERE ${where}`, params)
  return Number(r?.c)
}

describe('OpenTelemetry SDK exporters send to the receiver unchanged', () => {
  for (const [name, Exporter, compression] of [
    ['exporter-trace-otlp-proto', ProtoExporter, 'none'],
    ['exporter-trace-otlp-proto with gzip', ProtoExporter, 'gzip'],
    ['exporter-trace-otlp-http (JSON)', JsonExporter, 'none'],
  ] as const) {
    it(`${name}`, async () => {
      const exporter = new Exporter({
        url: `${server.url}/v1/traces`,
        headers: { authorization: `Bearer ${KEYS.acme}` },
        compression: compression as never,
      })
      // A service of this attempt's own: a retried attempt (cluster mode) must not read the spans of the one before.
      const service = `svc-${name.replace(/\W+/g, '-')}-${randomUUID().slice(0, 8)}`
      const provider = new BasicTracerProvider({
        resource: resourceFromAttributes({ 'service.name': service, 'deployment.environment.name': 'test', 'service.version': '1.2.3' }),
        spanProcessors: [new SimpleSpanProcessor(exporter)],
      })
      const tracer = provider.getTracer('receiver-test')
      {
        const root = tracer.startSpan('chain')
        const llm = tracer.startSpan('chat gpt-4o-mini', {
          attributes: {
            'gen_ai.operation.name': 'chat',
            'gen_ai.provider.name': 'openai',
            'gen_ai.request.model': 'gpt-4o-mini',
            'gen_ai.usage.input_tokens': 1000,
            'gen_ai.usage.output_tokens': 100,
            'gen_ai.response.finish_reasons': ['stop'],
            'gen_ai.input.messages': JSON.stringify([{ role: 'user', parts: [{ type: 'text', content: 'héllo 🌍' }] }]),
            'user.id': 'u-1',
          },
        }, trace.setSpan(context.active(), root))
        llm.setStatus({ code: SpanStatusCode.OK })
        llm.end()
        root.end()
      }
      await provider.forceFlush()
      await provider.shutdown()
      await server.app.spanlens.flush()
      const stored = await server.rows<Record<string, unknown>>(
        "SELECT * FROM spans FINAL WHERE project_id = 'acme' AND service_name = {s:String} ORDER BY name",
        { s: service },
      )
      expect(stored).toHaveLength(2)
      const [chain, llm] = stored as [Record<string, unknown>, Record<string, unknown>]
      expect(llm).toMatchObject({
        kind: 'llm',
        provider: 'openai',
        request_model: 'gpt-4o-mini',
        input_tokens: 1000,
        output_tokens: 100,
        total_tokens: 1100,
        finish_reason: 'stop',
        status_code: 'ok',
        user_id: 'u-1',
        environment: 'test',
        release: '1.2.3',
        parent_span_id: chain.span_id,
        trace_id: chain.trace_id,
      })
      // 1000 × $0.15/M + 100 × $0.60/M
      expect(llm.cost_usd).toBeCloseTo(0.00021, 10)
      expect(JSON.parse(llm.input as string)[0].parts[0].content).toBe('héllo 🌍')
      expect(chain.kind).toBe('other')
    })
  }
})

describe('OTLP/HTTP responses', () => {
  it('an empty request is a success', async () => {
    const res = await post('', { 'content-type': 'application/json', ...bearer(KEYS.acme) })
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({})
    const res2 = await post(Buffer.alloc(0), { 'content-type': 'application/x-protobuf', ...bearer(KEYS.acme) })
    expect(res2.status).toBe(200)
  })

  it('keeps valid spans and reports invalid ones as partial success (JSON)', async () => {
    const marker = `partial-${Date.now()}`
    const req = jsonRequest(
      [
        { name: marker },
        { name: marker, traceId: 'not-hex' },
        { name: marker, spanId: '0000000000000000' },
        { name: marker, startTimeUnixNano: '2000', endTimeUnixNano: '1000' },
        { name: 12345 },
        { name: marker, kind: 'WEIRD' },
      ],
    )
    const res = await json(req)
    expect(res.status).toBe(200)
    const body = (await res.json()) as { partialSuccess: { rejectedSpans: string; errorMessage: string } }
    expect(body.partialSuccess.rejectedSpans).toBe('5')
    expect(body.partialSuccess.errorMessage).toMatch(/invalid trace_id/)
    expect(body.partialSuccess.errorMessage).toMatch(/invalid span_id/)
    expect(await count('name = {n:String}', { n: marker })).toBe(1)
  })

  it('answers protobuf requests in protobuf, with partial_success', async () => {
    const marker = `pb-partial-${Date.now()}`
    const req = jsonRequest([{ name: marker }, { name: marker, spanId: '0000000000000000' }])
    const res = await post(protobufRequest(req), { 'content-type': 'application/x-protobuf', ...bearer(KEYS.acme) })
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/application\/x-protobuf/)
    const decoded = otlpTypes().response.toObject(otlpTypes().response.decode(Buffer.from(await res.arrayBuffer())), { longs: String })
    expect(decoded.partialSuccess.rejectedSpans).toBe('1')
    expect(await count('name = {n:String}', { n: marker })).toBe(1)
  })

  it('accepts int64 as numbers or strings, deflate bodies, and ignores unknown fields', async () => {
    const marker = `variants-${Date.now()}`
    const now = Date.now() * 1e6
    const req = jsonRequest([{ name: marker, startTimeUnixNano: now, endTimeUnixNano: now + 1e6, unknownField: { x: 1 }, attributes: llmAttrs() }])
    ;(req as { extra?: number }).extra = 1
    const { deflateSync } = await import('node:zlib')
    const res = await post(deflateSync(JSON.stringify(req)), {
      'content-type': 'application/json; charset=utf-8',
      'content-encoding': 'deflate',
      ...bearer(KEYS.acme),
    })
    expect(res.status).toBe(200)
    expect(await count("name = {n:String} AND input_tokens = 100 AND kind = 'llm'", { n: marker })).toBe(1)
  })

  it('stores token counts past UInt32 at its largest value, the total made of them too (it wrapped around to 0)', async () => {
    const marker = `tokens-${Date.now()}`
    const now = Date.now() * 1e6
    const max = 4_294_967_295
    const res = await json(jsonRequest([{ name: marker, startTimeUnixNano: now, endTimeUnixNano: now + 1e6, attributes: llmAttrs('gpt-4o', max, 5) }]))
    expect(res.status).toBe(200)
    expect(await count(`name = {n:String} AND input_tokens = ${max} AND output_tokens = 5 AND total_tokens = ${max}`, { n: marker })).toBe(1)
  })
})

describe('an attribute named __proto__', () => {
  it('is stored like any other, in JSON and protobuf, on the span, its resource and inside a map (it was lost)', async () => {
    const name = `proto-${randomUUID()}`
    const attributes = [
      { key: '__proto__', value: { stringValue: 'on the span' } },
      { key: 'm', value: { kvlistValue: { values: [{ key: '__proto__', value: { intValue: '7' } }] } } },
    ]
    const request = jsonRequest([{ name, attributes }])
    const resource = (request.resourceSpans as Array<{ resource: { attributes: unknown[] } }>)[0]!.resource
    resource.attributes.push({ key: '__proto__', value: { stringValue: 'on the resource' } })
    expect((await json(request)).status).toBe(200)
    const proto = await post(protobufRequest(jsonRequest([{ name, attributes }])), { 'content-type': 'application/x-protobuf', ...bearer(KEYS.acme) })
    expect(proto.status).toBe(200)
    await server.app.spanlens.flush()
    const rows = await server.rows<{ a: string; m: string; r: string }>(
      "SELECT attributes['__proto__'] AS a, attributes['m'] AS m, resource_attributes['__proto__'] AS r FROM spans FINAL WHERE name = {n:String} ORDER BY r",
      { n: name },
    )
    expect(rows).toEqual([
      { a: 'on the span', m: '{"__proto__":7}', r: '' },
      { a: 'on the span', m: '{"__proto__":7}', r: 'on the resource' },
    ])
  })
})

describe('bad input gets the right status and the server stays up', () => {
  const healthy = async () => expect((await fetch(`${server.url}/healthz`)).status).toBe(200)

  it('truncated protobuf → 400 with a protobuf google.rpc.Status', async () => {
    const pb = protobufRequest(jsonRequest([{ attributes: llmAttrs() }, {}]))
    const res = await post(pb.subarray(0, pb.length - 7), { 'content-type': 'application/x-protobuf', ...bearer(KEYS.acme) })
    expect(res.status).toBe(400)
    const status = otlpTypes().status.decode(Buffer.from(await res.arrayBuffer())) as unknown as { code: number; message: string }
    expect(status.code).toBe(3)
    expect(status.message).toMatch(/SPANLENS_BAD_OTLP/)
    await healthy()
  })

  it.each([
    ['not JSON', '{"resourceSpans": ['],
    ['a JSON array', '[]'],
    ['resourceSpans of the wrong type', '{"resourceSpans": "yes"}'],
  ])('%s → 400 SPANLENS_BAD_OTLP', async (_name, body) => {
    const res = await post(body, { 'content-type': 'application/json', ...bearer(KEYS.acme) })
    expect(res.status).toBe(400)
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('SPANLENS_BAD_OTLP')
    await healthy()
  })

  it('wrong value types inside a span reject only that span', async () => {
    const marker = `types-${Date.now()}`
    const res = await json(jsonRequest([{ name: marker }, { name: marker, startTimeUnixNano: 'yesterday' }, { name: marker, status: { code: 1.5 } }]))
    const body = (await res.json()) as { partialSuccess: { rejectedSpans: string } }
    expect(body.partialSuccess.rejectedSpans).toBe('2')
    expect(await count('name = {n:String}', { n: marker })).toBe(1)
  })

  it('huge attribute values are truncated, not fatal', async () => {
    const marker = `huge-${Date.now()}`
    const big = 'x'.repeat(1_500_000)
    const res = await json(jsonRequest([{ name: marker, attributes: [{ key: 'big', value: { stringValue: big } }] }]))
    expect(res.status).toBe(200)
    await server.app.spanlens.flush()
    const [r] = await server.rows<{ n: string }>("SELECT length(attributes['big']) AS n FROM spans WHERE name = {m:String}", { m: marker })
    expect(Number(r?.n)).toBeLessThan(1_100_000)
    expect(Number(r?.n)).toBeGreaterThan(1_000_000)
  })

  it('deeply nested values are cut at a fixed depth (JSON and protobuf)', async () => {
    const marker = `deep-${Date.now()}`
    const nest = (depth: number) => {
      let value: Record<string, unknown> = { stringValue: 'leaf' }
      for (let i = 0; i < depth; i++) value = { kvlistValue: { values: [{ key: 'k', value }] } }
      return value
    }
    // 5000 levels, built as text: JSON.stringify itself would overflow the stack.
    const deepText = '{"kvlistValue":{"values":[{"key":"k","value":'.repeat(5000) + '{"stringValue":"leaf"}' + '}]}}'.repeat(5000)
    const body = JSON.stringify(jsonRequest([{ name: marker, attributes: [{ key: 'deep', value: { stringValue: '@@DEEP@@' } }] }]))
    const res = await post(body.replace('{"stringValue":"@@DEEP@@"}', deepText), { 'content-type': 'application/json', ...bearer(KEYS.acme) })
    expect(res.status).toBe(200)
    // (protobufjs caps message nesting on encode and decode, so this body is shallower)
    const pbRes = await post(protobufRequest(jsonRequest([{ name: marker, attributes: [{ key: 'deep', value: nest(25) }] }])), {
      'content-type': 'application/x-protobuf',
      ...bearer(KEYS.acme),
    })
    expect(pbRes.status).toBe(200)
    await server.app.spanlens.flush()
    const [r] = await server.rows<{ v: string }>("SELECT attributes['deep'] AS v FROM spans WHERE name = {m:String} LIMIT 1", { m: marker })
    expect(r?.v).toContain('[max depth exceeded]')
    await healthy()
  })

  it('a gzip bomb is refused with 413 without inflating it all', async () => {
    // 200 MB of zeros compress to ~200 KB; the limit here is 2 MiB.
    const bomb = gzipSync(Buffer.alloc(200 * 1024 * 1024))
    const before = process.memoryUsage().rss
    const res = await post(bomb, { 'content-type': 'application/x-protobuf', 'content-encoding': 'gzip', ...bearer(KEYS.acme) })
    expect(res.status).toBe(413)
    expect(process.memoryUsage().rss - before).toBeLessThan(100 * 1024 * 1024)
    const plain = await post(Buffer.alloc(3 * 1024 * 1024), { 'content-type': 'application/json', ...bearer(KEYS.acme) })
    expect(plain.status).toBe(413)
    await healthy()
  })

  it('corrupt gzip → 400, unknown content encoding → 415', async () => {
    const res = await post(Buffer.from('not gzip at all'), { 'content-type': 'application/json', 'content-encoding': 'gzip', ...bearer(KEYS.acme) })
    expect(res.status).toBe(400)
    const res2 = await post('{}', { 'content-type': 'application/json', 'content-encoding': 'compress', ...bearer(KEYS.acme) })
    expect(res2.status).toBe(415)
    expect(((await res2.json()) as { error: { message: string } }).error.message).toBe('unsupported content encoding "compress"; send gzip, deflate, br, zstd or identity')
  })

  it('a zstd body is decoded; a zstd bomb is 413, a corrupt or oversized-window frame 400', async () => {
    const marker = `zstd-${Date.now()}`
    const body = Buffer.from(JSON.stringify(jsonRequest([{ name: marker, attributes: llmAttrs() }])))
    const zstd = (b: Buffer) => post(b, { 'content-type': 'application/json', 'content-encoding': 'zstd', ...bearer(KEYS.acme) })
    expect((await zstd(zstdStored(body))).status).toBe(200)
    expect(await count('name = {n:String}', { n: marker })).toBe(1)
    // 64 MiB of output from 2 KB, against this server's 2 MiB limit.
    const bomb = await zstd(zstdBomb(512))
    expect(bomb.status).toBe(413)
    const bad = await zstd(zstdStored(body).subarray(0, 40))
    expect(bad.status).toBe(400)
    expect(((await bad.json()) as { error: { code: string; message: string } }).error).toEqual({ code: 'SPANLENS_BAD_OTLP', message: 'bad OTLP request: could not decompress zstd body: truncated block' })
    expect((await zstd(zstdFrame(2 ** 30, [rawBlock(body)]))).status).toBe(400)
    await healthy()
  })

  it.each([['text/plain'], ['application/xml'], ['']])('content type %j → 415', async (type) => {
    const headers: Record<string, string> = { ...bearer(KEYS.acme) }
    if (type) headers['content-type'] = type
    const res = await fetch(`${server.url}/v1/traces`, { method: 'POST', headers, body: type ? 'hello' : new Uint8Array([1, 2]) })
    expect(res.status).toBe(415)
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('SPANLENS_UNSUPPORTED_MEDIA_TYPE')
  })

  it.each([
    ['no Authorization header', undefined],
    ['an unknown key', 'Bearer not-a-real-key-123'],
    ['an empty bearer', 'Bearer '],
    ['another scheme', 'Token acme-key-0123456789'],
    ['Basic with the wrong project for the key', `Basic ${Buffer.from(`other:${KEYS.acme}`).toString('base64')}`],
  ])('%s → 401', async (_name, authorization) => {
    const headers: Record<string, string> = { 'content-type': 'application/json' }
    if (authorization) headers.authorization = authorization
    const res = await post(JSON.stringify(jsonRequest([{}])), headers)
    expect(res.status).toBe(401)
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('SPANLENS_UNAUTHORIZED')
    await healthy()
  })

  it('the project comes from the key, never from the payload', async () => {
    const marker = `tenancy-${Date.now()}`
    const req = jsonRequest([{ name: marker, attributes: [{ key: 'project_id', value: { stringValue: 'acme' } }] }])
    ;(req.resourceSpans as Array<{ resource: { attributes: unknown[] } }>)[0]?.resource.attributes.push({ key: 'project.id', value: { stringValue: 'acme' } })
    expect((await json(req, KEYS.other)).status).toBe(200)
    await server.app.spanlens.flush()
    const rows = await server.rows<{ project_id: string }>('SELECT project_id FROM spans WHERE name = {m:String}', { m: marker })
    expect(rows).toEqual([{ project_id: 'other' }])
  })
})

describe('what a 200 stores is what was sent; what cannot be is refused, named', () => {
  const hexId = (bytes: number) => randomBytes(bytes).toString('hex')
  const pb = (req: Record<string, unknown>) => post(protobufRequest(req), { 'content-type': 'application/x-protobuf', ...bearer(KEYS.acme) })
  const pbReply = async (res: Response) => otlpTypes().response.toObject(otlpTypes().response.decode(Buffer.from(await res.arrayBuffer())), { longs: String }) as { partialSuccess?: { rejectedSpans?: string; errorMessage?: string } }
  const jsonReply = async (res: Response) => (await res.json()) as { partialSuccess?: { rejectedSpans?: string; rejectedDataPoints?: string; errorMessage?: string } }

  it('a root whose parent_span_id is all zeros (JSON and protobuf) is listed with its trace', async () => {
    const traces = [hexId(16), hexId(16)]
    expect((await json(jsonRequest([{ traceId: traces[0], parentSpanId: '0'.repeat(16) }]))).status).toBe(200)
    expect((await pb(jsonRequest([{ traceId: traces[1], parentSpanId: '0'.repeat(16) }]))).status).toBe(200)
    await server.app.spanlens.flush()
    for (const traceId of traces) {
      const list = (await (await fetch(`${server.url}/api/v1/traces?traceId=${traceId}&from=now-1d`, { headers: bearer(KEYS.acme) })).json()) as { items: Array<{ traceId: string }> }
      expect(list.items.map((t) => t.traceId)).toEqual([traceId])
    }
  })

  it('refuses a span that is its own parent, and a span with a malformed link id (JSON, protobuf), naming them', async () => {
    const self = hexId(8)
    const trace = hexId(16)
    const res = await json(jsonRequest([{ traceId: trace, spanId: self, parentSpanId: self, name: 'self' }, { traceId: trace, name: 'link', links: [{ traceId: 'not-an-id', spanId: 'abc' }] }]))
    const body = await jsonReply(res)
    expect(body.partialSuccess?.rejectedSpans).toBe('2')
    expect(body.partialSuccess?.errorMessage).toContain(`span 0 "self" (${self}): parent_span_id is the span's own span_id`)
    expect(body.partialSuccess?.errorMessage).toMatch(/span 1 "link" \([0-9a-f]{16}\): link 0: invalid trace_id/)
    const pbRes = await pbReply(await pb(jsonRequest([{ traceId: trace, name: 'link', links: [{ traceId: 'abcdef', spanId: hexId(8) }] }])))
    expect(pbRes.partialSuccess?.rejectedSpans).toBe('1')
    expect(pbRes.partialSuccess?.errorMessage).toContain('link 0: invalid trace_id')
    expect(await count('trace_id = {t:String}', { t: trace })).toBe(0)
  })

  it('refuses JSON values of the wrong type, naming the attribute and the type (they were stored converted)', async () => {
    const trace = hexId(16)
    const A = (key: string, value: Record<string, unknown>) => ({ key, value })
    const attrs = [A('flag', { boolValue: 'false' }), A('d', { doubleValue: 'abc' }), A('s', { stringValue: { a: 1 } }), A('gen_ai.usage.input_tokens', { intValue: 2.7 })]
    const res = await json(jsonRequest(attrs.map((a) => ({ traceId: trace, attributes: [a] }))))
    const body = await jsonReply(res)
    expect(body.partialSuccess?.rejectedSpans).toBe('4')
    for (const why of ['attribute "flag": boolValue must be a JSON boolean', 'attribute "d": doubleValue must be a number', 'attribute "s": stringValue must be a string', 'attribute "gen_ai.usage.input_tokens": intValue must be an integer within int64']) {
      expect(body.partialSuccess?.errorMessage).toContain(why)
    }
    expect(await count('trace_id = {t:String}', { t: trace })).toBe(0)
  })

  it('a wrong-typed resource attribute refuses the spans of that resource with a 200, not a 500', async () => {
    const trace = hexId(16)
    const req = jsonRequest([{ traceId: trace }, { traceId: trace }])
    ;(req.resourceSpans as Array<{ resource: { attributes: unknown[] } }>)[0]?.resource.attributes.push({ key: 'k', value: { intValue: 'abc' } })
    const res = await json(req)
    expect(res.status).toBe(200)
    expect((await jsonReply(res)).partialSuccess).toMatchObject({ rejectedSpans: '2', errorMessage: expect.stringContaining('resource attribute "k": intValue must be') })
    expect(await count('trace_id = {t:String}', { t: trace })).toBe(0)
  })

  it('stores a snake_case body as its lowerCamelCase twin (its AnyValues were dropped)', async () => {
    const trace = hexId(16)
    const now = String(BigInt(Date.now()) * 1_000_000n)
    const body = {
      resource_spans: [
        {
          resource: { attributes: [{ key: 'service.name', value: { string_value: 'snake-svc' } }] },
          scope_spans: [{ spans: [{ trace_id: trace, span_id: hexId(8), name: 'snake', start_time_unix_nano: now, end_time_unix_nano: now, attributes: [{ key: 'gen_ai.request.model', value: { string_value: 'gpt-4o' } }, { key: 'gen_ai.usage.input_tokens', value: { int_value: '5' } }] }] }],
        },
      ],
    }
    expect(await jsonReply(await json(body))).toEqual({})
    await server.app.spanlens.flush()
    const rows = await server.rows<{ service_name: string; request_model: string; input_tokens: number }>('SELECT service_name, request_model, input_tokens FROM spans FINAL WHERE trace_id = {t:String}', { t: trace })
    expect(rows).toEqual([{ service_name: 'snake-svc', request_model: 'gpt-4o', input_tokens: 5 }])
  })

  it('refuses a gauge point without a value, naming the metric (it was stored as 0)', async () => {
    const name = `novalue.${randomUUID().slice(0, 8)}`
    const res = await post(
      JSON.stringify({ resourceMetrics: [{ scopeMetrics: [{ metrics: [{ name, gauge: { dataPoints: [{ timeUnixNano: String(BigInt(Date.now()) * 1_000_000n) }] } }] }] }] }),
      { 'content-type': 'application/json', ...bearer(KEYS.acme) },
      '/v1/metrics',
    )
    expect(res.status).toBe(200)
    expect((await jsonReply(res)).partialSuccess).toMatchObject({ rejectedDataPoints: '1', errorMessage: expect.stringContaining(`metric 0 "${name}" point 0: no value`) })
    await server.app.spanlens.flush()
    expect(await server.rows('SELECT 1 FROM metrics WHERE name = {n:String}', { n: name })).toEqual([])
  })
})

describe('Langfuse OpenTelemetry endpoint', () => {
  it('accepts Basic project:key on /api/public/otel/v1/traces', async () => {
    const marker = `langfuse-${Date.now()}`
    const res = await post(JSON.stringify(jsonRequest([{ name: marker }])), {
      'content-type': 'application/json',
      authorization: `Basic ${Buffer.from(`acme:${KEYS.acme}`).toString('base64')}`,
    }, '/api/public/otel/v1/traces')
    expect(res.status).toBe(200)
    expect(await count("name = {n:String} AND project_id = 'acme'", { n: marker })).toBe(1)
  })
})

describe('operations endpoints', () => {
  it('/healthz, /readyz and /metrics', async () => {
    expect(await (await fetch(`${server.url}/healthz`)).json()).toEqual({ status: 'ok' })
    const ready = await fetch(`${server.url}/readyz`)
    expect(ready.status).toBe(200)
    expect(await ready.json()).toMatchObject({ status: 'ready', checks: { store: 'ok', migrations: 'ok', spool: 'ok' } })
    expect((await fetch(`${server.url}/readyz?strict=1`)).status).toBe(200)
    const bad = await fetch(`${server.url}/readyz?strict=maybe`)
    expect({ status: bad.status, body: await bad.json() }).toEqual({ status: 400, body: { error: { code: 'SPANLENS_BAD_REQUEST', message: 'strict: expected 1, true, 0 or false' } } })
    // A parameter it does not read is refused, as on every query route, not dropped.
    const unknown = await fetch(`${server.url}/readyz?stric=1`)
    expect({ status: unknown.status, message: ((await unknown.json()) as { error: { message: string } }).error.message }).toEqual({ status: 400, message: 'stric: not a parameter of /readyz, which takes strict' })
    const metrics = await (await fetch(`${server.url}/metrics`)).text()
    expect(metrics).toMatch(/spanlens_ingest_spans_accepted_total\{project="acme"\} \d+/)
    expect(metrics).toMatch(/spanlens_ingest_spans_rejected_total\{project="acme",reason="invalid_span"\} \d+/)
    expect(metrics).toMatch(/spanlens_ingest_requests_rejected_total\{reason="unauthorized"\} \d+/)
    expect(metrics).toMatch(/spanlens_ingest_requests_rejected_total\{reason="body_too_large"\} \d+/)
    expect(metrics).toMatch(/spanlens_insert_duration_seconds_bucket/)
    expect(metrics).toMatch(/spanlens_spool_bytes \d+/)
    expect(metrics).toMatch(/spanlens_ingest_prepare_duration_seconds_count [1-9]/)
    expect(metrics).toMatch(/spanlens_spool_write_duration_seconds_count [1-9]/)
  })
})

describe('query API mounted by the server', () => {
  it('needs a key, and a key sees only its own project', async () => {
    const marker = `api-${Date.now()}`
    expect((await json(jsonRequest([{ name: marker }]), KEYS.acme)).status).toBe(200)
    expect((await json(jsonRequest([{ name: marker }, { name: marker }]), KEYS.other)).status).toBe(200)
    await server.app.spanlens.flush()
    const anonymous = await fetch(`${server.url}/api/v1/spans?limit=500`)
    expect(anonymous.status).toBe(401)
    expect(((await anonymous.json()) as { error: { code: string } }).error.code).toBe('SPANLENS_UNAUTHORIZED')
    const bad = await fetch(`${server.url}/api/v1/spans`, { headers: bearer('wrong-key-000000') })
    expect(bad.status).toBe(401)
    const mine = (await (await fetch(`${server.url}/api/v1/spans?limit=500&from=2000-01-01T00:00:00Z`, { headers: bearer(KEYS.acme) })).json()) as {
      items: Array<{ name: string }>
    }
    expect(mine.items.filter((s) => s.name === marker)).toHaveLength(1)
    const theirs = (await (await fetch(`${server.url}/api/v1/spans?limit=500&from=2000-01-01T00:00:00Z`, { headers: bearer(KEYS.other) })).json()) as {
      items: Array<{ name: string }>
    }
    expect(theirs.items.filter((s) => s.name === marker)).toHaveLength(2)
  })

  it('opens the session and the user of every id it stores, the longest and the cut ones included', async () => {
    // Ids are kept up to 1024 characters, longer ones cut with a marker; the routes take them whole.
    // Ids and a name of this attempt's own: a retried attempt must not find the spans of the one before.
    const tag = randomUUID().slice(0, 8)
    const ids = [`s-${tag}-${'x'.repeat(400)}`, `${tag}${'é'.repeat(2000)}`, `${tag}${'🦜'.repeat(300)}/?#%`]
    const attrs = (id: string) => [
      { key: 'session.id', value: { stringValue: id } },
      { key: 'user.id', value: { stringValue: id } },
    ]
    const name = `long-ids-${tag}`
    expect((await json(jsonRequest(ids.map((id) => ({ name, attributes: attrs(id) }))), KEYS.acme)).status).toBe(200)
    await server.app.spanlens.flush()
    const stored = await server.rows<{ session_id: string }>(`SELECT session_id FROM spans WHERE project_id = 'acme' AND name = '${name}'`)
    expect(stored).toHaveLength(3)
    for (const { session_id: id } of stored) {
      const session = await fetch(`${server.url}/api/v1/sessions/${encodeURIComponent(id)}`, { headers: bearer(KEYS.acme) })
      const sessionBody = await session.text()
      expect(session.status, `${id.slice(0, 20)}: ${sessionBody}`).toBe(200)
      expect((JSON.parse(sessionBody) as { turns: unknown[] }).turns).toHaveLength(1)
      const user = await fetch(`${server.url}/api/v1/users/${encodeURIComponent(id)}?from=now-1d`, { headers: bearer(KEYS.acme) })
      const userBody = await user.text()
      expect(user.status, `${id.slice(0, 20)}: ${userBody}`).toBe(200)
      expect((JSON.parse(userBody) as { totals: { spans: number } }).totals.spans).toBe(1)
    }
  })
})

describe('the SLO file', () => {
  it('is loaded at start-up; an edit that breaks it while running is answered by /slo until it is fixed', async () => {
    const lines: Array<{ level: number; msg: string; slos?: number }> = []
    const sink = new Writable({
      write(chunk, _enc, done) {
        lines.push(JSON.parse(String(chunk)) as (typeof lines)[number])
        done()
      },
    })
    const dir = tempDir()
    const file = join(dir.path, 'slos.yaml')
    const good = 'slos:\n  - name: ok\n    objective: 99\n    indicator: { type: success }\n'
    writeFileSync(file, good)
    const config = loadConfig({ env: { SPANLENS_DATA_DIR: dir.path, SPANLENS_PORT: '0', SPANLENS_GRPC_PORT: 'off', SPANLENS_SLO_FILE: file } })
    const app = await buildServer(config, { store: server.app.spanlens.store, logger: pino({ level: 'info' }, sink) })
    const slo = async () => {
      const r = await app.inject({ method: 'GET', url: '/api/v1/slo' })
      return [r.statusCode, (r.json() as { error?: { code: string } }).error?.code]
    }
    try {
      expect(lines.find((l) => l.msg === 'SLO file loaded')).toMatchObject({ level: 30, slos: 1 })
      expect(lines.filter((l) => l.level >= 50)).toEqual([])
      expect(await slo()).toEqual([200, undefined])
      writeFileSync(file, 'slos:\n  - name: x\n    objective: 120\n')
      expect(await slo()).toEqual([500, 'SPANLENS_SLO_FILE_INVALID'])
      writeFileSync(file, good.replace('99', '99.5'))
      expect(await slo()).toEqual([200, undefined])
    } finally {
      await app.close()
      dir.cleanup()
    }
  })

  it('stops a server built from a config whose SLO file went bad, before it takes the spool or the store', async () => {
    const dir = tempDir()
    const file = join(dir.path, 'slos.yaml')
    writeFileSync(file, 'slos:\n  - name: ok\n    objective: 99\n    indicator: { type: success }\n')
    const config = loadConfig({ env: { SPANLENS_DATA_DIR: dir.path, SPANLENS_PORT: '0', SPANLENS_GRPC_PORT: 'off', SPANLENS_SLO_FILE: file } })
    writeFileSync(file, 'slos:\n  - name: x\n    objective: 120\n')
    try {
      await expect(buildServer(config, { store: server.app.spanlens.store })).rejects.toMatchObject({ code: 'SPANLENS_SLO_FILE_INVALID' })
      // The spool's lock was not taken: a server with the fixed file starts on the same directory.
      writeFileSync(file, 'slos:\n  - name: ok\n    objective: 99\n    indicator: { type: success }\n')
      const app = await buildServer(config, { store: server.app.spanlens.store })
      await app.close()
    } finally {
      dir.cleanup()
    }
  })
})

describe('binding without keys', () => {
  it('refuses to start on a non-loopback host without API keys', async () => {
    const config = loadConfig({ env: { SPANLENS_HOST: '0.0.0.0', SPANLENS_DATA_DIR: server.dataDir } })
    await expect(buildServer(config)).rejects.toMatchObject({ code: 'SPANLENS_UNSAFE_BIND' })
  })
})

