import { afterLatestTime } from '@spanlens/query/time-window'
import { MAX_TIME_NS } from './decode.js'
import { MAX_BUCKETS, MAX_EXEMPLARS, readMetricsRequest } from './decode-metrics-protobuf.js'
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
import { type JsonEnvelope, type JsonScope, readJsonEnvelope } from './envelope-json.js'
import { JsonTypeError, field, isObj, list, message, shown, text } from './json-fields.js'
import { compareNs, idToHex, isJsonEnumNumber, jsonDouble, jsonInteger, nanos, spanPointerProblem } from './values.js'
import { cappedJsonAttributes } from './attribute-cap.js'
import { readWire } from './request-body.js'

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

const METRICS_JSON: JsonEnvelope = {
  message: 'ExportMetricsServiceRequest',
  resources: 'resourceMetrics',
  scopes: 'scopeMetrics',
  items: 'metrics',
}

export function decodeMetricsJson(body: Buffer): DecodedMetrics {
  return readJsonEnvelope(body, METRICS_JSON, () => {
    const out = collector()
    const item = (raw: unknown, position: number, scope: JsonScope | string): void => {
      if (raw === null) return
      // Its points cannot be counted: the request is a 400 (readJsonEnvelope).
      if (!isObj(raw)) throw new JsonTypeError(`metric ${position} must be an object`)
      walkMetric(raw, position, scope, out)
    }
    return { result: out.result, item }
  })
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
    if (problem) reject(`${pointLabel(p.metric.position, p.metric.name, p.index)}: ${problem}`)
    else result.points.push(p)
  }
  return { result, reject, add }
}

/** A data point as a refusal names it: its metric's position in the request (OtlpMetric.position) and name, and its index in the metric. */
export function pointLabel(position: number, name: string, index: number): string {
  return `metric ${position} ${JSON.stringify(name.slice(0, 80))} point ${index}`
}

/** Why a point cannot be stored, or undefined. */
function validate(p: OtlpMetricPoint): string | undefined {
  const m = p.metric
  if (m.name === '') return 'missing name'
  if (p.timeNs === '0') return 'missing time_unix_nano'
  if (compareNs(p.timeNs, MAX_TIME_NS) > 0) return afterLatestTime('time_unix_nano')
  if (compareNs(p.startNs, p.timeNs) > 0) return 'start_time_unix_nano is after time_unix_nano'
  // An open enum too, but unlike a span's kind no value can stand in for one this version does
  // not know: UNSPECIFIED (0) is one OTLP says must not be sent, and a delta point read as
  // cumulative, or the reverse, is summed wrong by every query over its series.
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
    if (compareNs(e.timeNs, MAX_TIME_NS) > 0) return `exemplar ${i}: ${afterLatestTime('time_unix_nano')}`
  }
  return undefined
}

// ---- OTLP JSON

/** Metric.data's members by JSON name. */
const JSON_TYPES: Array<[MetricType, string]> = [
  ['gauge', 'gauge'],
  ['sum', 'sum'],
  ['histogram', 'histogram'],
  ['exponential_histogram', 'exponentialHistogram'],
  ['summary', 'summary'],
]

/**
 * One Metric's points. What the metric itself carries (its name, temporality, scope
 * and resource) refuses every point of it when it cannot be read; a data field or a
 * points list of the wrong type leaves no points to count, a 400.
 */
function walkMetric(raw: Obj, position: number, scope: JsonScope | string, out: ReturnType<typeof collector>): void {
  const found = JSON_TYPES.filter(([, camel]) => field(raw, camel) !== undefined && field(raw, camel) !== null)
  // A Metric without data has no point to store.
  if (found.length === 0) return
  if (found.length > 1) throw new JsonTypeError(`a metric has more than one data type (${found.map(([, camel]) => camel).join(', ')})`)
  const [type, camel] = found[0] as [MetricType, string]
  const data = message(raw, camel) as Obj
  const points = list(data, 'dataPoints')
  const name = typeof raw.name === 'string' ? raw.name : ''
  let metric: OtlpMetric
  try {
    if (typeof scope === 'string') throw new JsonTypeError(scope)
    metric = {
      position,
      resource: scope.resource,
      scopeName: scope.name,
      scopeVersion: scope.version,
      scopeAttributes: scope.attributes,
      name: text(raw, 'name'),
      description: text(raw, 'description'),
      unit: text(raw, 'unit'),
      type,
      temporality: type === 'gauge' || type === 'summary' ? 0 : temporality(field(data, 'aggregationTemporality')),
      isMonotonic: type === 'sum' ? bool(field(data, 'isMonotonic'), 'isMonotonic') : false,
    }
  } catch (err) {
    for (let i = 0; i < points.length; i++) out.reject(`${pointLabel(position, name, i)}: ${(err as Error).message}`)
    return
  }
  for (let i = 0; i < points.length; i++) {
    const p = points[i]
    try {
      if (!isObj(p)) throw new JsonTypeError('not an object')
      out.add(toPoint(p, metric, i))
    } catch (err) {
      out.reject(`${pointLabel(position, name, i)}: ${(err as Error).message}`)
    }
  }
}

function toPoint(o: Obj, metric: OtlpMetric, index: number): OtlpMetricPoint {
  const p = emptyPoint(metric, index)
  Object.assign(p, cappedJsonAttributes(field(o, 'attributes')))
  p.startNs = nanos(field(o, 'startTimeUnixNano'), 'start_time_unix_nano')
  p.timeNs = nanos(field(o, 'timeUnixNano'), 'time_unix_nano')
  p.flags = uint32(field(o, 'flags'), 'flags')
  p.exemplars = list(o, 'exemplars').slice(0, MAX_EXEMPLARS).map(toExemplar)
  switch (metric.type) {
    case 'gauge':
    case 'sum':
      p.value = numberValue(o)
      break
    case 'histogram':
      p.count = uint(field(o, 'count'), 'count')
      p.sum = optionalDouble(field(o, 'sum'), 'sum')
      p.min = optionalDouble(field(o, 'min'), 'min')
      p.max = optionalDouble(field(o, 'max'), 'max')
      p.bucketCounts = numbers(field(o, 'bucketCounts'), 'bucket_counts', (v) => uint(v, 'bucket_counts'))
      p.explicitBounds = numbers(field(o, 'explicitBounds'), 'explicit_bounds', (v) => double(v, 'explicit_bounds'))
      break
    case 'exponential_histogram':
      p.count = uint(field(o, 'count'), 'count')
      p.sum = optionalDouble(field(o, 'sum'), 'sum')
      p.min = optionalDouble(field(o, 'min'), 'min')
      p.max = optionalDouble(field(o, 'max'), 'max')
      p.scale = int(field(o, 'scale'), 'scale')
      p.zeroCount = uint(field(o, 'zeroCount'), 'zero_count')
      p.zeroThreshold = optionalDouble(field(o, 'zeroThreshold'), 'zero_threshold') ?? 0
      p.positive = buckets(o, 'positive')
      p.negative = buckets(o, 'negative')
      break
    case 'summary': {
      p.count = uint(field(o, 'count'), 'count')
      p.sum = optionalDouble(field(o, 'sum'), 'sum')
      const qs = list(o, 'quantileValues')
      if (qs.length > MAX_BUCKETS) throw new JsonTypeError(`more than ${MAX_BUCKETS} quantile_values`)
      for (const q of qs) {
        if (!isObj(q)) throw new JsonTypeError(`a quantile_values entry must be an object, not ${shown(q)}`)
        p.quantiles.push(optionalDouble(field(q, 'quantile'), 'quantile') ?? 0)
        p.quantileValues.push(optionalDouble(field(q, 'value'), 'value') ?? 0)
      }
      break
    }
  }
  return p
}

function toExemplar(raw: unknown, index: number): OtlpExemplar {
  try {
    if (!isObj(raw)) throw new JsonTypeError(`not an object, but ${shown(raw)}`)
    return {
      timeNs: nanos(field(raw, 'timeUnixNano'), 'time_unix_nano'),
      value: numberValue(raw),
      traceId: idToHex(field(raw, 'traceId'), 16),
      spanId: idToHex(field(raw, 'spanId'), 8),
      ...cappedJsonAttributes(field(raw, 'filteredAttributes')),
    }
  } catch (err) {
    throw err instanceof JsonTypeError ? new JsonTypeError(`exemplar ${index}: ${err.message}`) : err
  }
}

function buckets(o: Obj, name: string): OtlpBuckets {
  const b = message(o, name)
  if (!b) return { offset: 0, counts: [] }
  return {
    offset: int(field(b, 'offset'), 'offset'),
    counts: numbers(field(b, 'bucketCounts'), 'bucket_counts', (v) => uint(v, 'bucket_counts')),
  }
}

/** as_double or as_int (a decimal string in OTLP JSON; a number from lenient writers); null when neither is sent. */
function numberValue(o: Obj): number | null {
  const i = field(o, 'asInt')
  const d = field(o, 'asDouble')
  const hasInt = i !== undefined && i !== null
  const hasDouble = d !== undefined && d !== null
  // One oneof, two members: which one the sender meant is unknown.
  if (hasInt && hasDouble) throw new JsonTypeError('both as_double and as_int are set')
  if (hasInt) return int64(i, 'as_int')
  if (hasDouble) return double(d, 'as_double')
  return null
}

function numbers(v: unknown, name: string, each: (x: unknown) => number): number[] {
  if (v === undefined || v === null) return []
  if (!Array.isArray(v)) throw new JsonTypeError(`${name} must be a list, not ${shown(v)}`)
  if (v.length > MAX_BUCKETS) throw new JsonTypeError(`more than ${MAX_BUCKETS} ${name}`)
  return v.map(each)
}

function double(v: unknown, name: string): number {
  const d = jsonDouble(v)
  if (d === undefined) throw new JsonTypeError(`${name} must be a number (a JSON number, a numeric string, "NaN", "Infinity" or "-Infinity"), not ${shown(v)}`)
  return d
}

function optionalDouble(v: unknown, name: string): number | null {
  return v === undefined || v === null ? null : double(v, name)
}

/** int64 as the Float64 column holds it: beyond 2^53, the nearest double. */
function int64(v: unknown, name: string): number {
  const n = jsonInteger(v, true)
  if (n === undefined) throw new JsonTypeError(`${name} must be an integer within int64 (a JSON number or a decimal string), not ${shown(v)}`)
  return Number(n)
}

/** uint64 (counts), as the column holds it: beyond 2^53, the nearest double. */
function uint(v: unknown, name: string): number {
  if (v === undefined || v === null) return 0
  const n = jsonInteger(v, false)
  if (n === undefined) throw new JsonTypeError(`${name} must be a non-negative integer within uint64 (a JSON number or a decimal string), not ${shown(v)}`)
  return Number(n)
}

/** A uint32 field (a point's flags): a larger value is not one, and the column would wrap it around. */
function uint32(v: unknown, name: string): number {
  const n = uint(v, name)
  if (n > 2 ** 32 - 1) throw new JsonTypeError(`${name} is out of the uint32 range`)
  return n
}

function int(v: unknown, name: string): number {
  if (v === undefined || v === null) return 0
  const n = int64(v, name)
  if (n < -(2 ** 31) || n > 2 ** 31 - 1) throw new JsonTypeError(`${name} is out of the int32 range`)
  return n
}

function bool(v: unknown, name: string): boolean {
  if (v === undefined || v === null) return false
  if (typeof v !== 'boolean') throw new JsonTypeError(`${name} must be a JSON boolean (true or false), not ${shown(v)}`)
  return v
}

const TEMPORALITY_NAMES = ['AGGREGATION_TEMPORALITY_UNSPECIFIED', 'AGGREGATION_TEMPORALITY_DELTA', 'AGGREGATION_TEMPORALITY_CUMULATIVE']

function temporality(v: unknown): number {
  if (v === undefined || v === null) return 0
  if (isJsonEnumNumber(v)) return v
  if (typeof v === 'string') {
    const i = TEMPORALITY_NAMES.indexOf(v)
    if (i >= 0) return i
  }
  throw new JsonTypeError(`aggregationTemporality must be an integer enum (int32) or an AggregationTemporality name, not ${shown(v)}`)
}
