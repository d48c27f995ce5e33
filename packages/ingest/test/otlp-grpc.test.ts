import { execFileSync, spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { connect } from 'node:http2'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'
import { credentials, Metadata, status as Status } from '@grpc/grpc-js'
import { context, trace, SpanStatusCode } from '@opentelemetry/api'
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc'
import { resourceFromAttributes } from '@opentelemetry/resources'
import { BasicTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadConfig } from '../src/config/load.js'
import { CONNECTION_WINDOW_BYTES, STREAM_WINDOW_BYTES } from '../src/grpc/flow-control.js'
import { otlpServices } from '../src/grpc/services.js'
import { buildServer, type BuildServerOptions } from '../src/server.js'
import type { Store } from '../src/store/index.js'
import { faultyStore } from './helpers/faulty-store.js'
import { frame, grpcCall, type GrpcCallOptions, type GrpcReply, H2, halfClosedGrpcCall, listenGrpc, rawGrpcCall, stalledCall, statusDetailsOf, TRACE_EXPORT } from './helpers/grpc.js'
import { jsonRequest, llmAttrs, protobufRequest } from './helpers/otlp.js'
import { otlpTypes } from './helpers/proto.js'
import { decodeRichStatus } from './helpers/rpc-status.js'
import { API_KEYS, KEYS, startServer, type TestServer } from './helpers/server.js'
import { tempDir } from './helpers/tmp.js'

// OTLP/gRPC: the same decode, pipeline, limits and refusals as OTLP/HTTP
// (receiver.test.ts, admission.test.ts), with gRPC's status codes.

const LIMIT = 2 * 1024 * 1024

let server: TestServer
let target: string
beforeAll(async () => {
  server = await startServer({ SPANLENS_BODY_LIMIT_BYTES: String(LIMIT), SPANLENS_GRPC_PORT: '0', SPANLENS_MAX_CONCURRENT_REQUESTS: '8' })
  target = await listenGrpc(server.app)
})
afterAll(() => server.close())

const bearer = (key: string) => `Bearer ${key}`
const count = async (where: string, params: Record<string, unknown> = {}) => {
  await server.app.spanlens.flush()
  const [r] = await server.rows<{ c: string }>(`SELECT count() AS c FROM spans FINAL WHERE ${where}`, params)
  return Number(r?.c)
}
const spans = (...names: Array<string | Record<string, unknown>>) =>
  protobufRequest(jsonRequest(names.map((n) => (typeof n === 'string' ? { name: n } : n))))

/** An Export to the file's server (or `to`), as acme unless told otherwise. */
const acme = (body: Buffer, opts: GrpcCallOptions & { to?: string } = {}) =>
  grpcCall(opts.to ?? target, body, { authorization: bearer(KEYS.acme), ...opts })
const raw = (bytes: Buffer, headers: Record<string, string>) => rawGrpcCall(target, bytes, { authorization: bearer(KEYS.acme), ...headers }).reply
const stalled = (to = target) => stalledCall(to, bearer(KEYS.acme))
const retryDelayOf = (reply: GrpcReply, code: Status) => {
  const bytes = statusDetailsOf(reply)
  if (!bytes) return undefined
  const status = decodeRichStatus(bytes)
  expect(status.code).toBe(code)
  return status.retryDelaySeconds
}

const settle = async (check: () => boolean, ms = 5000) => {
  const until = Date.now() + ms
  while (!check() && Date.now() < until) await new Promise((r) => setTimeout(r, 20))
}
const metrics = async () => (await fetch(`${server.url}/metrics`)).text()

/**
 * Another server beside the file's, on its own data directory and spool but the
 * same store (an embedded engine opens one data directory per process), its
 * gRPC receiver bound on a free port.
 */
async function sideServer(env: Record<string, string>, options: BuildServerOptions = {}, listen = true) {
  const dir = tempDir()
  const config = loadConfig({
    env: { SPANLENS_DATA_DIR: dir.path, SPANLENS_API_KEYS: API_KEYS, SPANLENS_LOG_LEVEL: 'silent', SPANLENS_PORT: '0', SPANLENS_GRPC_PORT: '0', ...env },
  })
  const app = await buildServer(config, { store: server.app.spanlens.store, ...options })
  const url = await app.listen({ host: '127.0.0.1', port: 0 })
  const to = listen ? await listenGrpc(app) : ''
  return {
    app,
    url,
    to,
    async close() {
      await app.close()
      dir.cleanup()
    },
  }
}

describe('the OpenTelemetry gRPC exporter sends to the receiver unchanged', () => {
  for (const compression of ['none', 'gzip'] as const) {
    it(`exporter-trace-otlp-grpc, compression ${compression}: spans stored, normalized and read back`, async () => {
      const metadata = new Metadata()
      metadata.set('authorization', bearer(KEYS.acme))
      const exporter = new OTLPTraceExporter({ url: `http://${target}`, metadata, compression: compression as never })
      const service = `grpc-exporter-${compression}`
      const provider = new BasicTracerProvider({
        resource: resourceFromAttributes({ 'service.name': service, 'deployment.environment.name': 'test', 'service.version': '1.2.3' }),
        spanProcessors: [new SimpleSpanProcessor(exporter)],
      })
      const tracer = provider.getTracer('otlp-grpc-test')
      const root = tracer.startSpan('chain')
      const llm = tracer.startSpan(
        'chat gpt-4o-mini',
        {
          attributes: {
            'gen_ai.operation.name': 'chat',
            'gen_ai.provider.name': 'openai',
            'gen_ai.request.model': 'gpt-4o-mini',
            'gen_ai.usage.input_tokens': 1000,
            'gen_ai.usage.output_tokens': 100,
            'gen_ai.input.messages': JSON.stringify([{ role: 'user', parts: [{ type: 'text', content: 'héllo 🌍' }] }]),
          },
        },
        trace.setSpan(context.active(), root),
      )
      llm.setStatus({ code: SpanStatusCode.OK })
      llm.end()
      root.end()
      await provider.forceFlush()
      await provider.shutdown()
      await server.app.spanlens.flush()
      const stored = await server.rows<Record<string, unknown>>(
        "SELECT * FROM spans FINAL WHERE project_id = 'acme' AND service_name = {s:String} ORDER BY name",
        { s: service },
      )
      expect(stored).toHaveLength(2)
      const [chain, call] = stored as [Record<string, unknown>, Record<string, unknown>]
      expect(call).toMatchObject({
        kind: 'llm',
        provider: 'openai',
        request_model: 'gpt-4o-mini',
        input_tokens: 1000,
        output_tokens: 100,
        status_code: 'ok',
        environment: 'test',
        release: '1.2.3',
        parent_span_id: chain.span_id,
        trace_id: chain.trace_id,
      })
      expect(call.cost_usd).toBeCloseTo(0.00021, 10)
      expect(JSON.parse(call.input as string)[0].parts[0].content).toBe('héllo 🌍')
    })
  }
})

describe('OTLP/gRPC replies', () => {
  it('an empty request is a success with an empty response', async () => {
    const reply = await acme(Buffer.alloc(0))
    expect(reply.code).toBe(Status.OK)
    expect(reply.response?.length ?? 0).toBe(0)
  })

  it('a gzip message (grpc-encoding: gzip) is decompressed and stored', async () => {
    const marker = `grpc-gzip-${Date.now()}`
    const viaClient = await acme(spans(marker), { gzip: true })
    expect(viaClient.code).toBe(Status.OK)
    // The compressed flag set by hand, so the test does not depend on the client choosing to compress.
    const byHand = await raw(frame(gzipSync(spans(marker)), true), { 'grpc-encoding': 'gzip' })
    expect(byHand.grpcStatus).toBe(Status.OK)
    expect(await count('name = {n:String}', { n: marker })).toBe(2)
  })

  it('keeps valid spans and reports invalid ones as partial_success, like OTLP/HTTP', async () => {
    const marker = `grpc-partial-${Date.now()}`
    const reply = await acme(spans(marker, { name: marker, spanId: '0000000000000000' }, { name: marker, startTimeUnixNano: '2000', endTimeUnixNano: '1000' }))
    expect(reply.code).toBe(Status.OK)
    const { response } = otlpTypes()
    const decoded = response.toObject(response.decode(reply.response as Buffer), { longs: String }) as { partialSuccess: { rejectedSpans: string; errorMessage: string } }
    expect(decoded.partialSuccess.rejectedSpans).toBe('2')
    expect(decoded.partialSuccess.errorMessage).toMatch(/invalid span_id/)
    expect(await count('name = {n:String}', { n: marker })).toBe(1)
  })

  it('the same span sent twice is stored once', async () => {
    const marker = `grpc-twice-${Date.now()}`
    const body = spans({ name: marker, attributes: llmAttrs() })
    expect((await acme(body)).code).toBe(Status.OK)
    await server.app.spanlens.flush()
    expect((await acme(body, { gzip: true })).code).toBe(Status.OK)
    expect(await count('name = {n:String}', { n: marker })).toBe(1)
  })

  it('the project comes from the key: Bearer for another project, and Langfuse-style Basic project:key', async () => {
    const marker = `grpc-tenancy-${Date.now()}`
    expect((await grpcCall(target, spans(marker), { authorization: bearer(KEYS.other) })).code).toBe(Status.OK)
    const basic = `Basic ${Buffer.from(`acme:${KEYS.acme}`).toString('base64')}`
    expect((await grpcCall(target, spans(marker), { authorization: basic })).code).toBe(Status.OK)
    await server.app.spanlens.flush()
    const rows = await server.rows<{ project_id: string }>('SELECT project_id FROM spans WHERE name = {m:String} ORDER BY project_id', { m: marker })
    expect(rows).toEqual([{ project_id: 'acme' }, { project_id: 'other' }])
  })

  it('a client that ends its side of the TCP connection once its call is sent gets the response, then the server closes', async () => {
    const marker = `grpc-half-closed-${Date.now()}`
    // Closes once the server has: a server that kept the half-open connection would time the test out.
    const frames = await halfClosedGrpcCall(target, spans(marker), bearer(KEYS.acme))
    const call = frames.filter((f) => f.stream === 1)
    // The response message (an empty ExportTraceServiceResponse), then the trailers that end the stream.
    expect(call.find((f) => f.type === H2.DATA)?.payload).toEqual(frame(Buffer.alloc(0), false))
    expect(call.at(-1)).toMatchObject({ type: H2.HEADERS, flags: H2.END_STREAM | H2.END_HEADERS })
    expect(await count('name = {m:String}', { m: marker })).toBe(1)
  })
})

describe('bad input gets the right gRPC status and the server stays up', () => {
  const healthy = async () => expect((await acme(Buffer.alloc(0))).code).toBe(Status.OK)

  it.each([
    ['no authorization metadata', undefined],
    ['an unknown key', 'Bearer not-a-real-key-123'],
    ['an empty bearer', 'Bearer '],
    ['another scheme', `Token ${KEYS.acme}`],
    ['Basic with the wrong project for the key', `Basic ${Buffer.from(`other:${KEYS.acme}`).toString('base64')}`],
  ])('%s → UNAUTHENTICATED', async (_name, authorization) => {
    const reply = await grpcCall(target, spans('unauthenticated'), authorization === undefined ? {} : { authorization })
    expect(reply.code).toBe(Status.UNAUTHENTICATED)
    expect(reply.details).toMatch(/^SPANLENS_UNAUTHORIZED: /)
  })

  it('every registered gRPC method refuses a call without a key: the policy covers each service', async () => {
    const paths = otlpServices(server.app.spanlens.pipeline).map((s) => s.path)
    expect(paths).toContain(TRACE_EXPORT)
    for (const path of paths) expect((await grpcCall(target, Buffer.alloc(0), { path })).code).toBe(Status.UNAUTHENTICATED)
  })

  it.each([
    ['truncated protobuf', () => spans({ attributes: llmAttrs() }, {}).subarray(0, -7)],
    ['bytes that are not protobuf', () => Buffer.from('{"resourceSpans": []}')],
  ])('%s → INVALID_ARGUMENT SPANLENS_BAD_OTLP', async (_name, body) => {
    const reply = await acme(body())
    expect(reply.code).toBe(Status.INVALID_ARGUMENT)
    expect(reply.details).toMatch(/^SPANLENS_BAD_OTLP: /)
    await healthy()
  })

  it.each([
    ['a call that ends without a message', () => Buffer.alloc(0)],
    ['a message cut short of the length its prefix gives', () => frame(spans('cut-frame'), false).subarray(0, 20)],
    ['a length prefix alone, cut short', () => frame(spans('cut-prefix'), false).subarray(0, 3)],
    ['two messages in one call', () => Buffer.concat([frame(spans('first'), false), frame(spans('second'), false)])],
  ])('%s → INVALID_ARGUMENT SPANLENS_BAD_OTLP, as input the method cannot decode', async (_name, bytes) => {
    const reply = await raw(bytes(), {})
    expect(reply.grpcStatus).toBe(Status.INVALID_ARGUMENT)
    expect(reply.message).toMatch(/^SPANLENS_BAD_OTLP: /)
    await healthy()
  })

  it('a message over SPANLENS_BODY_LIMIT_BYTES → RESOURCE_EXHAUSTED without RetryInfo (not retried)', async () => {
    const big = spans({ name: 'too-big', attributes: [{ key: 'big', value: { stringValue: 'x'.repeat(LIMIT) } }] })
    const reply = await acme(big)
    expect(reply.code).toBe(Status.RESOURCE_EXHAUSTED)
    expect(reply.details).toMatch(/^SPANLENS_BODY_TOO_LARGE: /)
    expect(statusDetailsOf(reply)).toBeUndefined()
    await healthy()
  })

  it('a gzip bomb is refused with RESOURCE_EXHAUSTED without inflating it all', async () => {
    // 200 MB of zeros compress to ~200 KB, under the limit as sent; the limit here is 2 MiB inflated.
    const bomb = gzipSync(Buffer.alloc(200 * 1024 * 1024))
    const before = process.memoryUsage().rss
    const reply = await raw(frame(bomb, true), { 'grpc-encoding': 'gzip' })
    expect(reply.grpcStatus).toBe(Status.RESOURCE_EXHAUSTED)
    expect(reply.message).toMatch(/^SPANLENS_BODY_TOO_LARGE: /)
    expect(process.memoryUsage().rss - before).toBeLessThan(100 * 1024 * 1024)
    await healthy()
  })

  it('a message that does not decompress → INVALID_ARGUMENT; an unknown grpc-encoding → UNIMPLEMENTED', async () => {
    const corrupt = await raw(frame(Buffer.from('not gzip at all'), true), { 'grpc-encoding': 'gzip' })
    expect(corrupt.grpcStatus).toBe(Status.INVALID_ARGUMENT)
    expect(corrupt.message).toMatch(/^SPANLENS_BAD_OTLP: /)
    // gRPC's compression spec: an algorithm the server does not support MUST be UNIMPLEMENTED.
    const unknown = await raw(frame(Buffer.from('whatever'), true), { 'grpc-encoding': 'compress' })
    expect(unknown.grpcStatus).toBe(Status.UNIMPLEMENTED)
    expect(unknown.message).toMatch(/^SPANLENS_UNSUPPORTED_ENCODING: /)
    await healthy()
  })

  it('deeply nested and huge values are cut, not fatal', async () => {
    const marker = `grpc-deep-${Date.now()}`
    let deep: Record<string, unknown> = { stringValue: 'leaf' }
    for (let i = 0; i < 25; i++) deep = { kvlistValue: { values: [{ key: 'k', value: deep }] } }
    const reply = await acme(spans({ name: marker, attributes: [{ key: 'deep', value: deep }, { key: 'big', value: { stringValue: 'y'.repeat(1_500_000) } }] }))
    expect(reply.code).toBe(Status.OK)
    await server.app.spanlens.flush()
    const [r] = await server.rows<{ v: string; n: string }>("SELECT attributes['deep'] AS v, length(attributes['big']) AS n FROM spans WHERE name = {m:String}", { m: marker })
    expect(r?.v).toContain('[max depth exceeded]')
    expect(Number(r?.n)).toBeLessThan(1_100_000)
  })
})

describe('backpressure and slots', () => {
  it("a project over its share of slots gets RESOURCE_EXHAUSTED with RetryInfo; another project's calls get through; slots come back when clients leave", async () => {
    const pipeline = server.app.spanlens.pipeline
    // SPANLENS_MAX_CONCURRENT_REQUESTS=8: one project may hold 4.
    const slow = Array.from({ length: 4 }, () => stalled())
    await settle(() => pipeline.inFlightRequests('acme') === 4)
    expect(pipeline.inFlightRequests('acme')).toBe(4)
    const refused = await acme(spans('overloaded'))
    expect(refused.code).toBe(Status.RESOURCE_EXHAUSTED)
    expect(refused.details).toMatch(/^SPANLENS_OVERLOADED: /)
    expect(retryDelayOf(refused, Status.RESOURCE_EXHAUSTED)).toBe(1)
    expect((await grpcCall(target, spans('not-starved'), { authorization: bearer(KEYS.other) })).code).toBe(Status.OK)
    for (const s of slow) s.destroy()
    await settle(() => pipeline.inFlightRequests() === 0)
    expect(pipeline.inFlightRequests()).toBe(0)
    expect((await acme(spans('after-overload'))).code).toBe(Status.OK)
  })

  it('a project whose spool share is full gets UNAVAILABLE with RetryInfo while ClickHouse is down', async () => {
    const store = faultyStore(server.app.spanlens.store as Store)
    const side = await sideServer(
      { SPANLENS_SPOOL_MAX_BYTES: String(1024 * 1024), SPANLENS_SPOOL_PROJECT_SHARE: '0.5', SPANLENS_BATCH_MAX_AGE_MS: '20' },
      { store },
    )
    try {
      const { to } = side
      store.fault = 'down'
      // New spans in every request: a request sent again is a repeat, answered without spooling.
      const body = () => spans(...Array.from({ length: 100 }, () => 'share'))
      let refused: GrpcReply | undefined
      for (let i = 0; i < 200 && !refused; i++) {
        const r = await acme(body(), { to })
        if (r.code !== Status.OK) refused = r
      }
      expect(refused?.code).toBe(Status.UNAVAILABLE)
      expect(refused?.details).toMatch(/^SPANLENS_SPOOL_FULL: /)
      expect(retryDelayOf(refused as GrpcReply, Status.UNAVAILABLE)).toBe(5)
      expect((await grpcCall(to, body(), { authorization: bearer(KEYS.other) })).code).toBe(Status.OK)
      store.fault = 'ok'
      await side.app.spanlens.flush()
      expect((await acme(spans('share'), { to })).code).toBe(Status.OK)
    } finally {
      store.fault = 'ok'
      await side.close()
    }
  }, 60_000)

  it('a message that stalls is refused with DEADLINE_EXCEEDED after SPANLENS_BODY_TIMEOUT_MS, and its slot is free', async () => {
    const side = await sideServer({ SPANLENS_BODY_TIMEOUT_MS: '300' })
    try {
      const started = Date.now()
      const call = stalled(side.to)
      const reply = await call.reply
      call.destroy()
      expect(reply.grpcStatus).toBe(Status.DEADLINE_EXCEEDED)
      expect(reply.message).toMatch(/^SPANLENS_BODY_TIMEOUT: /)
      expect(Date.now() - started).toBeLessThan(5000)
      await settle(() => side.app.spanlens.pipeline.inFlightRequests() === 0)
      expect(side.app.spanlens.pipeline.inFlightRequests()).toBe(0)
      const text = await (await fetch(`${side.url}/metrics`)).text()
      expect(text).toMatch(/spanlens_ingest_requests_rejected_total\{reason="body_timeout"\} 1/)
    } finally {
      await side.close()
    }
  })
})

describe('TLS', () => {
  const openssl = (() => {
    try {
      execFileSync('openssl', ['version'], { stdio: 'ignore' })
      return true
    } catch {
      return false
    }
  })()

  it.skipIf(!openssl)('with SPANLENS_GRPC_TLS_CERT/_KEY the exporter sends over TLS; a plaintext client is refused', async () => {
    const dir = tempDir('spanlens-tls-')
    const cert = join(dir.path, 'cert.pem')
    const key = join(dir.path, 'key.pem')
    // A self-signed certificate for localhost, made for this test.
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
      '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1', '-keyout', key, '-out', cert,
    ], { stdio: 'ignore' })
    const side = await sideServer({ SPANLENS_GRPC_TLS_CERT: cert, SPANLENS_GRPC_TLS_KEY: key })
    try {
      const port = side.to.split(':').pop()
      const marker = `grpc-tls-${Date.now()}`
      const metadata = new Metadata()
      metadata.set('authorization', bearer(KEYS.acme))
      const exporter = new OTLPTraceExporter({ url: `https://localhost:${port}`, metadata, credentials: credentials.createSsl(readFileSync(cert)) })
      const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] })
      provider.getTracer('tls').startSpan(marker).end()
      await provider.forceFlush()
      await provider.shutdown()
      await side.app.spanlens.flush()
      expect(await count('name = {n:String}', { n: marker })).toBe(1)
      const plaintext = await acme(spans(marker), { to: `localhost:${port}` })
      expect(plaintext.code).toBe(Status.UNAVAILABLE)
    } finally {
      await side.close()
      dir.cleanup()
    }
  })
})

describe('operations', () => {
  it('/metrics counts gRPC calls by method, like HTTP requests by route', async () => {
    const text = await metrics()
    const route = `route="${TRACE_EXPORT}"`
    expect(text).toMatch(new RegExp(`spanlens_ingest_requests_total\\{${route.replace(/[./]/g, '\\$&')},status="200"\\} [1-9]`))
    for (const status of ['400', '401', '413', '429']) {
      expect(text).toMatch(new RegExp(`spanlens_ingest_requests_total\\{${route.replace(/[./]/g, '\\$&')},status="${status}"\\} [1-9]`))
    }
    expect(text).toMatch(/spanlens_ingest_requests_rejected_total\{reason="unauthorized"\} [1-9]/)
    expect(text).toMatch(/spanlens_ingest_requests_rejected_total\{reason="body_too_large"\} [1-9]/)
    expect(text).toMatch(/spanlens_ingest_requests_rejected_total\{reason="unsupported_media_type"\} [1-9]/)
    expect(text).toMatch(/spanlens_ingest_backpressure_responses_total\{status="429"\} [1-9]/)
  })

  it('close drains: acknowledged spans reach ClickHouse, a call still arriving is cancelled, the port is released', async () => {
    const side = await sideServer({ SPANLENS_BATCH_MAX_AGE_MS: '1000' }, { shutdownTimeoutMs: 1000 })
    const { to } = side
    const marker = `grpc-close-${Date.now()}`
    expect((await acme(spans(marker, marker, marker), { to })).code).toBe(Status.OK)
    const hanging = stalled(to)
    await settle(() => side.app.spanlens.pipeline.inFlightRequests() === 1)
    const started = Date.now()
    await side.close()
    expect(Date.now() - started).toBeLessThan(10_000)
    expect((await hanging.reply).grpcStatus).not.toBe(Status.OK)
    expect(await count('name = {n:String}', { n: marker })).toBe(3)
    expect((await acme(Buffer.alloc(0), { to })).code).toBe(Status.UNAVAILABLE)
  })

  it("gives each call and connection wider HTTP/2 windows than Node's 64 KiB, so a message is not held back by a busy event loop", async () => {
    // What a client is allowed to send before the server has read anything: the
    // stream window from the server's SETTINGS, the connection window from its
    // WINDOW_UPDATE on stream 0 (65,535 until then).
    const session = connect(`http://${target}`)
    try {
      const settings = await new Promise<{ initialWindowSize?: number }>((resolve, reject) => {
        session.once('remoteSettings', resolve)
        session.once('error', reject)
      })
      expect(settings.initialWindowSize).toBe(STREAM_WINDOW_BYTES)
      await settle(() => (session.state.remoteWindowSize ?? 0) >= CONNECTION_WINDOW_BYTES, 5_000)
      expect(session.state.remoteWindowSize).toBe(CONNECTION_WINDOW_BYTES)
    } finally {
      session.destroy()
    }
    // Calls over the widened connection still work, and a message larger than both defaults arrives whole.
    const prompt = { key: 'gen_ai.input.messages', value: { stringValue: JSON.stringify([{ role: 'user', parts: [{ type: 'text', content: 'x'.repeat(8_000) }] }]) } }
    const big = Array.from({ length: 40 }, (_, i) => ({ name: `grpc-window-${i}`, attributes: [...llmAttrs(), prompt] }))
    expect((await acme(protobufRequest(jsonRequest(big)))).code).toBe(Status.OK)
    expect(await count("startsWith(name, 'grpc-window-')")).toBe(40)
  })

  it('without API keys the gRPC host must be loopback too', async () => {
    const config = loadConfig({ env: { SPANLENS_GRPC_HOST: '0.0.0.0', SPANLENS_DATA_DIR: server.dataDir } })
    await expect(buildServer(config)).rejects.toMatchObject({ code: 'SPANLENS_UNSAFE_BIND' })
  })

  it('a gRPC port in use is SPANLENS_GRPC_PORT_IN_USE, and `spanlens serve` exits 2 naming it', async () => {
    const port = target.split(':').pop() as string
    const side = await sideServer({ SPANLENS_GRPC_PORT: port }, {}, false)
    try {
      await expect(listenGrpc(side.app)).rejects.toMatchObject({ code: 'SPANLENS_GRPC_PORT_IN_USE' })
    } finally {
      await side.close()
    }
    const dir = tempDir()
    try {
      const bin = fileURLToPath(new URL('../src/bin.ts', import.meta.url))
      const child = spawn(process.execPath, ['--conditions=@spanlens/source', '--import', 'tsx', bin, 'serve'], {
        env: { ...process.env, SPANLENS_DATA_DIR: dir.path, SPANLENS_PORT: '0', SPANLENS_GRPC_PORT: port, SPANLENS_API_KEYS: API_KEYS, SPANLENS_LOG_LEVEL: 'silent' },
        stdio: ['ignore', 'ignore', 'pipe'],
      })
      let stderr = ''
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()))
      const code = await new Promise<number | null>((resolve) => child.on('exit', resolve))
      expect(code).toBe(2)
      expect(stderr).toMatch(/^spanlens: SPANLENS_GRPC_PORT_IN_USE: .*SPANLENS_GRPC_PORT/m)
    } finally {
      dir.cleanup()
    }
  }, 60_000)
})
