import { randomUUID } from 'node:crypto'
import { gzipSync } from 'node:zlib'
import { Metadata, status as Status } from '@grpc/grpc-js'
import { ValueType } from '@opentelemetry/api'
import { OTLPMetricExporter as GrpcExporter } from '@opentelemetry/exporter-metrics-otlp-grpc'
import { AggregationTemporalityPreference, OTLPMetricExporter as JsonExporter } from '@opentelemetry/exporter-metrics-otlp-http'
import { OTLPMetricExporter as ProtoExporter } from '@opentelemetry/exporter-metrics-otlp-proto'
import { ProtobufMetricsSerializer } from '@opentelemetry/otlp-transformer'
import { resourceFromAttributes } from '@opentelemetry/resources'
import { AggregationTemporality, AggregationType, DataPointType, MeterProvider, type PushMetricExporter, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { grpcCall, listenGrpc } from './helpers/grpc.js'
import { badMetricPoints, METRICS_EXPORT } from './helpers/otlp-metrics.js'
import { otlpTypes } from './helpers/proto.js'
import { bearer, KEYS, startServer, type TestServer } from './helpers/server.js'

/**
 * OTLP metrics from the OpenTelemetry JS SDK's own exporters (protobuf, protobuf
 * gzip, JSON, gRPC), delta and cumulative: a counter, the GenAI client histograms
 * (explicit buckets, shaped like the semantic conventions), an exponential
 * histogram and a gauge, each recorded over two exports. What was recorded must
 * come back, unchanged, from GET /api/v1/metrics and from SQL. Then the
 * receiver's bad-input classes (receiver.test.ts) on /v1/metrics and the gRPC
 * MetricsService, and partial success.
 */

let server: TestServer
let grpcTarget: string
beforeAll(async () => {
  server = await startServer({ SPANLENS_BODY_LIMIT_BYTES: String(1024 * 1024), SPANLENS_GRPC_PORT: '0' })
  grpcTarget = await listenGrpc(server.app)
})
afterAll(() => server?.close())

const TOKEN_BOUNDS = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864]
const DURATION_BOUNDS = [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92]

/** What one GenAI client call reports, as an instrumentation records it (semantic conventions' attributes). */
interface Call {
  model: string
  input: number
  output: number
  seconds: number
}
const FIRST: Call[] = [
  { model: 'gpt-4o-mini', input: 100, output: 20, seconds: 0.1 },
  { model: 'gpt-4o-mini', input: 300, output: 40, seconds: 0.1 },
  { model: 'claude-haiku-4-5', input: 50, output: 10, seconds: 1.0 },
]
const SECOND: Call[] = [
  { model: 'gpt-4o-mini', input: 1000, output: 5, seconds: 0.1 },
  { model: 'claude-haiku-4-5', input: 7, output: 3, seconds: 1.0 },
]
const LATENCIES = [0.5, 1, 2, 3, 100]

/** Records the workload through `exporter`, in two exports; resolves once the server has the points in ClickHouse. */
async function record(exporter: PushMetricExporter, service: string): Promise<void> {
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 })
  const provider = new MeterProvider({
    resource: resourceFromAttributes({ 'service.name': service }),
    readers: [reader],
    views: [{ instrumentName: 'spanlens.test.latency', aggregation: { type: AggregationType.EXPONENTIAL_HISTOGRAM } }],
  })
  const meter = provider.getMeter('metrics-test', '1.0.0')
  const tokens = meter.createHistogram('gen_ai.client.token.usage', { unit: '{token}', description: 'Number of input and output tokens used.', advice: { explicitBucketBoundaries: TOKEN_BOUNDS } })
  const duration = meter.createHistogram('gen_ai.client.operation.duration', { unit: 's', description: 'GenAI operation duration.', advice: { explicitBucketBoundaries: DURATION_BOUNDS } })
  const requests = meter.createCounter('spanlens.test.requests', { unit: '{request}' })
  const latency = meter.createHistogram('spanlens.test.latency', { unit: 's' })
  const queue = meter.createGauge('spanlens.test.queue_depth', { unit: '{item}' })
  const call = (c: Call) => {
    const attrs = { 'gen_ai.operation.name': 'chat', 'gen_ai.provider.name': c.model.startsWith('gpt') ? 'openai' : 'anthropic', 'gen_ai.request.model': c.model, 'gen_ai.response.model': c.model }
    tokens.record(c.input, { ...attrs, 'gen_ai.token.type': 'input' })
    tokens.record(c.output, { ...attrs, 'gen_ai.token.type': 'output' })
    duration.record(c.seconds, attrs)
  }
  FIRST.forEach(call)
  requests.add(3, { route: 'a' })
  requests.add(2, { route: 'b' })
  for (const v of LATENCIES.slice(0, 2)) latency.record(v)
  queue.record(5, { queue: 'q' })
  await reader.forceFlush()
  SECOND.forEach(call)
  requests.add(4, { route: 'a' })
  for (const v of LATENCIES.slice(2)) latency.record(v)
  queue.record(8, { queue: 'q' })
  await reader.forceFlush()
  await provider.shutdown()
  await server.app.spanlens.flush()
}

const api = async (path: string, init: RequestInit = {}) => {
  const res = await fetch(`${server.url}${path}`, { ...init, headers: { ...bearer(KEYS.acme), 'content-type': 'application/json', ...(init.headers as Record<string, string>) } })
  return { status: res.status, body: (await res.json()) as Record<string, unknown> }
}

/** GET /api/v1/metrics for one service over the last hour: { group values joined by '/': value } (one point per group, no bucket). */
async function metric(service: string, params: Record<string, string>): Promise<Record<string, number | null>> {
  const q = new URLSearchParams({ from: 'now-1h', to: new Date(Date.now() + 60_000).toISOString(), 'resource.service.name': service, ...params })
  const { status, body } = await api(`/api/v1/metrics?${q}`)
  expect(status, JSON.stringify(body)).toBe(200)
  const out: Record<string, number | null> = {}
  for (const s of body.series as Array<{ group: Record<string, string>; points: Array<{ value: number | null }> }>) {
    expect(s.points).toHaveLength(1)
    out[Object.values(s.group).join('/') || '*'] = s.points[0]?.value ?? null
  }
  return out
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0)
const tokensOf = (model: string, type: 'input' | 'output') => sum([...FIRST, ...SECOND].filter((c) => c.model === model).map((c) => c[type]))

async function expectRecorded(service: string, temporality: 'delta' | 'cumulative'): Promise<void> {
  // Tokens by model and type: the histogram's sum.
  expect(await metric(service, { name: 'gen_ai.client.token.usage', groupBy: 'gen_ai.request.model,gen_ai.token.type' })).toEqual({
    'claude-haiku-4-5/input': tokensOf('claude-haiku-4-5', 'input'),
    'claude-haiku-4-5/output': tokensOf('claude-haiku-4-5', 'output'),
    'gpt-4o-mini/input': tokensOf('gpt-4o-mini', 'input'),
    'gpt-4o-mini/output': tokensOf('gpt-4o-mini', 'output'),
  })
  // Calls per model (the duration histogram's count), and its percentiles within the right buckets.
  expect(await metric(service, { name: 'gen_ai.client.operation.duration', groupBy: 'gen_ai.request.model', agg: 'count' })).toEqual({ 'claude-haiku-4-5': 2, 'gpt-4o-mini': 3 })
  const p50 = (await metric(service, { name: 'gen_ai.client.operation.duration', agg: 'p50' }))['*'] as number
  expect(p50).toBeGreaterThan(0.08)
  expect(p50).toBeLessThanOrEqual(0.16)
  const p95 = (await metric(service, { name: 'gen_ai.client.operation.duration', agg: 'p95' }))['*'] as number
  expect(p95).toBeGreaterThan(0.64)
  expect(p95).toBeLessThanOrEqual(1.28)
  // The counter, the exponential histogram and the gauge.
  expect(await metric(service, { name: 'spanlens.test.requests', groupBy: 'route' })).toEqual({ a: 7, b: 2 })
  expect(await metric(service, { name: 'spanlens.test.latency', agg: 'count' })).toEqual({ '*': LATENCIES.length })
  expect(await metric(service, { name: 'spanlens.test.latency', agg: 'sum' })).toEqual({ '*': sum(LATENCIES) })
  const median = (await metric(service, { name: 'spanlens.test.latency', agg: 'p50' }))['*'] as number
  // The 3rd of 5 values is 2: its exponential bucket at the SDK's scale is a few percent wide.
  expect(median).toBeGreaterThan(1.8)
  expect(median).toBeLessThan(2.2)
  expect(await metric(service, { name: 'spanlens.test.queue_depth', agg: 'last' })).toEqual({ '*': 8 })

  // SQL sees the same points, as sent: the types, the temporality, the units.
  const { body } = await api('/api/v1/sql', {
    method: 'POST',
    body: JSON.stringify({
      query: `SELECT name, type, temporality, any(unit) AS unit, count() AS points FROM metrics
        WHERE resource_attributes['service.name'] = '${service}' GROUP BY name, type, temporality ORDER BY name`,
    }),
  })
  // Shutting the provider down exports once more: a cumulative stream repeats its totals then, a delta one has nothing new.
  const exports = temporality === 'cumulative' ? 3 : 2
  expect(body.data).toEqual([
    { name: 'gen_ai.client.operation.duration', type: 'histogram', temporality, unit: 's', points: String(temporality === 'delta' ? 4 : 2 * exports) },
    { name: 'gen_ai.client.token.usage', type: 'histogram', temporality, unit: '{token}', points: String(temporality === 'delta' ? 8 : 4 * exports) },
    { name: 'spanlens.test.latency', type: 'exponential_histogram', temporality, unit: 's', points: String(exports) },
    { name: 'spanlens.test.queue_depth', type: 'gauge', temporality: '', unit: '{item}', points: String(exports) },
    { name: 'spanlens.test.requests', type: 'sum', temporality, unit: '{request}', points: String(temporality === 'delta' ? 3 : 2 * exports) },
  ])
  // A series id is a 64-bit hash: it comes back with every digit, so it can be asked for again.
  const ids = await api('/api/v1/sql', {
    method: 'POST',
    body: JSON.stringify({ query: `SELECT DISTINCT series_id, toString(series_id) AS text FROM metrics WHERE resource_attributes['service.name'] = '${service}'` }),
  })
  const rows = ids.body.data as Array<{ series_id: unknown; text: string }>
  expect(rows.length).toBeGreaterThan(0)
  for (const row of rows) expect(row.series_id).toBe(row.text)
  if (temporality === 'delta') {
    // Delta tokens add up in plain SQL, the docs' first recipe.
    const tokens = await api('/api/v1/sql', {
      method: 'POST',
      body: JSON.stringify({
        query: `SELECT attributes['gen_ai.request.model'] AS model, sum(sum) AS tokens FROM metrics
          WHERE name = 'gen_ai.client.token.usage' AND resource_attributes['service.name'] = '${service}' GROUP BY model ORDER BY model`,
      }),
    })
    expect(tokens.body.data).toEqual(
      ['claude-haiku-4-5', 'gpt-4o-mini'].map((model) => ({ model, tokens: tokensOf(model, 'input') + tokensOf(model, 'output') })),
    )
  }
}

const headers = { authorization: `Bearer ${KEYS.acme}` }
const DELTA = AggregationTemporalityPreference.DELTA
const CUMULATIVE = AggregationTemporalityPreference.CUMULATIVE

describe('the OpenTelemetry SDK exporters send metrics that come back as recorded', () => {
  it.each([
    ['exporter-metrics-otlp-proto, cumulative', () => new ProtoExporter({ url: `${server.url}/v1/metrics`, headers, temporalityPreference: CUMULATIVE }), 'cumulative'],
    ['exporter-metrics-otlp-proto with gzip, delta', () => new ProtoExporter({ url: `${server.url}/v1/metrics`, headers, temporalityPreference: DELTA, compression: 'gzip' as never }), 'delta'],
    ['exporter-metrics-otlp-http (JSON), delta', () => new JsonExporter({ url: `${server.url}/v1/metrics`, headers, temporalityPreference: DELTA }), 'delta'],
    ['exporter-metrics-otlp-http (JSON), cumulative', () => new JsonExporter({ url: `${server.url}/v1/metrics`, headers, temporalityPreference: CUMULATIVE }), 'cumulative'],
    [
      'exporter-metrics-otlp-grpc, cumulative',
      () => {
        const metadata = new Metadata()
        metadata.set('authorization', `Bearer ${KEYS.acme}`)
        return new GrpcExporter({ url: `http://${grpcTarget}`, metadata, temporalityPreference: CUMULATIVE })
      },
      'cumulative',
    ],
    [
      'exporter-metrics-otlp-grpc with gzip, delta',
      () => {
        const metadata = new Metadata()
        metadata.set('authorization', `Bearer ${KEYS.acme}`)
        return new GrpcExporter({ url: `http://${grpcTarget}`, metadata, temporalityPreference: DELTA, compression: 'gzip' as never })
      },
      'delta',
    ],
  ] as const)('%s', async (name, exporter, temporality) => {
    // A service of this attempt's own: a retried attempt (cluster mode) must not read the points of the one before.
    const service = `svc-${name.replace(/\W+/g, '-')}-${randomUUID().slice(0, 8)}`
    await record(exporter(), service)
    await expectRecorded(service, temporality)
  })
})

/**
 * An ExportMetricsServiceRequest of one gauge, encoded by the SDK's own protobuf
 * serializer; each point is [start, time, value], times in seconds from now (null: not set).
 */
function gaugeRequest(name: string, points: Array<[number | null, number | null, number]>): Uint8Array {
  const at = (s: number | null): [number, number] => (s === null ? [0, 0] : [Math.floor(Date.now() / 1000) + s, 0])
  return ProtobufMetricsSerializer.serializeRequest({
    resource: resourceFromAttributes({ 'service.name': 'gauges' }),
    scopeMetrics: [
      {
        scope: { name: 'gauges' },
        metrics: [
          {
            descriptor: { name, description: '', unit: '', valueType: ValueType.DOUBLE },
            dataPointType: DataPointType.GAUGE,
            aggregationTemporality: AggregationTemporality.CUMULATIVE,
            dataPoints: points.map(([start, end, value]) => ({ startTime: at(start), endTime: at(end), value, attributes: {} })),
          },
        ],
      },
    ],
  }) as Uint8Array
}

const post = (body: string | Uint8Array, contentType: string, extra: Record<string, string> = {}) =>
  fetch(`${server.url}/v1/metrics`, { method: 'POST', headers: { 'content-type': contentType, ...headers, ...extra }, body })
const healthy = async () => expect((await fetch(`${server.url}/healthz`)).status).toBe(200)
const stored = async (name: string) => {
  await server.app.spanlens.flush()
  const [r] = await server.rows<{ c: string }>('SELECT count() AS c FROM metrics FINAL WHERE name = {n:String}', { n: name })
  return Number(r?.c)
}

describe('partial success: bad points are refused, the others kept', () => {
  it('JSON: rejectedDataPoints counts them, errorMessage says why', async () => {
    const name = `partial-json-${Date.now()}`
    const { request, bad } = badMetricPoints(name)
    const res = await post(JSON.stringify(request), 'application/json')
    expect(res.status).toBe(200)
    const body = (await res.json()) as { partialSuccess: { rejectedDataPoints: string; errorMessage: string } }
    expect(body.partialSuccess.rejectedDataPoints).toBe(String(bad))
    expect(body.partialSuccess.errorMessage).toMatch(/data point\(s\) rejected/)
    expect(body.partialSuccess.errorMessage).toMatch(/missing time_unix_nano/)
    expect(body.partialSuccess.errorMessage).toMatch(/bucket_counts has 2 buckets for 2 explicit_bounds/)
    expect(await stored(name)).toBe(2)
  })

  it('counts at the top of uint64 are stored as sent or at the largest UInt64, never wrapped around', async () => {
    const name = `uint64-${Date.now()}`
    const t = String(BigInt(Date.now()) * 1_000_000n)
    const max = '18446744073709551615'
    // Two times: points of one series at one time are one point.
    const point = (count: string, buckets: string[], ms: bigint) => ({ startTimeUnixNano: String(BigInt(t) - 1_000_000_000n), timeUnixNano: String(BigInt(t) + ms * 1_000_000n), count, sum: 1, bucketCounts: buckets, explicitBounds: [1] })
    const request = {
      resourceMetrics: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: 'uint64' } }] },
          scopeMetrics: [{ scope: { name: 'test' }, metrics: [{ name, histogram: { aggregationTemporality: 1, dataPoints: [point(max, ['1', max], 0n), point('9007199254740992', ['0', '9007199254740992'], 1n)] } }] }],
        },
      ],
    }
    const res = await post(JSON.stringify(request), 'application/json')
    expect(res.status).toBe(200)
    await server.app.spanlens.flush()
    const rows = await server.rows<{ count: string; bucket_counts: string[] }>(
      'SELECT toString(count) AS count, arrayMap(x -> toString(x), bucket_counts) AS bucket_counts FROM metrics WHERE name = {n:String} ORDER BY count',
      { n: name },
    )
    // 2^64 − 1 reaches JavaScript as 2^64: it was written so and read back as 384.
    expect(rows).toEqual([
      { count: max, bucket_counts: ['1', max] },
      { count: '9007199254740992', bucket_counts: ['0', '9007199254740992'] },
    ])
  })

  it('protobuf: an ExportMetricsServiceResponse with rejected_data_points, over HTTP and gRPC', async () => {
    const name = `partial-pb-${Date.now()}`
    // The SDK's serializer, fed a point whose start is after its time and one without a time.
    const bytes = gaugeRequest(name, [[0, 0, 1], [10, 0, 2], [null, null, 3]])
    for (const send of [
      async () => Buffer.from(await (await post(bytes, 'application/x-protobuf')).arrayBuffer()),
      async () => {
        const reply = await grpcCall(grpcTarget, Buffer.from(bytes), { authorization: `Bearer ${KEYS.acme}`, path: METRICS_EXPORT })
        expect(reply.code).toBe(Status.OK)
        return reply.response ?? Buffer.alloc(0)
      },
    ]) {
      // Field 1 of ExportMetricsServiceResponse has the same shape as the trace response's.
      const response = otlpTypes().response.toObject(otlpTypes().response.decode(await send()), { longs: String }) as { partialSuccess: { rejectedSpans: string; errorMessage: string } }
      expect(response.partialSuccess.rejectedSpans).toBe('2')
      expect(response.partialSuccess.errorMessage).toMatch(/start_time_unix_nano is after time_unix_nano/)
    }
    expect(await stored(name)).toBe(1)
  })
})

describe('a point delivered twice', () => {
  it('is stored once, and counted once by the route (an exporter retrying after a lost reply)', async () => {
    const name = `twice-${Date.now()}`
    const { request } = badMetricPoints(name)
    for (let i = 0; i < 2; i++) expect((await post(JSON.stringify(request), 'application/json')).status).toBe(200)
    expect(await stored(name)).toBe(2)
    expect(await metric('bad-points', { name, type: 'histogram', agg: 'count' })).toEqual({ '*': 3 })
  })
})

describe('bad input gets the right status and the server stays up', () => {
  it('an empty request is a success, in either encoding', async () => {
    const json = await post('', 'application/json')
    expect(json.status).toBe(200)
    expect(await json.json()).toEqual({})
    expect((await post(new Uint8Array(0), 'application/x-protobuf')).status).toBe(200)
  })

  it('truncated protobuf → 400 with a google.rpc.Status; over gRPC, INVALID_ARGUMENT', async () => {
    const pb = Buffer.from(gaugeRequest('truncated', [[0, 0, 1]]))
    const res = await post(pb.subarray(0, pb.length - 7), 'application/x-protobuf')
    expect(res.status).toBe(400)
    const status = otlpTypes().status.decode(Buffer.from(await res.arrayBuffer())) as unknown as { code: number; message: string }
    expect(status.code).toBe(3)
    expect(status.message).toMatch(/SPANLENS_BAD_OTLP/)
    const reply = await grpcCall(grpcTarget, pb.subarray(0, pb.length - 7), { authorization: `Bearer ${KEYS.acme}`, path: METRICS_EXPORT })
    expect(reply.code).toBe(Status.INVALID_ARGUMENT)
    expect(reply.details).toMatch(/^SPANLENS_BAD_OTLP:/)
    await healthy()
  })

  it.each([
    ['not JSON', '{"resourceMetrics": ['],
    ['a JSON array', '[]'],
    ['resourceMetrics of the wrong type', '{"resourceMetrics": "yes"}'],
  ])('%s → 400 SPANLENS_BAD_OTLP', async (_name, body) => {
    const res = await post(body, 'application/json')
    expect(res.status).toBe(400)
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('SPANLENS_BAD_OTLP')
    await healthy()
  })

  it('no key → 401, another content type → 415, a body over the limit after gzip → 413; nothing stored', async () => {
    const name = `refused-${Date.now()}`
    const { request } = badMetricPoints(name)
    const anonymous = await fetch(`${server.url}/v1/metrics`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(request) })
    expect(anonymous.status).toBe(401)
    expect((await post(JSON.stringify(request), 'text/plain')).status).toBe(415)
    const bomb = gzipSync(Buffer.alloc(4 * 1024 * 1024, 0x20))
    const big = await post(bomb, 'application/json', { 'content-encoding': 'gzip' })
    expect(big.status).toBe(413)
    expect(((await big.json()) as { error: { code: string } }).error.code).toBe('SPANLENS_BODY_TOO_LARGE')
    const unauthenticated = await grpcCall(grpcTarget, Buffer.alloc(0), { path: METRICS_EXPORT })
    expect(unauthenticated.code).toBe(Status.UNAUTHENTICATED)
    expect(await stored(name)).toBe(0)
    await healthy()
  })
})
