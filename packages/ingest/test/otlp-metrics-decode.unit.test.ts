import { JsonMetricsSerializer, ProtobufMetricsSerializer } from '@opentelemetry/otlp-transformer'
import { resourceFromAttributes } from '@opentelemetry/resources'
import { AggregationTemporality, AggregationType, MeterProvider, MetricReader, type ResourceMetrics } from '@opentelemetry/sdk-metrics'
import { describe, expect, it } from 'vitest'
import { SpanlensError } from '../src/errors.js'
import { normalizeMetricPoint } from '../src/normalize/metrics.js'
import { decodeMetricsJson, decodeMetricsProtobuf } from '../src/otlp/decode-metrics.js'
import type { DecodedMetrics } from '../src/otlp/metric-model.js'
import { METRICS } from '../src/pipeline/tables.js'
import { METRIC_INSERT_COLUMNS } from '../src/schema/metric-columns.js'
import { CODEC_TYPES } from './helpers/codec-types.js'
import { badMetricPoints } from './helpers/otlp-metrics.js'
import { Rng } from './fuzz/rng.js'
import { encodeMessage, pb as wire } from './fuzz/wire.js'
import { snakeCaseFields } from './helpers/snake-case.js'

/**
 * The receiver reads ExportMetricsServiceRequest protobuf with its own wire
 * reader and OTLP JSON with an object walker. The OpenTelemetry JS SDK's own
 * serializers (what its exporters send) encode the same collected metrics both
 * ways: the two decoders must yield the same points, with the values recorded.
 */

/** A reader collected by hand: what an exporter's reader hands to the serializer. */
class Collect extends MetricReader {
  protected async onForceFlush(): Promise<void> {}
  protected async onShutdown(): Promise<void> {}
}

async function collected(temporality: AggregationTemporality): Promise<ResourceMetrics> {
  const reader = new Collect({ aggregationTemporalitySelector: () => temporality })
  const provider = new MeterProvider({
    resource: resourceFromAttributes({ 'service.name': 'decode', 'host.name': 'h1' }),
    readers: [reader],
    views: [{ instrumentName: 'latency', aggregation: { type: AggregationType.EXPONENTIAL_HISTOGRAM } }],
  })
  const meter = provider.getMeter('decode-test', '2.0.0')
  const tokens = meter.createHistogram('gen_ai.client.token.usage', { unit: '{token}', advice: { explicitBucketBoundaries: [1, 4, 16, 64, 256] } })
  tokens.record(100, { 'gen_ai.request.model': 'gpt-4o', 'gen_ai.token.type': 'input' })
  tokens.record(3, { 'gen_ai.request.model': 'gpt-4o', 'gen_ai.token.type': 'input' })
  meter.createCounter('requests', { valueType: 1 }).add(5, { route: '/a', ok: true, n: 3 })
  meter.createUpDownCounter('in_flight').add(-2.5)
  meter.createGauge('temperature', { unit: 'Cel' }).record(21.5, { room: 'lab' })
  const latency = meter.createHistogram('latency', { unit: 's' })
  for (const v of [0.001, 0.5, 1, 2, 1e6]) latency.record(v)
  const { resourceMetrics } = await reader.collect()
  await provider.shutdown()
  return resourceMetrics
}

/** The points without the metric objects' identity (shared per metric), for comparing decoders. */
const plain = (d: DecodedMetrics) => JSON.parse(JSON.stringify(d)) as DecodedMetrics

describe('protobuf and JSON decode the SDK’s requests to the same points', () => {
  for (const temporality of [AggregationTemporality.DELTA, AggregationTemporality.CUMULATIVE]) {
    it(`${temporality === AggregationTemporality.DELTA ? 'delta' : 'cumulative'}`, async () => {
      const rm = await collected(temporality)
      const pb = decodeMetricsProtobuf(Buffer.from(ProtobufMetricsSerializer.serializeRequest(rm) as Uint8Array))
      const json = decodeMetricsJson(Buffer.from(JsonMetricsSerializer.serializeRequest(rm) as Uint8Array))
      expect(plain(pb)).toEqual(plain(json))
      const snake = snakeCaseFields(JSON.parse(Buffer.from(JsonMetricsSerializer.serializeRequest(rm) as Uint8Array).toString()))
      expect(JSON.stringify(snake)).toMatch(/"data_points".*"time_unix_nano".*"string_value"/)
      expect(plain(decodeMetricsJson(Buffer.from(JSON.stringify(snake))))).toEqual(plain(json))
      expect(pb.rejected).toBe(0)
      const byName = Object.fromEntries(pb.points.map((p) => [p.metric.name, p]))
      const t = temporality === AggregationTemporality.DELTA ? 1 : 2

      expect(byName['gen_ai.client.token.usage']).toMatchObject({
        metric: { type: 'histogram', unit: '{token}', temporality: t, scopeName: 'decode-test', scopeVersion: '2.0.0', resource: { 'service.name': 'decode', 'host.name': 'h1' } },
        attributes: { 'gen_ai.request.model': 'gpt-4o', 'gen_ai.token.type': 'input' },
        count: 2,
        sum: 103,
        min: 3,
        max: 100,
        explicitBounds: [1, 4, 16, 64, 256],
        bucketCounts: [0, 1, 0, 0, 1, 0],
      })
      expect(byName.requests).toMatchObject({ metric: { type: 'sum', temporality: t, isMonotonic: true }, value: 5, attributes: { route: '/a', ok: true, n: 3 } })
      expect(byName.in_flight).toMatchObject({ metric: { type: 'sum', isMonotonic: false }, value: -2.5 })
      expect(byName.temperature).toMatchObject({ metric: { type: 'gauge', temporality: 0, unit: 'Cel' }, value: 21.5 })
      const latency = byName.latency
      expect(latency).toMatchObject({ metric: { type: 'exponential_histogram', temporality: t }, count: 5, min: 0.001, max: 1e6 })
      expect(latency?.sum).toBeCloseTo(1e6 + 3.501, 6)
      expect((latency?.positive.counts ?? []).reduce((a, b) => a + b, 0) + (latency?.negative.counts ?? []).reduce((a, b) => a + b, 0) + (latency?.zeroCount ?? 0)).toBe(5)
      // Spread over 1e-3..1e6, the SDK's 160 buckets hold it at a coarse scale.
      expect(latency?.scale).toBeLessThan(20)
      for (const p of pb.points) {
        expect(BigInt(p.timeNs)).toBeGreaterThan(0n)
        expect(BigInt(p.startNs)).toBeLessThanOrEqual(BigInt(p.timeNs))
      }
    })
  }
})

describe('a metrics row', () => {
  it('has one field per inserted column, each column read by its codec', async () => {
    const { points } = decodeMetricsProtobuf(Buffer.from(ProtobufMetricsSerializer.serializeRequest(await collected(AggregationTemporality.DELTA)) as Uint8Array))
    for (const p of points) expect(Object.keys(normalizeMetricPoint(p, 'p'))).toEqual(METRICS.columns)
    for (const c of METRIC_INSERT_COLUMNS) expect(c.type, `${c.name} (${c.codec})`).toMatch(CODEC_TYPES[c.codec])
    // The encoder writes exponential offsets (negative below 1) and scales as they are.
    const latency = points.find((p) => p.metric.name === 'latency')
    const line = METRICS.encode(normalizeMetricPoint(latency!, 'p')).split('\t')
    expect(latency?.positive.offset).toBeLessThan(0)
    expect(line[METRICS.columns.indexOf('positive_offset')]).toBe(String(latency?.positive.offset))
    expect(line).toHaveLength(METRICS.columns.length)
  })

  it("names its series by the stream's identity: attribute order does not matter, a value or the resource does", async () => {
    const json = (attrs: Array<[string, string]>, host = 'h1') =>
      decodeMetricsJson(
        Buffer.from(
          JSON.stringify({
            resourceMetrics: [
              {
                resource: { attributes: [{ key: 'host.name', value: { stringValue: host } }] },
                scopeMetrics: [{ metrics: [{ name: 'm', gauge: { dataPoints: [{ timeUnixNano: '1767225600000000000', asDouble: 1, attributes: attrs.map(([key, v]) => ({ key, value: { stringValue: v } })) }] } }] }],
              },
            ],
          }),
        ),
      ).points[0]!
    const id = (...args: Parameters<typeof json>) => normalizeMetricPoint(json(...args), 'p').series_id
    const base = id([['a', '1'], ['b', '2']])
    expect(base).toMatch(/^\d+$/)
    expect(id([['b', '2'], ['a', '1']])).toBe(base)
    expect(id([['a', '1'], ['b', '3']])).not.toBe(base)
    expect(id([['a', '1'], ['b', '2']], 'h2')).not.toBe(base)
    expect(normalizeMetricPoint(json([['a', '1']]), 'other').series_id).not.toBe(id([['a', '1']]))
  })
})

describe('validation', () => {
  it('refuses each bad point by itself, in JSON', () => {
    const { request, bad } = badMetricPoints('m')
    const decoded = decodeMetricsJson(Buffer.from(JSON.stringify(request)))
    expect(decoded.rejected).toBe(bad)
    expect(decoded.points).toHaveLength(2)
  })

  it('refuses flags past uint32, which the UInt32 column would wrap around (2^32 + 1 was stored as 1)', () => {
    const point = (flags: number) => ({ resourceMetrics: [{ scopeMetrics: [{ metrics: [{ name: 'g', gauge: { dataPoints: [{ timeUnixNano: '1767225600000000000', asDouble: 1, flags }] } }] }] }] })
    const over = decodeMetricsJson(Buffer.from(JSON.stringify(point(2 ** 32 + 1))))
    expect(over).toMatchObject({ rejected: 1, points: [] })
    expect(over.problems.join()).toContain('flags is out of the uint32 range')
    expect(decodeMetricsJson(Buffer.from(JSON.stringify(point(2 ** 32 - 1))))).toMatchObject({ rejected: 0, points: [{ flags: 2 ** 32 - 1 }] })
  })

  it('accepts enum names, snake_case keys and int64 as numbers, like the trace decoder', () => {
    const decoded = decodeMetricsJson(
      Buffer.from(
        JSON.stringify({
          resource_metrics: [{ scope_metrics: [{ metrics: [{ name: 's', sum: { aggregation_temporality: 'AGGREGATION_TEMPORALITY_DELTA', is_monotonic: true, data_points: [{ time_unix_nano: 1767225600000000000, as_int: 7 }] } }] }] }],
        }),
      ),
    )
    expect(decoded.rejected).toBe(0)
    expect(decoded.points[0]).toMatchObject({ value: 7, metric: { temporality: 1, isMonotonic: true } })
  })

  it('refuses a point whose JSON values have the wrong type, naming them (they were converted or dropped)', () => {
    const T = '1767225600000000000'
    const decode = (metric: Record<string, unknown>, resource: unknown[] = []) =>
      decodeMetricsJson(Buffer.from(JSON.stringify({ resourceMetrics: [{ resource: { attributes: resource }, scopeMetrics: [{ metrics: [{ name: 'typed', ...metric }] }] }] })))
    const gauge = (point: Record<string, unknown>) => ({ gauge: { dataPoints: [{ timeUnixNano: T, asDouble: 1, ...point }] } })
    for (const [metric, why] of [
      [gauge({ attributes: [{ key: 'route', value: { stringValue: ['/a'] } }] }), 'metric 0 "typed" point 0: attribute "route": stringValue must be a string, not a list'],
      [gauge({ asDouble: undefined, asInt: '99999999999999999999' }), 'metric 0 "typed" point 0: as_int must be an integer within int64'],
      [gauge({ asDouble: '0x10' }), 'metric 0 "typed" point 0: as_double must be a number'],
      [gauge({ exemplars: [{ asDouble: 1, filteredAttributes: [{ key: 'k', value: { boolValue: 1 } }] }] }), 'metric 0 "typed" point 0: exemplar 0: attribute "k": boolValue must be a JSON boolean'],
      [{ sum: { aggregationTemporality: 2, isMonotonic: 'true', dataPoints: [{ timeUnixNano: T, asInt: '1' }] } }, 'metric 0 "typed" point 0: isMonotonic must be a JSON boolean (true or false), not "true"'],
      [{ histogram: { aggregationTemporality: 1, dataPoints: [{ timeUnixNano: T, count: '99999999999999999999999' }] } }, 'metric 0 "typed" point 0: count must be a non-negative integer within uint64'],
      [{ unit: 5, ...gauge({}) }, 'metric 0 "typed" point 0: unit must be a string, not 5'],
    ] as const) {
      const d = decode(metric)
      expect(d, JSON.stringify(metric)).toMatchObject({ points: [], rejected: 1 })
      expect(d.problems[0], JSON.stringify(metric)).toContain(why)
    }
    const inResource = decode(gauge({}), [{ key: 'service.name', value: { stringValue: { name: 'svc' } } }])
    expect(inResource).toMatchObject({ points: [], rejected: 1 })
    expect(inResource.problems[0]).toBe('metric 0 "typed" point 0: resource attribute "service.name": stringValue must be a string, not an object')
    // The same in a scope (its attributes were not read).
    const inScope = decodeMetricsJson(
      Buffer.from(JSON.stringify({ resourceMetrics: [{ scopeMetrics: [{ scope: { name: 's', attributes: [{ key: 'bad', value: { boolValue: 'no' } }] }, metrics: [{ name: 'typed', ...gauge({}) }] }] }] })),
    )
    expect(inScope).toMatchObject({ points: [], rejected: 1 })
    expect(inScope.problems[0]).toBe('metric 0 "typed" point 0: scope attribute "bad": boolValue must be a JSON boolean (true or false), not "no"')
    expect(() => decode({ gauge: { dataPoints: {} } })).toThrow(expect.objectContaining({ code: 'SPANLENS_BAD_OTLP' }))
    expect(() => decode({ gauge: 'x' })).toThrow(expect.objectContaining({ code: 'SPANLENS_BAD_OTLP' }))
  })

  it('refuses a gauge or sum point without a value, unless flagged as having none (it was stored as 0)', () => {
    const T = 1767225600000000000n
    const json = (point: Record<string, unknown>, kind = 'gauge') =>
      decodeMetricsJson(Buffer.from(JSON.stringify({ resourceMetrics: [{ scopeMetrics: [{ metrics: [{ name: 'novalue', [kind]: { aggregationTemporality: 2, dataPoints: [{ timeUnixNano: String(T), ...point }] } }] }] }] })))
    for (const [format, d] of [
      ['json gauge', json({})],
      ['json sum', json({}, 'sum')],
      ['protobuf', decodeMetricsProtobuf(gaugeBody(pb.fixed64(3, T)))],
    ] as const) {
      expect(d, format).toMatchObject({ points: [], rejected: 1 })
      expect(d.problems[0], format).toBe('metric 0 "novalue" point 0: no value (neither as_double nor as_int), and not flagged FLAG_NO_RECORDED_VALUE')
    }
    // DataPointFlags.FLAG_NO_RECORDED_VALUE: a gap in the stream, stored with its flag (the metrics route skips it).
    expect(json({ flags: 1 })).toMatchObject({ rejected: 0, points: [{ flags: 1 }] })
    expect(decodeMetricsProtobuf(gaugeBody(pb.fixed64(3, T), pb.varint(8, 1)))).toMatchObject({ rejected: 0, points: [{ flags: 1 }] })
    expect(json({ asInt: '0' })).toMatchObject({ rejected: 0, points: [{ value: 0 }] })
  })

  it("refuses a point whose exemplar has a malformed id or no value, naming the exemplar (the id was dropped, the value stored as 0)", () => {
    const T = 1767225600000000000n
    const exemplar = (...fields: Buffer[]) => pb.ld(5, pb.fixed64(2, T), ...fields)
    const point = (ex: Buffer) => decodeMetricsProtobuf(gaugeBody(pb.fixed64(3, T), pb.double(4, 1.5), ex))
    const json = (ex: Record<string, unknown>) =>
      decodeMetricsJson(Buffer.from(JSON.stringify({ resourceMetrics: [{ scopeMetrics: [{ metrics: [{ name: 'x', gauge: { dataPoints: [{ timeUnixNano: String(T), asDouble: 1.5, exemplars: [{ timeUnixNano: String(T), ...ex }] }] } }] }] }] })))
    const cases: Array<[string, ReturnType<typeof point>, string]> = [
      ['protobuf, 3-byte span id', point(exemplar(pb.double(3, 9), pb.ld(4, Buffer.from([1, 2, 3])), pb.ld(5, Buffer.alloc(16, 0xab)))), 'exemplar 0: invalid span_id (expected 8 bytes or none)'],
      ['json, span id not hex', json({ asDouble: 9, spanId: 'not-an-id', traceId: 'ab'.repeat(16) }), 'exemplar 0: invalid span_id (expected 8 bytes or none)'],
      ['json, trace id too short', json({ asDouble: 9, spanId: 'cd'.repeat(8), traceId: 'abcd' }), 'exemplar 0: invalid trace_id (expected 16 bytes or none)'],
      ['json, span id without trace id', json({ asDouble: 9, spanId: 'cd'.repeat(8) }), 'exemplar 0: span_id without trace_id'],
      ['protobuf, no value', point(exemplar()), 'exemplar 0: no value (neither as_double nor as_int)'],
      ['json, no value', json({}), 'exemplar 0: no value (neither as_double nor as_int)'],
    ]
    for (const [name, d, why] of cases) {
      expect(d, name).toMatchObject({ points: [], rejected: 1 })
      expect(d.problems[0], name).toContain(why)
    }
    // All-zero ids are the invalid span context (an exemplar recorded outside a sampled span): none.
    expect(json({ asInt: '9', spanId: '0'.repeat(16), traceId: '0'.repeat(32) }).points[0]?.exemplars).toEqual([{ timeNs: String(T), value: 9, spanId: '', traceId: '', attributes: {} }])
    expect(point(exemplar(pb.double(3, 9), pb.ld(4, Buffer.alloc(8, 0xcd)), pb.ld(5, Buffer.alloc(16, 0xab)))).points[0]?.exemplars).toEqual([
      { timeNs: String(T), value: 9, spanId: 'cd'.repeat(8), traceId: 'ab'.repeat(16), attributes: {} },
    ])
  })

  it('an undecodable body is SPANLENS_BAD_OTLP, whatever byte it breaks at (seeded truncations and flips)', async () => {
    const body = Buffer.from(ProtobufMetricsSerializer.serializeRequest(await collected(AggregationTemporality.CUMULATIVE)) as Uint8Array)
    const rng = new Rng(0x5eed)
    const bodies = [...Array.from({ length: body.length }, (_, n) => body.subarray(0, n))]
    for (let i = 0; i < 300; i++) {
      const b = Buffer.from(body)
      for (let k = rng.int(1, 4); k > 0; k--) b[rng.int(0, b.length - 1)] = rng.int(0, 255)
      bodies.push(b)
    }
    for (const b of bodies) {
      try {
        const d = decodeMetricsProtobuf(b)
        expect(d.points.length + d.rejected).toBeGreaterThanOrEqual(0)
      } catch (err) {
        expect(err).toBeInstanceOf(SpanlensError)
        expect((err as SpanlensError).code).toBe('SPANLENS_BAD_OTLP')
      }
    }
  })
})

describe('a refused data point is named by its metric\'s position in the request and its own in the metric', () => {
  interface SumSpec {
    name: string
    temporality: number
    /** Each point's start and time; 0n leaves the field out of the JSON, and writes 0 in protobuf. */
    points: Array<[bigint, bigint]>
  }
  /** Sum metrics, resource → scope → metric, as OTLP JSON. */
  const json = (resources: SumSpec[][][]) => ({
    resourceMetrics: resources.map((scopes) => ({
      scopeMetrics: scopes.map((metrics) => ({
        metrics: metrics.map((m) => ({
          name: m.name,
          sum: {
            aggregationTemporality: m.temporality,
            dataPoints: m.points.map(([start, time]) => ({ ...(start ? { startTimeUnixNano: String(start) } : {}), ...(time ? { timeUnixNano: String(time) } : {}), asDouble: 1 })),
          },
        })),
      })),
    })),
  })
  /** The same as protobuf, written with fuzz/wire.ts. */
  const protobuf = (resources: SumSpec[][][]) =>
    encodeMessage(
      resources.map((scopes) =>
        wire.message(
          1,
          scopes.map((metrics) =>
            wire.message(
              2,
              metrics.map((m) =>
                wire.message(2, [
                  wire.string(1, m.name),
                  wire.message(7, [...m.points.map(([start, time]) => wire.message(1, [wire.fixed64(2, start), wire.fixed64(3, time), wire.double(4, 1)])), wire.int(2, m.temporality)]),
                ]),
              ),
            ),
          ),
        ),
      ),
    )

  it('counting every metric in the order sent, across resources and scopes, in JSON and protobuf alike (a point was named by its metric\'s name only)', () => {
    const T = 1767225600000000000n
    const request: SumSpec[][][] = [
      [
        [
          { name: 'a', temporality: 1, points: [[T, T + 1n], [T + 2n, T + 1n]] },
          { name: 'b', temporality: 2, points: [[T, T + 1n]] },
        ],
        [{ name: 'c', temporality: 3, points: [[T, T + 1n]] }],
      ],
      [[{ name: 'd', temporality: 1, points: [[T, T + 1n], [T, 0n]] }]],
    ]
    const expected = [
      'metric 0 "a" point 1: start_time_unix_nano is after time_unix_nano',
      'metric 2 "c" point 0: aggregation_temporality must be DELTA (1) or CUMULATIVE (2)',
      'metric 3 "d" point 1: missing time_unix_nano',
    ]
    for (const [format, d] of Object.entries({ json: decodeMetricsJson(Buffer.from(JSON.stringify(json(request)))), protobuf: decodeMetricsProtobuf(protobuf(request)) })) {
      expect(d.problems, format).toEqual(expected)
      expect(d.points.map((p) => [p.metric.name, p.metric.position, p.index]), format).toEqual([['a', 0, 0], ['b', 1, 0], ['d', 3, 0]])
    }
  })

  it('still refuses a temporality this version does not know: no other can stand in for it (DELTA read as CUMULATIVE sums wrong)', () => {
    for (const temporality of [0, 3, -1, 2 ** 31 - 1]) {
      const request: SumSpec[][][] = [[[{ name: 'm', temporality, points: [[1n, 2n]] }]]]
      for (const [format, d] of Object.entries({ json: decodeMetricsJson(Buffer.from(JSON.stringify(json(request)))), protobuf: decodeMetricsProtobuf(protobuf(request)) })) {
        expect(d.problems, `${format}, ${temporality}`).toEqual(['metric 0 "m" point 0: aggregation_temporality must be DELTA (1) or CUMULATIVE (2)'])
      }
    }
  })
})

/** Protobuf by hand, for points a conforming encoder would not write. */
const pb = {
  tag: (field: number, wire: number) => Buffer.from([(field << 3) | wire]),
  ld: (field: number, ...parts: Buffer[]) => {
    const body = Buffer.concat(parts)
    return Buffer.concat([pb.tag(field, 2), Buffer.from([body.length]), body])
  },
  varint: (field: number, v: number) => Buffer.concat([pb.tag(field, 0), Buffer.from([v])]),
  fixed64: (field: number, v: bigint) => Buffer.concat([pb.tag(field, 1), Buffer.from(new BigUint64Array([v]).buffer)]),
  double: (field: number, v: number) => Buffer.concat([pb.tag(field, 1), Buffer.from(new Float64Array([v]).buffer)]),
}

/** ExportMetricsServiceRequest > ResourceMetrics(1) > ScopeMetrics(2) > Metric(2) { name 1 "novalue", gauge 5 > NumberDataPoint(1) { fields } }. */
function gaugeBody(...fields: Buffer[]): Buffer {
  return pb.ld(1, pb.ld(2, pb.ld(2, pb.ld(1, Buffer.from('novalue')), pb.ld(5, pb.ld(1, ...fields)))))
}
