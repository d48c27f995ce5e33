import { readFileSync } from 'node:fs'
import { gzipSync } from 'node:zlib'
import { context, trace } from '@opentelemetry/api'
import { OTLPLogExporter as GrpcLogExporter } from '@opentelemetry/exporter-logs-otlp-grpc'
import { OTLPLogExporter as JsonLogExporter } from '@opentelemetry/exporter-logs-otlp-http'
import { OTLPLogExporter as ProtoLogExporter } from '@opentelemetry/exporter-logs-otlp-proto'
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto'
import { resourceFromAttributes } from '@opentelemetry/resources'
import { LoggerProvider, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs'
import { BasicTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base'
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadConfig } from '../src/config/load.js'
import { PriceTable } from '../src/normalize/cost.js'
import { normalizeSpan } from '../src/normalize/normalize.js'
import { decodeLogsProtobuf } from '../src/otlp/decode-logs.js'
import { decodeProtobuf } from '../src/otlp/decode.js'
import type { OtlpSpan } from '../src/otlp/model.js'
import { buildServer } from '../src/server.js'
import { Metadata } from '@grpc/grpc-js'
import { grpcCall, listenGrpc } from './helpers/grpc.js'
import { anyValue, type Json, type LogSpec, logsJson, logsProtobuf, logsResponse } from './helpers/otlp-logs.js'
import { jsonRequest } from './helpers/otlp.js'
import { API_KEYS, startServer, type TestServer } from './helpers/server.js'
import { storeEnv } from './helpers/store-mode.js'
import { tempDir } from './helpers/tmp.js'

/**
 * OTLP logs: POST /v1/logs and the gRPC LogsService. Every record lands in `logs`;
 * GenAI events of a span (fixtures recorded from @opentelemetry/instrumentation-openai
 * and Elastic's, fixtures/otlp/README.md) become that span's content, whichever of the
 * span and its logs arrives first.
 */

const PROJECTS = ['acme', 'other', 'spans-first', 'logs-first', 'restart']
const keyOf = (project: string) => `${project}-key-0123456789`
const KEYS = `${API_KEYS},${PROJECTS.slice(2).map((p) => `${p}:${keyOf(p)}`).join(',')}`
const ACME = 'acme-key-0123456789'
const fixture = (path: string) => readFileSync(new URL(`./fixtures/otlp/${path}`, import.meta.url))
const PROTOBUF = 'application/x-protobuf'

let server: TestServer
beforeAll(async () => {
  // Retention 0: the fixtures' times (Nov 2026) stay within it whenever the test runs.
  server = await startServer({ SPANLENS_API_KEYS: KEYS, SPANLENS_RETENTION_DAYS: '0', SPANLENS_BODY_LIMIT_BYTES: String(1024 * 1024) })
})
afterAll(() => server.close())

const post = (url: string, path: string, body: Uint8Array | string, type: string, key = ACME, headers: Record<string, string> = {}) =>
  fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': type, authorization: `Bearer ${key}`, ...headers }, body })
const postLogs = (body: Uint8Array | string, type = PROTOBUF, key = ACME, headers: Record<string, string> = {}) => post(server.url, '/v1/logs', body, type, key, headers)
const getJson = async <T>(url: string, path: string, key = ACME): Promise<T> => {
  const res = await fetch(`${url}/api/v1${path}`, { headers: { authorization: `Bearer ${key}` } })
  expect(res.status, `${path}: ${res.status}`).toBe(200)
  return (await res.json()) as T
}
const logRows = async (where: string, params: Record<string, unknown> = {}) => {
  await server.app.spanlens.flush()
  return server.rows<Record<string, unknown>>(`SELECT * FROM logs FINAL WHERE ${where} ORDER BY timestamp, record_hash`, params)
}

let seed = 0
const hexId = (bytes: number) => {
  seed++
  return `${'c0ffee'.repeat(6).slice(0, bytes * 2 - 8)}${seed.toString(16).padStart(8, '0')}`
}

describe('OpenTelemetry SDK log exporters send to the receiver unchanged', () => {
  for (const [name, make] of [
    ['exporter-logs-otlp-proto', (url: string) => new ProtoLogExporter({ url: `${url}/v1/logs`, headers: { authorization: `Bearer ${ACME}` } })],
    ['exporter-logs-otlp-proto with gzip', (url: string) => new ProtoLogExporter({ url: `${url}/v1/logs`, headers: { authorization: `Bearer ${ACME}` }, compression: 'gzip' as never })],
    ['exporter-logs-otlp-http (JSON)', (url: string) => new JsonLogExporter({ url: `${url}/v1/logs`, headers: { authorization: `Bearer ${ACME}` } })],
    ['exporter-logs-otlp-grpc', (_url: string, grpc: string) => new GrpcLogExporter({ url: `http://${grpc}`, metadata: grpcAuth() })],
  ] as const) {
    it(`${name}: records stored, GenAI events on a span become its content`, async () => {
      const grpc = await listenGrpc(server.app)
      // A service of this attempt's own: a retried attempt (cluster mode) must not read the records of the one before.
      const service = `svc-${name.replace(/\W+/g, '-')}-${hexId(4)}`
      const resource = resourceFromAttributes({ 'service.name': service })
      const tracer = new BasicTracerProvider({ resource, spanProcessors: [new SimpleSpanProcessor(new OTLPTraceExporter({ url: `${server.url}/v1/traces`, headers: { authorization: `Bearer ${ACME}` } }))] })
      const loggers = new LoggerProvider({ resource, processors: [new SimpleLogRecordProcessor({ exporter: make(server.url, grpc) })] })
      const logger = loggers.getLogger('exporter-test')
      const span = tracer.getTracer('exporter-test').startSpan('chat gpt-4o-mini', { attributes: { 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': 'gpt-4o-mini' } })
      const inSpan = trace.setSpan(context.active(), span)
      logger.emit({ context: inSpan, eventName: 'gen_ai.user.message', severityNumber: 9, body: { content: `hello from ${name}` }, attributes: { 'gen_ai.system': 'openai' } })
      logger.emit({ context: inSpan, attributes: { 'event.name': 'gen_ai.choice' }, body: { index: 0, finish_reason: 'length', message: { content: 'cut sh' } } })
      logger.emit({ severityText: 'WARN', severityNumber: 13, body: 'outside any span' })
      await loggers.forceFlush()
      span.end()
      await tracer.forceFlush()
      await Promise.all([loggers.shutdown(), tracer.shutdown()])

      const rows = await logRows('service_name = {s:String}', { s: service })
      expect(rows.map((r) => [r.event_name, r.severity_number, r.trace_id === '' ? 'no trace' : r.trace_id]).sort()).toEqual([
        ['', 13, 'no trace'],
        ['gen_ai.choice', 0, span.spanContext().traceId],
        ['gen_ai.user.message', 9, span.spanContext().traceId],
      ])
      const got = await getJson<{ roots: ApiSpan[] }>(server.url, `/traces/${span.spanContext().traceId}`)
      const [llm] = flat(got.roots)
      expect(JSON.parse(llm?.input ?? '')).toEqual([{ role: 'user', parts: [{ type: 'text', content: `hello from ${name}` }] }])
      expect(JSON.parse(llm?.output ?? '')).toEqual([{ role: 'assistant', parts: [{ type: 'text', content: 'cut sh' }], finish_reason: 'length' }])
      expect(llm?.finishReason).toBe('length')
    })
  }
})

describe('POST /v1/logs', () => {
  it('stores every record of a real exporter request, GenAI events and resource included (protobuf)', async () => {
    const res = await postLogs(fixture('otel-genai/tool-call.logs.pb'))
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toContain(PROTOBUF)
    expect(Buffer.from(await res.arrayBuffer())).toHaveLength(0)
    const rows = await logRows("project_id = 'acme' AND service_name = 'fixture-otel-genai' AND scope_name = '@opentelemetry/instrumentation-openai'")
    expect(rows).toHaveLength(6)
    // (Records of the same nanosecond have no order of their own in `logs`.)
    expect(rows.map((r) => r.event_name).sort()).toEqual([
      'gen_ai.assistant.message',
      'gen_ai.choice',
      'gen_ai.choice',
      'gen_ai.tool.message',
      'gen_ai.user.message',
      'gen_ai.user.message',
    ])
    expect(rows[0]).toMatchObject({ severity_number: 9, event_name: 'gen_ai.user.message', body: '{"content":"What is the weather in Paris?"}' })
    expect((rows[0]?.attributes as Record<string, string>)['gen_ai.system']).toBe('openai')
    expect((rows[0]?.resource_attributes as Record<string, string>)['deployment.environment.name']).toBe('test')
    for (const r of rows) expect(r.trace_id).toMatch(/^[0-9a-f]{32}$/)
  })

  it('takes OTLP JSON: string and structured bodies, enum names, event_name, no trace, all-zero ids; gzip', async () => {
    const traceId = hexId(16)
    const spanId = hexId(8)
    const t0 = BigInt(Date.now()) * 1_000_000n
    const records: LogSpec[] = [
      { body: 'plain text line\twith a tab', timeNs: String(t0), severityNumber: 'SEVERITY_NUMBER_WARN', severityText: 'WARN', attributes: { 'http.route': '/x', retries: 3 } },
      { body: { nested: { list: [1, 'two', true] } }, timeNs: String(t0 + 1n), severityNumber: 17, traceId, spanId, eventName: 'app.event' },
      // Observed a minute before the others, inside the retention whatever day the test runs.
      { body: 'zero ids', traceId: '0'.repeat(32), spanId: '0'.repeat(16), timeNs: '0', observedNs: String(t0 - 60_000_000_000n) },
    ]
    // A service of this attempt's own, as above.
    const service = `json-logs-${hexId(4)}`
    const res = await postLogs(gzipSync(JSON.stringify(logsJson(records, { resource: { 'service.name': service } }))), 'application/json', ACME, { 'content-encoding': 'gzip' })
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({})
    const rows = await logRows("project_id = 'acme' AND service_name = {s:String}", { s: service })
    expect(rows.map((r) => [r.body, r.severity_number, r.severity_text, r.event_name, r.trace_id, r.span_id])).toEqual([
      // Without time_unix_nano a record is timestamped with its observed time.
      ['zero ids', 0, '', '', '', ''],
      ['plain text line\twith a tab', 13, 'WARN', '', '', ''],
      ['{"nested":{"list":[1,"two",true]}}', 17, '', 'app.event', traceId, spanId],
    ])
    expect(rows[1]?.attributes).toEqual({ 'http.route': '/x', retries: '3' })
  })

  it('keeps valid records and reports the invalid ones as partial success, in JSON and protobuf', async () => {
    const good: LogSpec = { body: 'partial-ok', severityNumber: 9 }
    const bad: LogSpec[] = [
      { body: 'bad trace id', traceId: 'abcd' },
      { body: 'span without trace', spanId: hexId(8) },
      { body: 'observed after 2262', observedNs: '9300000000000000000' },
      { body: 'after 2262', timeNs: '9300000000000000000' },
    ]
    // Services of this attempt's own, as above.
    const [jsonService, protoService] = [`partial-json-${hexId(4)}`, `partial-proto-${hexId(4)}`]
    const jsonRes = await postLogs(JSON.stringify(logsJson([good, ...bad], { resource: { 'service.name': jsonService } })), 'application/json')
    expect(jsonRes.status).toBe(200)
    const body = (await jsonRes.json()) as { partialSuccess: { rejectedLogRecords: string; errorMessage: string } }
    expect(body.partialSuccess.rejectedLogRecords).toBe('4')
    expect(body.partialSuccess.errorMessage).toMatch(/^4 log record\(s\) rejected: /)
    expect(body.partialSuccess.errorMessage).toContain('invalid trace_id')

    const protoRes = await postLogs(logsProtobuf([good, ...bad], { resource: { 'service.name': protoService } }))
    expect(protoRes.status).toBe(200)
    const reply = logsResponse(new Uint8Array(await protoRes.arrayBuffer()))
    expect(reply.rejected).toBe(4)
    expect(reply.errorMessage).toContain('log record 3: observed_time_unix_nano is after')
    for (const service of [jsonService, protoService]) {
      expect((await logRows("project_id = 'acme' AND service_name = {s:String}", { s: service })).map((r) => r.body)).toEqual(['partial-ok'])
    }
  })

  it('an empty request is a success in both encodings', async () => {
    expect((await postLogs(Buffer.alloc(0))).status).toBe(200)
    const res = await postLogs('{}', 'application/json')
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({})
  })

  it('bad input gets the status /v1/traces gives it: 400, 401, 413, 415', async () => {
    const garbage = await postLogs('{"resourceLogs": [', 'application/json')
    expect(garbage.status).toBe(400)
    expect(((await garbage.json()) as { error: { code: string } }).error.code).toBe('SPANLENS_BAD_OTLP')
    const notArray = await postLogs('{"resourceLogs": {}}', 'application/json')
    expect(notArray.status).toBe(400)
    // A length prefix running past the end of the message.
    const truncated = await postLogs(Buffer.from([0x0a, 0x7f, 0x01]))
    expect(truncated.status).toBe(400)
    expect(truncated.headers.get('content-type')).toContain(PROTOBUF)
    expect((await postLogs('x', 'text/plain')).status).toBe(415)
    expect((await postLogs(logsProtobuf([{ body: 'x' }]), PROTOBUF, 'wrong-key-0123456789')).status).toBe(401)
    const big = JSON.stringify(logsJson([{ body: 'x'.repeat(1100 * 1024) }]))
    const tooLarge = await postLogs(gzipSync(big), 'application/json', ACME, { 'content-encoding': 'gzip' })
    expect(tooLarge.status).toBe(413)
    // The server stays up.
    expect((await postLogs(logsProtobuf([{ body: 'after bad input' }]))).status).toBe(200)
  })

  it('a record sent again (an exporter retry) is stored once', async () => {
    const traceId = hexId(16)
    const request = logsProtobuf([{ body: 'retried', traceId, spanId: hexId(8) }, { body: 'retried too', traceId }])
    for (let i = 0; i < 3; i++) expect((await postLogs(request)).status).toBe(200)
    expect(await logRows('trace_id = {t:String}', { t: traceId })).toHaveLength(2)
  })

  it('a record without any time, sent again, is stored once at its first arrival', async () => {
    const traceId = hexId(16)
    const timeless: LogSpec[] = [{ body: 'no time', traceId, timeNs: '0' }, { body: 'no time, no observed time', traceId, timeNs: '0', observedNs: '0' }]
    const request = logsProtobuf(timeless)
    const sentFrom = Date.now()
    let firstAcked = 0
    for (let i = 0; i < 3; i++) {
      expect((await postLogs(request)).status).toBe(200)
      firstAcked ||= Date.now()
      await new Promise((r) => setTimeout(r, 20))
    }
    // The same records in another request are another export (a record logged again), not a retry.
    expect((await postLogs(logsProtobuf([...timeless, { body: 'and one more', traceId, timeNs: '0' }]))).status).toBe(200)
    await server.app.spanlens.flush()
    const rows = await server.rows<{ body: string; timestamp: string; observed_timestamp: string }>(
      'SELECT body, toString(timestamp) AS timestamp, toString(observed_timestamp) AS observed_timestamp FROM logs FINAL WHERE trace_id = {t:String} ORDER BY timestamp, body',
      { t: traceId },
    )
    expect(rows.map((r) => r.body)).toEqual(['no time', 'no time, no observed time', 'and one more', 'no time', 'no time, no observed time'])
    // The retried request's rows carry its first arrival, before the first reply (the retries came 20 ms after it).
    const first = Date.parse(`${rows[0]!.timestamp.replace(' ', 'T')}Z`)
    expect(first).toBeGreaterThanOrEqual(sentFrom - 1)
    expect(first).toBeLessThanOrEqual(firstAcked)
    expect(rows[1]!.timestamp).toBe(rows[0]!.timestamp)
    expect(rows[0]!.observed_timestamp).toBe(rows[0]!.timestamp)
    expect(rows[2]!.timestamp > rows[0]!.timestamp).toBe(true)
  })
})

describe('GET /api/v1/traces/:traceId/logs', () => {
  it("returns a trace's records oldest first, or one span's, and nothing of another project", async () => {
    const traceId = hexId(16)
    const spanId = hexId(8)
    const t0 = BigInt(Date.now()) * 1_000_000n
    await postLogs(
      logsProtobuf([
        { body: 'second', traceId, spanId, timeNs: String(t0 + 2n), severityNumber: 9, severityText: 'INFO' },
        { body: 'first', traceId, timeNs: String(t0 + 1n) },
        { body: { k: 'v' }, traceId, spanId, timeNs: String(t0 + 3n), eventName: 'x.y' },
      ]),
    )
    await post(server.url, '/v1/logs', logsProtobuf([{ body: 'other project', traceId }]), PROTOBUF, 'other-key-0123456789')
    await server.app.spanlens.flush()
    const all = await getJson<{ items: Array<Record<string, unknown>> }>(server.url, `/traces/${traceId}/logs`)
    expect(all.items.map((l) => [l.body, l.spanId])).toEqual([
      ['first', null],
      ['second', spanId],
      ['{"k":"v"}', spanId],
    ])
    expect(all.items[1]).toMatchObject({ severityNumber: 9, severityText: 'INFO', service: 'logs-test', timeUnixNano: String(t0 + 2n) })
    expect(all.items[2]).toMatchObject({ eventName: 'x.y' })
    const one = await getJson<{ items: unknown[]; truncated: boolean }>(server.url, `/traces/${traceId}/logs?spanId=${spanId}&limit=1`)
    expect(one).toMatchObject({ items: [expect.anything()], truncated: true })
    expect((await getJson<{ truncated: boolean }>(server.url, `/traces/${traceId}/logs?spanId=${spanId}&limit=2`)).truncated).toBe(false)
    expect((await getJson<{ truncated: boolean }>(server.url, `/traces/${traceId}/logs`)).truncated).toBe(false)
    const bad = await fetch(`${server.url}/api/v1/traces/${traceId}/logs?spanId=XYZ`, { headers: { authorization: `Bearer ${ACME}` } })
    expect(bad.status).toBe(400)
    // The records that name no span, and not both ways at once.
    const outside = await getJson<{ items: Array<Record<string, unknown>> }>(server.url, `/traces/${traceId}/logs?withoutSpan=1`)
    expect(outside.items.map((l) => [l.body, l.spanId])).toEqual([['first', null]])
    const both = await fetch(`${server.url}/api/v1/traces/${traceId}/logs?withoutSpan=1&spanId=${spanId}`, { headers: { authorization: `Bearer ${ACME}` } })
    expect(both.status).toBe(400)
    expect(((await both.json()) as { error: { message: string } }).error.message).toContain('withoutSpan')
  })

  it('the SQL sandbox reads logs as a table of the caller project only', async () => {
    const traceId = hexId(16)
    await postLogs(logsProtobuf([{ body: 'sandboxed', traceId }]))
    await post(server.url, '/v1/logs', logsProtobuf([{ body: 'sandboxed', traceId }]), PROTOBUF, 'other-key-0123456789')
    await server.app.spanlens.flush()
    const res = await fetch(`${server.url}/api/v1/sql`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ACME}`, 'content-type': 'application/json' },
      body: JSON.stringify({ query: `SELECT body, count() AS n FROM logs WHERE trace_id = '${traceId}' GROUP BY body` }),
    })
    expect(res.status).toBe(200)
    expect(((await res.json()) as { data: unknown[] }).data).toEqual([{ body: 'sandboxed', n: '1' }])
  })
})

/** The GenAI scenarios recorded with their logs, per instrumentation. */
const SCENARIOS = [
  ...['chat', 'chat-pii', 'stream', 'stream-no-usage', 'tool-call', 'error-429', 'responses'].map((s) => `otel-genai/${s}`),
  ...['chat', 'chat-pii', 'stream', 'stream-no-usage', 'tool-call', 'error-429'].map((s) => `otel-genai-legacy/${s}`),
]

interface ApiSpan {
  spanId: string
  name: string
  input?: string
  output?: string
  finishReason: string
  children: ApiSpan[]
}

function flat(nodes: ApiSpan[]): ApiSpan[] {
  return nodes.flatMap((n) => [n, ...flat(n.children)])
}

function grpcAuth() {
  const metadata = new Metadata()
  metadata.set('authorization', `Bearer ${ACME}`)
  return metadata
}

/**
 * What the span would be had the library put its GenAI events on the span: the
 * recorded span with each of its log records as a span event, normalized by
 * normalizeSpan. A per-message event's content is the record's body (a span event's
 * `gen_ai.event.content`), the details event's the record's attributes.
 */
function asIfOnTheSpan(scenario: string): Map<string, { input: string; output: string; finish_reason: string }> {
  const spans = decodeProtobuf(fixture(`${scenario}.pb`)).spans
  const records = decodeLogsProtobuf(fixture(`${scenario}.logs.pb`)).records
  const out = new Map<string, { input: string; output: string; finish_reason: string }>()
  for (const span of spans) {
    const events = records
      .filter((r) => r.spanId === span.spanId)
      .map((r) => {
        const name = String(r.attributes['event.name'] ?? r.eventName)
        return { timeNs: r.timeNs, name, attributes: name === 'gen_ai.client.inference.operation.details' ? r.attributes : { 'gen_ai.event.content': JSON.stringify(r.body) } }
      })
    const withEvents: OtlpSpan = { ...span, events: [...span.events, ...events] }
    const row = normalizeSpan(withEvents, 'p', { prices: PriceTable.load() })
    out.set(span.spanId, { input: row.input, output: row.output, finish_reason: row.finish_reason })
  }
  return out
}

async function sendScenario(url: string, project: string, scenario: string, order: 'spans-first' | 'logs-first'): Promise<void> {
  const bodies = [fixture(`${scenario}.pb`), fixture(`${scenario}.logs.pb`)]
  const paths = ['/v1/traces', '/v1/logs']
  const sequence = order === 'spans-first' ? [0, 1] : [1, 0]
  for (const i of sequence) {
    const res = await post(url, paths[i] as string, bodies[i] as Buffer, PROTOBUF, keyOf(project))
    expect(res.status, `${scenario} ${paths[i]}`).toBe(200)
  }
}

describe('GenAI log records become their span content, whichever arrives first', () => {
  beforeAll(async () => {
    for (const scenario of SCENARIOS) {
      await sendScenario(server.url, 'spans-first', scenario, 'spans-first')
      await sendScenario(server.url, 'logs-first', scenario, 'logs-first')
    }
    await server.app.spanlens.flush()
  })

  for (const scenario of SCENARIOS) {
    it(`${scenario}: the trace API shows the content as if it were on the span, in both orders`, async () => {
      const expected = asIfOnTheSpan(scenario)
      const traceIds = [...new Set(decodeProtobuf(fixture(`${scenario}.pb`)).spans.map((s) => s.traceId))]
      for (const project of ['spans-first', 'logs-first']) {
        for (const traceId of traceIds) {
          const trace = await getJson<{ roots: ApiSpan[] }>(server.url, `/traces/${traceId}`, keyOf(project))
          for (const span of flat(trace.roots)) {
            const want = expected.get(span.spanId)
            expect(want, span.spanId).toBeDefined()
            expect({ input: span.input, output: span.output, finish_reason: span.finishReason }, `${project} ${span.name}`).toEqual(want)
          }
        }
      }
    })
  }

  it('the expected content is what the library sent: messages, tool calls, tool results, finish reasons', () => {
    const [chat] = [...asIfOnTheSpan('otel-genai/chat').values()]
    expect(JSON.parse(chat?.input ?? '')).toEqual([
      { role: 'system', parts: [{ type: 'text', content: 'You are a terse assistant.' }] },
      { role: 'user', parts: [{ type: 'text', content: 'What is the capital of France?' }] },
    ])
    expect(JSON.parse(chat?.output ?? '')).toEqual([{ role: 'assistant', parts: [{ type: 'text', content: 'Hello! The capital of France is Paris.' }], finish_reason: 'stop' }])
    const second = [...asIfOnTheSpan('otel-genai-legacy/tool-call').values()][1]
    expect(JSON.parse(second?.input ?? '')).toEqual([
      { role: 'user', parts: [{ type: 'text', content: 'What is the weather in Paris?' }] },
      { role: 'assistant', parts: [{ type: 'tool_call', id: 'call_fixture_51', name: 'get_weather', arguments: '{"city":"Paris"}' }] },
      { role: 'tool', parts: [{ type: 'tool_call_response', id: 'call_fixture_51', response: '{"city":"Paris","forecast":"sunny","temperature_c":22}' }] },
    ])
    const first = [...asIfOnTheSpan('otel-genai-legacy/tool-call').values()][0]
    expect(first?.finish_reason).toBe('tool_calls')
    expect(JSON.parse(first?.output ?? '')[0].parts[0]).toMatchObject({ type: 'tool_call', name: 'get_weather' })
  })

  it('otel-genai/responses: the details event gives the whole conversation (the span held only its system instructions)', async () => {
    const [span] = decodeProtobuf(fixture('otel-genai/responses.pb')).spans
    for (const project of ['spans-first', 'logs-first']) {
      const trace = await getJson<{ roots: ApiSpan[] }>(server.url, `/traces/${span?.traceId}`, keyOf(project))
      const got = flat(trace.roots)[0] as ApiSpan
      expect(JSON.parse(got.input ?? '')).toEqual([
        { role: 'system', parts: [{ type: 'text', content: 'You are a terse assistant.' }] },
        { role: 'user', parts: [{ type: 'text', content: 'What is the capital of France?' }] },
      ])
      expect(JSON.parse(got.output ?? '')).toEqual([{ role: 'assistant', parts: [{ type: 'text', content: 'Hello! The capital of France is Paris.' }], finish_reason: 'stop' }])
      expect(got.finishReason).toBe('stop')
    }
  })

  it('span listings with io=1, text search and the SQL sandbox show the same content', async () => {
    for (const project of ['spans-first', 'logs-first']) {
      const key = keyOf(project)
      const listed = await getJson<{ items: ApiSpan[] }>(server.url, '/spans?io=1&limit=100&from=2026-01-01T00:00:00Z', key)
      const found = await getJson<{ items: ApiSpan[] }>(server.url, `/spans?q=${encodeURIComponent('sunny and 22')}&from=2026-01-01T00:00:00Z`, key)
      expect(found.items.map((s) => s.name)).toEqual(['chat gpt-4o-mini', 'chat gpt-4o-mini'])
      const res = await fetch(`${server.url}/api/v1/sql`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ query: 'SELECT span_id, input, output, finish_reason FROM spans ORDER BY span_id' }),
      })
      expect(res.status).toBe(200)
      const sql = ((await res.json()) as { data: Array<{ span_id: string; input: string; output: string; finish_reason: string }> }).data
      const api = new Map(listed.items.map((s) => [s.spanId, { span_id: s.spanId, input: s.input, output: s.output, finish_reason: s.finishReason }]))
      expect(sql.length).toBe(api.size)
      for (const row of sql) expect(row, row.span_id).toEqual(api.get(row.span_id))
      expect(sql.filter((r) => r.output !== '').length).toBeGreaterThan(10)
    }
    // On the two-shard cluster the content is on both shards: the view's join is not the initiator's alone.
    const store = server.app.spanlens.store
    if (store.nodes) {
      for (const node of store.nodes) {
        const rs = await node.client.query({ query: "SELECT count() AS n FROM span_content_local WHERE project_id = 'logs-first'", format: 'JSONEachRow' })
        expect(Number((await rs.json<{ n: string }>())[0]?.n), node.target).toBeGreaterThan(0)
      }
    }
  })

  it('a span refusing in content that arrived as logs counts as a refusal in the bias report', async () => {
    const traceId = hexId(16)
    const spanId = hexId(8)
    // A model of its own per attempt: the cluster project retries a failed test on the same store.
    const model = `refusing-model-${hexId(4)}`
    const now = BigInt(Date.now()) * 1_000_000n
    const span = jsonRequest([
      {
        traceId,
        spanId,
        name: 'chat refusal',
        startTimeUnixNano: String(now),
        endTimeUnixNano: String(now + 1_000_000n),
        attributes: [
          { key: 'gen_ai.operation.name', value: { stringValue: 'chat' } },
          { key: 'gen_ai.request.model', value: { stringValue: model } },
        ],
      },
    ])
    await post(server.url, '/v1/traces', JSON.stringify(span), 'application/json')
    await postLogs(logsProtobuf([{ traceId, spanId, attributes: { 'event.name': 'gen_ai.choice' }, body: { index: 0, finish_reason: 'stop', message: { content: "I'm sorry, but I can't help with that." } } }]))
    await server.app.spanlens.flush()
    const res = await fetch(`${server.url}/api/v1/bias`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ACME}`, 'content-type': 'application/json' },
      body: JSON.stringify({ groupBy: 'model', outcome: 'refusal_rate', minGroupSize: 1, filter: { model: [model] } }),
    })
    expect(res.status).toBe(200)
    const report = (await res.json()) as { groups: Array<{ group: string; n: number; value: number }> }
    expect(report.groups).toEqual([expect.objectContaining({ group: model, n: 1, value: 1 })])
    // The refusal filter judges it the same way.
    expect((await getJson<{ items: ApiSpan[] }>(server.url, `/spans?model=${model}&refusal=1`)).items.map((s) => s.spanId)).toEqual([spanId])
    expect((await getJson<{ items: ApiSpan[] }>(server.url, `/spans?model=${model}&refusal=0`)).items).toEqual([])
  })
})

describe('a call\'s GenAI records that share a time and come in separate requests', () => {
  it('are read in the order their requests arrived, then in their order within a request: API, span listing and SQL alike', async () => {
    // instrumentation-openai stamps a call's input events with one time; a SimpleLogRecordProcessor
    // exports each record on its own. Read by their JSON text instead, "assistant" came first.
    const traceId = hexId(16)
    const spanId = hexId(8)
    const timeNs = String(BigInt(Date.now() - 2_000) * 1_000_000n)
    const event = (role: string, content: string): LogSpec => ({ traceId, spanId, timeNs, eventName: `gen_ai.${role}.message`, body: { content } })
    for (const [role, content] of [['system', '1-system'], ['user', '2-user'], ['assistant', '3-assistant'], ['user', '4-user']] as const) {
      expect((await postLogs(logsProtobuf([event(role, content)]))).status).toBe(200)
    }
    // Two of the same time in one request: their order in it (by JSON text, the assistant's would come first).
    expect((await postLogs(logsProtobuf([event('user', '5-user'), event('assistant', '6-assistant')]))).status).toBe(200)
    const span = jsonRequest([{ traceId, spanId, name: 'chat gpt-4o', startTimeUnixNano: timeNs, endTimeUnixNano: String(BigInt(timeNs) + 1_000_000n), attributes: [{ key: 'gen_ai.request.model', value: { stringValue: 'gpt-4o' } }] }])
    expect((await post(server.url, '/v1/traces', JSON.stringify(span), 'application/json')).status).toBe(200)
    await server.app.spanlens.flush()

    const order = (input: string | undefined) => (JSON.parse(input ?? '[]') as Array<{ parts: Array<{ content: string }> }>).map((m) => m.parts[0]?.content)
    const want = ['1-system', '2-user', '3-assistant', '4-user', '5-user', '6-assistant']
    const tree = await getJson<{ roots: ApiSpan[] }>(server.url, `/traces/${traceId}`)
    expect(order(tree.roots[0]?.input)).toEqual(want)
    const listed = await getJson<{ items: ApiSpan[] }>(server.url, `/spans?io=1&traceId=${traceId}&from=now-1h`)
    expect(order(listed.items[0]?.input)).toEqual(want)
    const res = await fetch(`${server.url}/api/v1/sql`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ACME}`, 'content-type': 'application/json' },
      body: JSON.stringify({ query: `SELECT input FROM spans WHERE trace_id = '${traceId}'` }),
    })
    expect(res.status).toBe(200)
    expect(order(((await res.json()) as { data: Array<{ input: string }> }).data[0]?.input)).toEqual(want)
  })
})

describe('one GenAI event, on its span or sent as a log record, gives the span the same input, output and finish reason', () => {
  const DETAILS = 'gen_ai.client.inference.operation.details'
  // Each event as a span event's attributes; as a log record these are its body (a
  // per-message event) or its attributes (the details event).
  const CASES: Array<{ events: Array<{ name: string; fields: Record<string, Json> }>; finish: string }> = [
    { events: [{ name: 'gen_ai.user.message', fields: { content: 'hi' } }, { name: 'gen_ai.choice', fields: { finish_reason: 'length', message: '{"content":"Hel"}' } }], finish: 'length' },
    {
      events: [{ name: 'gen_ai.choice', fields: { finish_reason: 'tool_calls', message: { role: 'assistant', tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] } } }],
      finish: 'tool_calls',
    },
    {
      events: [
        {
          name: DETAILS,
          fields: {
            'gen_ai.system_instructions': 'be nice',
            'gen_ai.input.messages': '[{"role":"user","parts":[{"type":"text","content":"hi"}]}]',
            'gen_ai.output.messages': '[{"role":"assistant","parts":[{"type":"text","content":"Hel"}],"finish_reason":"max_tokens"}]',
          },
        },
      ],
      finish: 'length',
    },
  ]

  it('pre-1.37 message and choice events, and the details event', async () => {
    const traceId = hexId(16)
    const now = BigInt(Date.now()) * 1_000_000n
    const pairs = CASES.map(() => ({ onSpan: hexId(8), asLogs: hexId(8) }))
    const spans = CASES.flatMap((c, i) => {
      const ids = pairs[i] as { onSpan: string; asLogs: string }
      const base = { traceId, name: `chat ${i}`, startTimeUnixNano: String(now), endTimeUnixNano: String(now + 1_000_000n), attributes: [{ key: 'gen_ai.operation.name', value: { stringValue: 'chat' } }] }
      const events = c.events.map((e) => ({ timeUnixNano: String(now), name: e.name, attributes: Object.entries(e.fields).map(([key, value]) => ({ key, value: anyValue(value) })) }))
      return [{ ...base, spanId: ids.onSpan, events }, { ...base, spanId: ids.asLogs }]
    })
    expect((await post(server.url, '/v1/traces', JSON.stringify(jsonRequest(spans)), 'application/json')).status).toBe(200)
    const records: LogSpec[] = CASES.flatMap((c, i) =>
      c.events.map((e) => ({
        traceId,
        spanId: (pairs[i] as { asLogs: string }).asLogs,
        eventName: e.name,
        ...(e.name === DETAILS ? { attributes: e.fields } : { body: e.fields }),
      })),
    )
    expect((await postLogs(JSON.stringify(logsJson(records)), 'application/json')).status).toBe(200)
    await server.app.spanlens.flush()
    const byId = new Map(flat((await getJson<{ roots: ApiSpan[] }>(server.url, `/traces/${traceId}`)).roots).map((s) => [s.spanId, { input: s.input, output: s.output, finishReason: s.finishReason }]))
    CASES.forEach((c, i) => {
      const ids = pairs[i] as { onSpan: string; asLogs: string }
      expect(byId.get(ids.onSpan)?.finishReason, `case ${i}`).toBe(c.finish)
      expect(byId.get(ids.onSpan)?.output, `case ${i}`).toBeTruthy()
      expect(byId.get(ids.asLogs), `case ${i}`).toEqual(byId.get(ids.onSpan))
    })
  })
})

describe('OTLP/gRPC LogsService', () => {
  it('stores the records of an Export call and answers partial success like OTLP/HTTP', async () => {
    const to = await listenGrpc(server.app)
    const traceId = hexId(16)
    const reply = await grpcCall(to, logsProtobuf([{ body: 'via grpc', traceId }, { body: 'bad', spanId: hexId(8) }]), {
      path: '/opentelemetry.proto.collector.logs.v1.LogsService/Export',
      authorization: `Bearer ${ACME}`,
    })
    expect(reply.code).toBe(0)
    expect(logsResponse(reply.response ?? Buffer.alloc(0)).rejected).toBe(1)
    expect((await logRows('trace_id = {t:String}', { t: traceId })).map((r) => r.body)).toEqual(['via grpc'])
    const unauthenticated = await grpcCall(to, logsProtobuf([{ body: 'x' }]), { path: '/opentelemetry.proto.collector.logs.v1.LogsService/Export' })
    expect(unauthenticated.code).toBe(16)
  })
})
