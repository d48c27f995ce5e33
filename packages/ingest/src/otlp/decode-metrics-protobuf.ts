import { readEnvelope, type ScopeInfo } from './envelope-protobuf.js'
import type { Attrs } from './model.js'
import { emptyPoint, type MetricType, type OtlpBuckets, type OtlpExemplar, type OtlpMetric, type OtlpMetricPoint } from './metric-model.js'
import { WireAttributes } from './attribute-cap.js'
import { hexId } from './values-protobuf.js'
import { WIRE_I64, WIRE_LEN, WIRE_VARINT, WireError, type WireReader } from './wire.js'

/**
 * ExportMetricsServiceRequest (opentelemetry-proto metrics/v1) decoded straight
 * from the wire into OtlpMetricPoints, like decode-protobuf.ts does for spans;
 * the field numbers are in the comments. Repeated numbers are read packed (as
 * proto3 writes them) or one by one (as a proto2 writer may). Unknown fields are
 * skipped; structural damage throws a WireError for the caller to turn into a 400.
 */

export interface MetricSink {
  point(point: OtlpMetricPoint): void
}

const key = (field: number, wireType: number): number => (field << 3) | wireType

/** More buckets than any SDK sends (exponential histograms default to 160): a bound on a point's memory. */
export const MAX_BUCKETS = 16_384
/** Exemplars kept per point; SDKs keep one per bucket at most. */
export const MAX_EXEMPLARS = 64

const TYPES: Record<number, MetricType> = { 5: 'gauge', 7: 'sum', 9: 'histogram', 10: 'exponential_histogram', 11: 'summary' }

export function readMetricsRequest(buf: Buffer, sink: MetricSink): void {
  readEnvelope(buf, (r, resource, scope, position) => readMetric(r, position, resource, scope, sink))
}

function readMetric(r: WireReader, position: number, resource: Attrs, scope: ScopeInfo, sink: MetricSink): void {
  // name = 1, description = 2, unit = 3, then the data oneof: gauge = 5, sum = 7,
  // histogram = 9, exponential_histogram = 10, summary = 11 (its points are read
  // once the name is known, wherever it sits).
  const metric: OtlpMetric = { position, resource, scopeName: scope.name, scopeVersion: scope.version, scopeAttributes: scope.attributes, name: '', description: '', unit: '', type: 'gauge', temporality: 0, isMonotonic: false }
  let data = -1
  let dataEnd = -1
  while (!r.done) {
    const tag = r.tag()
    if (tag === key(1, WIRE_LEN)) metric.name = r.string()
    else if (tag === key(2, WIRE_LEN)) metric.description = r.string()
    else if (tag === key(3, WIRE_LEN)) metric.unit = r.string()
    else if ((tag & 7) === WIRE_LEN && TYPES[tag >>> 3] !== undefined) {
      metric.type = TYPES[tag >>> 3] as MetricType
      data = r.lengthDelimited()
      dataEnd = r.pos
    } else r.skip(tag & 7)
  }
  if (data < 0) return
  const end = r.end
  r.pos = data
  r.end = dataEnd
  // Gauge, Sum, Histogram, ExponentialHistogram, Summary: data_points = 1,
  // aggregation_temporality = 2 (not gauge, summary), is_monotonic = 3 (sum).
  const points: number[] = []
  while (!r.done) {
    const tag = r.tag()
    if (tag === key(1, WIRE_LEN)) {
      const start = r.lengthDelimited()
      points.push(start, r.pos)
    } else if (tag === key(2, WIRE_VARINT) && metric.type !== 'gauge' && metric.type !== 'summary') metric.temporality = r.uint32() | 0
    else if (tag === key(3, WIRE_VARINT) && metric.type === 'sum') metric.isMonotonic = r.bool()
    else r.skip(tag & 7)
  }
  for (let i = 0; i < points.length; i += 2) {
    r.pos = points[i] as number
    r.end = points[i + 1] as number
    sink.point(readPoint(r, metric, i / 2))
  }
  r.pos = end
  r.end = end
}

function readPoint(r: WireReader, metric: OtlpMetric, index: number): OtlpMetricPoint {
  const p = emptyPoint(metric, index)
  switch (metric.type) {
    case 'gauge':
    case 'sum':
      return readNumberPoint(r, p)
    case 'histogram':
      return readHistogramPoint(r, p)
    case 'exponential_histogram':
      return readExponentialPoint(r, p)
    case 'summary':
      return readSummaryPoint(r, p)
  }
}

/** Fields every point type has at the same numbers: start_time_unix_nano = 2, time_unix_nano = 3. */
function readTimes(r: WireReader, p: OtlpMetricPoint, tag: number): boolean {
  if (tag === key(2, WIRE_I64)) p.startNs = r.fixed64String()
  else if (tag === key(3, WIRE_I64)) p.timeNs = r.fixed64String()
  else return false
  return true
}

function exemplar(r: WireReader, p: OtlpMetricPoint): void {
  if (p.exemplars.length >= MAX_EXEMPLARS) return r.skip(WIRE_LEN)
  const outer = r.enter()
  p.exemplars.push(readExemplar(r))
  r.leave(outer)
}

function readNumberPoint(r: WireReader, p: OtlpMetricPoint): OtlpMetricPoint {
  // NumberDataPoint: attributes = 7, as_double = 4, as_int = 6 (sfixed64), exemplars = 5, flags = 8
  const attributes = new WireAttributes(p.attributes)
  while (!r.done) {
    const tag = r.tag()
    if (readTimes(r, p, tag)) continue
    if (tag === key(7, WIRE_LEN)) attributes.next(r)
    else if (tag === key(4, WIRE_I64)) p.value = r.double()
    else if (tag === key(6, WIRE_I64)) p.value = r.sfixed64Number()
    else if (tag === key(5, WIRE_LEN)) exemplar(r, p)
    else if (tag === key(8, WIRE_VARINT)) p.flags = r.uint32()
    else r.skip(tag & 7)
  }
  attributes.noteDroppedOn(p)
  return p
}

function readHistogramPoint(r: WireReader, p: OtlpMetricPoint): OtlpMetricPoint {
  // HistogramDataPoint: attributes = 9, count = 4 (fixed64), sum = 5, bucket_counts = 6
  // (fixed64), explicit_bounds = 7 (double), exemplars = 8, flags = 10, min = 11, max = 12
  const attributes = new WireAttributes(p.attributes)
  while (!r.done) {
    const tag = r.tag()
    if (readTimes(r, p, tag)) continue
    switch (tag) {
      case key(9, WIRE_LEN):
        attributes.next(r)
        break
      case key(4, WIRE_I64):
        p.count = r.fixed64Number()
        break
      case key(5, WIRE_I64):
        p.sum = r.double()
        break
      case key(6, WIRE_LEN):
        packed(r, p.bucketCounts, 8, () => r.fixed64Number())
        break
      case key(6, WIRE_I64):
        push(p.bucketCounts, r.fixed64Number())
        break
      case key(7, WIRE_LEN):
        packed(r, p.explicitBounds, 8, () => r.double())
        break
      case key(7, WIRE_I64):
        push(p.explicitBounds, r.double())
        break
      case key(8, WIRE_LEN):
        exemplar(r, p)
        break
      case key(10, WIRE_VARINT):
        p.flags = r.uint32()
        break
      case key(11, WIRE_I64):
        p.min = r.double()
        break
      case key(12, WIRE_I64):
        p.max = r.double()
        break
      default:
        r.skip(tag & 7)
    }
  }
  attributes.noteDroppedOn(p)
  return p
}

function readExponentialPoint(r: WireReader, p: OtlpMetricPoint): OtlpMetricPoint {
  // ExponentialHistogramDataPoint: attributes = 1, count = 4 (fixed64), sum = 5, scale = 6 (sint32),
  // zero_count = 7 (fixed64), positive = 8, negative = 9, flags = 10, exemplars = 11, min = 12,
  // max = 13, zero_threshold = 14
  const attributes = new WireAttributes(p.attributes)
  while (!r.done) {
    const tag = r.tag()
    if (readTimes(r, p, tag)) continue
    switch (tag) {
      case key(1, WIRE_LEN):
        attributes.next(r)
        break
      case key(4, WIRE_I64):
        p.count = r.fixed64Number()
        break
      case key(5, WIRE_I64):
        p.sum = r.double()
        break
      case key(6, WIRE_VARINT):
        p.scale = r.sint32()
        break
      case key(7, WIRE_I64):
        p.zeroCount = r.fixed64Number()
        break
      case key(8, WIRE_LEN):
        p.positive = readBuckets(r)
        break
      case key(9, WIRE_LEN):
        p.negative = readBuckets(r)
        break
      case key(10, WIRE_VARINT):
        p.flags = r.uint32()
        break
      case key(11, WIRE_LEN):
        exemplar(r, p)
        break
      case key(12, WIRE_I64):
        p.min = r.double()
        break
      case key(13, WIRE_I64):
        p.max = r.double()
        break
      case key(14, WIRE_I64):
        p.zeroThreshold = r.double()
        break
      default:
        r.skip(tag & 7)
    }
  }
  attributes.noteDroppedOn(p)
  return p
}

function readBuckets(r: WireReader): OtlpBuckets {
  // Buckets: offset = 1 (sint32), bucket_counts = 2 (uint64)
  const b: OtlpBuckets = { offset: 0, counts: [] }
  const outer = r.enter()
  while (!r.done) {
    const tag = r.tag()
    if (tag === key(1, WIRE_VARINT)) b.offset = r.sint32()
    else if (tag === key(2, WIRE_LEN)) packed(r, b.counts, 0, () => r.uint64Number())
    else if (tag === key(2, WIRE_VARINT)) push(b.counts, r.uint64Number())
    else r.skip(tag & 7)
  }
  r.leave(outer)
  return b
}

function readSummaryPoint(r: WireReader, p: OtlpMetricPoint): OtlpMetricPoint {
  // SummaryDataPoint: attributes = 7, count = 4 (fixed64), sum = 5, quantile_values = 6, flags = 8
  // ValueAtQuantile: quantile = 1, value = 2
  const attributes = new WireAttributes(p.attributes)
  while (!r.done) {
    const tag = r.tag()
    if (readTimes(r, p, tag)) continue
    if (tag === key(7, WIRE_LEN)) attributes.next(r)
    else if (tag === key(4, WIRE_I64)) p.count = r.fixed64Number()
    else if (tag === key(5, WIRE_I64)) p.sum = r.double()
    else if (tag === key(8, WIRE_VARINT)) p.flags = r.uint32()
    else if (tag === key(6, WIRE_LEN)) {
      const outer = r.enter()
      let q = 0
      let v = 0
      while (!r.done) {
        const t = r.tag()
        if (t === key(1, WIRE_I64)) q = r.double()
        else if (t === key(2, WIRE_I64)) v = r.double()
        else r.skip(t & 7)
      }
      r.leave(outer)
      push(p.quantiles, q)
      p.quantileValues.push(v)
    } else r.skip(tag & 7)
  }
  attributes.noteDroppedOn(p)
  return p
}

function readExemplar(r: WireReader): OtlpExemplar {
  // Exemplar: filtered_attributes = 7, time_unix_nano = 2, as_double = 3, as_int = 6 (sfixed64), span_id = 4, trace_id = 5
  const e: OtlpExemplar = { timeNs: '0', value: null, traceId: '', spanId: '', attributes: {} }
  const attributes = new WireAttributes(e.attributes)
  while (!r.done) {
    const tag = r.tag()
    if (tag === key(7, WIRE_LEN)) attributes.next(r)
    else if (tag === key(2, WIRE_I64)) e.timeNs = r.fixed64String()
    else if (tag === key(3, WIRE_I64)) e.value = r.double()
    else if (tag === key(6, WIRE_I64)) e.value = r.sfixed64Number()
    else if (tag === key(4, WIRE_LEN)) e.spanId = hexId(r, 8)
    else if (tag === key(5, WIRE_LEN)) e.traceId = hexId(r, 16)
    else r.skip(tag & 7)
  }
  attributes.noteDroppedOn(e)
  return e
}

/** A packed run of fixed-width (8 bytes) or varint (0) numbers. */
function packed(r: WireReader, out: number[], width: 0 | 8, read: () => number): void {
  const outer = r.enter()
  if (width > 0 && (r.end - r.pos) % width !== 0) throw new WireError('packed field length is not a multiple of its element size')
  while (!r.done) push(out, read())
  r.leave(outer)
}

function push(out: number[], v: number): void {
  if (out.length >= MAX_BUCKETS) throw new WireError(`more than ${MAX_BUCKETS} buckets in one data point`)
  out.push(v)
}
