import { MAX_TIME_NS } from './decode.js'
import { MAX_BUCKETS, MAX_EXEMPLARS, readMetricsRequest } from './decode-metrics-protobuf.js'
import type { Attrs } from './model.js'
import {
  type DecodedMetrics,
  emptyPoint,
  FLAG_NO_RECORDED_VALUE,
  type MetricType,
  type OtlpBuckets,
  type OtlpExemplar,
  type OtlpMetric,
  type OtlpMetricPoint,
} from './metric-model.js'
import { compareNs, idToHex, keyValues, nanos, spanPointerProblem } from './values.js'
import { jsonResourceList, readWire } from './request-body.js'

/**
 * Decodes an ExportMetricsServiceRequest, protobuf (decode-metrics-protobuf.ts)
 * or OTLP JSON (the walker below), into data points, one per future row. Each
 * point is validated and only the bad ones are rejected (partial success, counted
 * as rejected_data_points), never the whole request.
 */

type Obj = Record<string, unknown>
const MAX_PROBLEMS = 5
/** OTLP's exponential histogram scales: -10 (base 2^1024) to 20 (base 2^(2^-20)). */
const MIN_SCALE = -10
const MAX_SCALE = 20

export function decodeMetricsProtobuf(body: Buffer): DecodedMetrics {
  const out = collector()
  readWire(() => readMetricsRequest(body, { point: out.add }))
  return out.result
}

export function decodeMetricsJson(body: Buffer): DecodedMetrics {
  const resourceMetrics = jsonResourceList(body, 'ExportMetricsServiceRequest', 'resourceMetrics', 'resource_metrics')
  const out = collector()
  walk(resourceMetrics, out)
  return out.result
}

/** Accepts valid points and counts the rest, keeping a few reasons for the reply. */
function collector() {
  const result: DecodedMetrics = { points: [], rejected: 0, problems: [] }
  const reject = (why: string): void => {
    result.rejected++
    if (result.problems.length < MAX_PROBLEMS) result.problems.push(why)
  }
  const add = (p: OtlpMetricPoint): void => {
    const problem = validate(p)
    if (problem) reject(`metric ${JSON.stringify(p.metric.name.slice(0, 80))}: ${problem}`)
    else result.points.push(p)
  }
  return { result, reject, add }
}

/** Why a point cannot be stored, or undefined. */
function validate(p: OtlpMetricPoint): string | undefined {
  const m = p.metric
  if (m.name === '') return 'missing name'
  if (p.timeNs === '0') return 'missing time_unix_nano'
  if (compareNs(p.timeNs, MAX_TIME_NS) > 0) return 'time_unix_nano is after 2262-04-11, the latest time ClickHouse stores'
  if (compareNs(p.startNs, p.timeNs) > 0) return 'start_time_unix_nano is after time_unix_nano'
  if ((m.type === 'sum' || m.type === 'histogram' || m.type === 'exponential_histogram') && m.temporality !== 1 && m.temporality !== 2) {
    return 'aggregation_temporality must be DELTA (1) or CUMULATIVE (2)'
  }
  const recorded = (p.flags & FLAG_NO_RECORDED_VALUE) === 0
  if ((m.type === 'gauge' || m.type === 'sum') && recorded) {
    // OTLP: "A point is considered invalid when one of the recognized value fields is not present".
    if (p.value === null) return 'no value (neither as_double nor as_int), and not flagged FLAG_NO_RECORDED_VALUE'
    if (!Number.isFinite(p.value)) return 'value is not a finite number'
  }
  if (!Number.isFinite(p.count) || p.count < 0) return 'count must be a non-negative integer'
  if (m.type === 'histogram') {
    if (p.bucketCounts.length > 0 && p.bucketCounts.length !== p.explicitBounds.length + 1) {
      return `bucket_counts has ${p.bucketCounts.length} buckets for ${p.explicitBounds.length} explicit_bounds (expected ${p.explicitBounds.length + 1})`
    }
    for (let i = 0; i < p.explicitBounds.length; i++) {
      const b = p.explicitBounds[i] as number
      if (!Number.isFinite(b) || (i > 0 && b <= (p.explicitBounds[i - 1] as number))) return 'explicit_bounds must be finite and strictly increasing'
    }
  }
  if (m.type === 'exponential_histogram') {
    if (!Number.isInteger(p.scale) || p.scale < MIN_SCALE || p.scale > MAX_SCALE) return `scale must be an integer from ${MIN_SCALE} to ${MAX_SCALE}`
    if (!Number.isFinite(p.zeroThreshold) || p.zeroThreshold < 0) return 'zero_threshold must be a non-negative number'
    for (const b of [p.positive, p.negative]) {
      // The absolute bucket index must stay an Int32, like the offset itself.
      if (!Number.isInteger(b.offset) || b.offset < -(2 ** 31) || b.offset + b.counts.length > 2 ** 31 - 1) return 'bucket offset out of range'
    }
  }
  for (const counts of [p.bucketCounts, p.positive.counts, p.negative.counts, [p.zeroCount]]) {
    for (const c of counts) if (!Number.isFinite(c) || c < 0) return 'bucket counts must be non-negative integers'
  }
  if (m.type === 'summary') {
    for (const q of p.quantiles) if (!(q >= 0 && q <= 1)) return 'quantile must be from 0 to 1'
  }
  for (let i = 0; i < p.exemplars.length; i++) {
    const e = p.exemplars[i] as OtlpExemplar
    // An exemplar is one recorded measurement, invalid without its value (as a point is).
    if (e.value === null) return `exemplar ${i}: no value (neither as_double nor as_int)`
    const ids = spanPointerProblem(e)
    if (ids) return `exemplar ${i}: ${ids}`
    if (compareNs(e.timeNs, MAX_TIME_NS) > 0) return `exemplar ${i}: time_unix_nano is after 2262-04-11, the latest time ClickHouse stores`
  }
  return undefined
}

// ---- OTLP JSON

function field(o: Obj, camel: string, snake: string): unknown {
  return o[camel] ?? o[snake]
}

function list(o: Obj | undefined, camel: string, snake: string): unknown[] {
  if (!o) return []
  const v = field(o, camel, snake)
  return Array.isArray(v) ? v : []
}

const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v)

const JSON_TYPES: Array<[MetricType, string, string]> = [
  ['gauge', 'gauge', 'gauge'],
  ['sum', 'sum', 'sum'],
  ['histogram', 'histogram', 'histogram'],
  ['exponential_histogram', 'exponentialHistogram', 'exponential_histogram'],
  ['summary', 'summary', 'summary'],
]

function walk(resourceMetrics: unknown[], out: ReturnType<typeof collector>): void {
  for (const rm of resourceMetrics) {
    if (!isObj(rm)) continue
    const resource = keyValues((rm.resource as Obj | undefined)?.attributes)
    for (const sm of list(rm, 'scopeMetrics', 'scope_metrics')) {
      if (!isObj(sm)) continue
      const scope = isObj(sm.scope) ? sm.scope : {}
      const scopeName = typeof scope.name === 'string' ? scope.name : ''
      const scopeVersion = typeof scope.version === 'string' ? scope.version : ''
      for (const raw of list(sm, 'metrics', 'metrics')) {
        if (!isObj(raw)) continue
        walkMetric(raw, resource, scopeName, scopeVersion, out)
      }
    }
  }
}

function walkMetric(raw: Obj, resource: Attrs, scopeName: string, scopeVersion: string, out: ReturnType<typeof collector>): void {
  const found = JSON_TYPES.find(([, camel, snake]) => isObj(field(raw, camel, snake)))
  if (!found) return
  const [type, camel, snake] = found
  const data = field(raw, camel, snake) as Obj
  const str = (v: unknown) => (typeof v === 'string' ? v : '')
  const metric: OtlpMetric = {
    resource,
    scopeName,
    scopeVersion,
    name: str(raw.name),
    description: str(raw.description),
    unit: str(raw.unit),
    type,
    temporality: 0,
    isMonotonic: false,
  }
  const points = list(data, 'dataPoints', 'data_points')
  try {
    if (type !== 'gauge' && type !== 'summary') metric.temporality = temporality(field(data, 'aggregationTemporality', 'aggregation_temporality'))
    if (type === 'sum') metric.isMonotonic = field(data, 'isMonotonic', 'is_monotonic') === true
  } catch (err) {
    for (let i = 0; i < points.length; i++) out.reject(`metric ${JSON.stringify(metric.name.slice(0, 80))}: ${(err as Error).message}`)
    return
  }
  for (let i = 0; i < points.length; i++) {
    const p = points[i]
    try {
      if (!isObj(p)) throw new TypeError('not an object')
      out.add(toPoint(p, metric))
    } catch (err) {
      out.reject(`metric ${JSON.stringify(metric.name.slice(0, 80))} point ${i}: ${(err as Error).message}`)
    }
  }
}

function toPoint(o: Obj, metric: OtlpMetric): OtlpMetricPoint {
  const p = emptyPoint(metric)
  p.attributes = keyValues(o.attributes)
  p.startNs = nanos(field(o, 'startTimeUnixNano', 'start_time_unix_nano'))
  p.timeNs = nanos(field(o, 'timeUnixNano', 'time_unix_nano'))
  p.flags = uint32(o.flags, 'flags')
  p.exemplars = list(o, 'exemplars', 'exemplars').slice(0, MAX_EXEMPLARS).map(toExemplar)
  switch (metric.type) {
    case 'gauge':
    case 'sum':
      p.value = numberValue(o)
      break
    case 'histogram':
      p.count = uint(o.count, 'count')
      p.sum = optionalDouble(o.sum, 'sum')
      p.min = optionalDouble(o.min, 'min')
      p.max = optionalDouble(o.max, 'max')
      p.bucketCounts = numbers(field(o, 'bucketCounts', 'bucket_counts'), 'bucket_counts', (v) => uint(v, 'bucket_counts'))
      p.explicitBounds = numbers(field(o, 'explicitBounds', 'explicit_bounds'), 'explicit_bounds', (v) => double(v, 'explicit_bounds'))
      break
    case 'exponential_histogram':
      p.count = uint(o.count, 'count')
      p.sum = optionalDouble(o.sum, 'sum')
      p.min = optionalDouble(o.min, 'min')
      p.max = optionalDouble(o.max, 'max')
      p.scale = int(o.scale, 'scale')
      p.zeroCount = uint(field(o, 'zeroCount', 'zero_count'), 'zero_count')
      p.zeroThreshold = optionalDouble(field(o, 'zeroThreshold', 'zero_threshold'), 'zero_threshold') ?? 0
      p.positive = buckets(o.positive)
      p.negative = buckets(o.negative)
      break
    case 'summary': {
      p.count = uint(o.count, 'count')
      p.sum = optionalDouble(o.sum, 'sum')
      const qs = list(o, 'quantileValues', 'quantile_values')
      if (qs.length > MAX_BUCKETS) throw new TypeError(`more than ${MAX_BUCKETS} quantile_values`)
      for (const q of qs) {
        const v = isObj(q) ? q : {}
        p.quantiles.push(optionalDouble(v.quantile, 'quantile') ?? 0)
        p.quantileValues.push(optionalDouble(v.value, 'value') ?? 0)
      }
      break
    }
  }
  return p
}

function toExemplar(raw: unknown): OtlpExemplar {
  const e = isObj(raw) ? raw : {}
  return {
    timeNs: nanos(field(e, 'timeUnixNano', 'time_unix_nano')),
    value: numberValue(e),
    traceId: idToHex(field(e, 'traceId', 'trace_id'), 16),
    spanId: idToHex(field(e, 'spanId', 'span_id'), 8),
    attributes: keyValues(field(e, 'filteredAttributes', 'filtered_attributes')),
  }
}

function buckets(raw: unknown): OtlpBuckets {
  if (raw === undefined || raw === null) return { offset: 0, counts: [] }
  if (!isObj(raw)) throw new TypeError('positive and negative must be objects')
  return {
    offset: int(raw.offset, 'offset'),
    counts: numbers(field(raw, 'bucketCounts', 'bucket_counts'), 'bucket_counts', (v) => uint(v, 'bucket_counts')),
  }
}

/** as_double or as_int (a decimal string in OTLP JSON; a number from lenient writers); null when neither is sent. */
function numberValue(o: Obj): number | null {
  const i = field(o, 'asInt', 'as_int')
  const d = field(o, 'asDouble', 'as_double')
  const hasInt = i !== undefined && i !== null
  const hasDouble = d !== undefined && d !== null
  // One oneof, two members: which one the sender meant is unknown.
  if (hasInt && hasDouble) throw new TypeError('both as_double and as_int are set')
  if (hasInt) return int64(i, 'as_int')
  if (hasDouble) return double(d, 'as_double')
  return null
}

function numbers(v: unknown, name: string, each: (x: unknown) => number): number[] {
  if (v === undefined || v === null) return []
  if (!Array.isArray(v)) throw new TypeError(`${name} must be an array`)
  if (v.length > MAX_BUCKETS) throw new TypeError(`more than ${MAX_BUCKETS} ${name}`)
  return v.map(each)
}

/** A JSON double: a number, or one of the strings protobuf JSON uses for non-finite values. */
function double(v: unknown, name: string): number {
  if (typeof v === 'number') return v
  if (v === 'NaN') return Number.NaN
  if (v === 'Infinity') return Number.POSITIVE_INFINITY
  if (v === '-Infinity') return Number.NEGATIVE_INFINITY
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v)
  throw new TypeError(`${name} must be a number`)
}

function optionalDouble(v: unknown, name: string): number | null {
  return v === undefined || v === null ? null : double(v, name)
}

function int64(v: unknown, name: string): number {
  if (typeof v === 'number' && Number.isInteger(v)) return v
  if (typeof v === 'string' && /^-?\d+$/.test(v)) return Number(v)
  throw new TypeError(`${name} must be an integer`)
}

function uint(v: unknown, name: string): number {
  if (v === undefined || v === null) return 0
  const n = int64(v, name)
  if (n < 0) throw new TypeError(`${name} must not be negative`)
  return n
}

/** A uint32 field (a point's flags): a larger value is not one, and the column would wrap it around. */
function uint32(v: unknown, name: string): number {
  const n = uint(v, name)
  if (n > 2 ** 32 - 1) throw new TypeError(`${name} is out of the uint32 range`)
  return n
}

function int(v: unknown, name: string): number {
  if (v === undefined || v === null) return 0
  const n = int64(v, name)
  if (n < -(2 ** 31) || n > 2 ** 31 - 1) throw new TypeError(`${name} is out of the int32 range`)
  return n
}

const TEMPORALITY_NAMES = ['AGGREGATION_TEMPORALITY_UNSPECIFIED', 'AGGREGATION_TEMPORALITY_DELTA', 'AGGREGATION_TEMPORALITY_CUMULATIVE']

function temporality(v: unknown): number {
  if (v === undefined || v === null) return 0
  if (typeof v === 'number' && Number.isInteger(v)) return v
  if (typeof v === 'string') {
    const i = TEMPORALITY_NAMES.indexOf(v)
    if (i >= 0) return i
  }
  throw new TypeError('aggregationTemporality must be an integer enum')
}
