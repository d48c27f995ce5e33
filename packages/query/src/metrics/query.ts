import { type ClickHouseClient, numOrNull, ParamBag, select } from '../db.js'
import { errors } from '../errors.js'
import { chTime } from '../time.js'
import { type BucketCount, quantileOf } from './histogram.js'
import type { Aggregation, MetricsQuery, MetricType } from './schema.js'

/**
 * GET /api/v1/metrics: one metric's points per group and time bucket, turned
 * into the aggregate asked for. The points are stored as sent; increments of
 * cumulative streams are computed here, per series (docs/metrics.md):
 *
 * - a delta point's increment is its value (count, sum, bucket counts);
 * - a cumulative point's increment is its value minus the previous point of its
 *   series, when that point exists, has the same start time (or neither has one)
 *   and is not larger (monotonic sums, histogram counts): the stream continued;
 * - otherwise the stream restarted, and the increment is the whole value, if
 *   there was an earlier point or the stream started inside the scanned range;
 * - a first point whose stream started before the scan contributes nothing: its
 *   value holds counts from before the range. The scan starts LOOKBACK before
 *   `from`, so a stream reporting at least that often loses no increment.
 */

/** How far before `from` cumulative streams are read for their previous point. */
const LOOKBACK_MS = 3_600_000
/** Rows one answer may hold (group × bucket, × histogram bucket for percentiles). */
const MAX_ROWS = 500_000

export interface MetricPoint {
  time: string
  value: number | null
}

export interface MetricSeries {
  group: Record<string, string>
  points: MetricPoint[]
}

export interface MetricsReply {
  name: string
  /** null when the range holds no point of this name. */
  type: MetricType | null
  unit: string
  /** Temporalities among the points read (`delta`, `cumulative`; none for gauges). */
  temporality: string[]
  agg: string
  bucketSeconds: number | null
  from: string
  to: string
  groupBy: string[]
  series: MetricSeries[]
}

/** The aggregations each type answers, the first its default. */
const ALLOWED: Record<MetricType, readonly string[]> = {
  gauge: ['avg', 'min', 'max', 'last', 'count'],
  sum: ['sum', 'rate', 'last', 'count', 'avg', 'min', 'max'],
  histogram: ['sum', 'rate', 'count', 'avg', 'min', 'max', 'quantile'],
  exponential_histogram: ['sum', 'rate', 'count', 'avg', 'min', 'max', 'quantile'],
  summary: ['sum', 'rate', 'count', 'avg'],
}

const aggName = (a: Aggregation): string => (typeof a === 'string' ? a : `p${Math.round(a.quantile * 1e6) / 1e4}`)

/**
 * `maxRows`: group × bucket points one answer may hold; past it the answer is refused, never
 * cut (a cut answer read as series that stopped, or groups that did not exist).
 */
export async function queryMetrics(client: ClickHouseClient, project: string, q: MetricsQuery, maxRows = MAX_ROWS): Promise<MetricsReply> {
  const found = await describeMetric(client, project, q)
  const reply: MetricsReply = {
    name: q.name,
    type: null,
    unit: '',
    temporality: [],
    agg: q.agg ? aggName(q.agg) : '',
    bucketSeconds: q.bucketSeconds ?? null,
    from: q.from.toISOString(),
    to: q.to.toISOString(),
    groupBy: q.groupBy.map((g) => g.label),
    series: [],
  }
  const types = [...new Set(found.map((f) => f.type))]
  if (types.length === 0) return reply
  if (types.length > 1) throw errors.BAD_REQUEST(`type: ${q.name} has points of types ${types.join(' and ')} in this range; choose one with type=`)
  const type = types[0] as MetricType
  const mine = found.filter((f) => f.type === type)
  const monotonic = mine.some((f) => f.monotonic)
  const agg: Aggregation = q.agg ?? (type === 'sum' && !monotonic ? 'last' : (ALLOWED[type][0] as Aggregation))
  const kind = typeof agg === 'string' ? agg : 'quantile'
  if (!ALLOWED[type].includes(kind)) {
    throw errors.BAD_REQUEST(`agg: ${aggName(agg)} does not apply to a ${type} metric; it takes ${ALLOWED[type].map((a) => (a === 'quantile' ? 'pNN' : a)).join(', ')}`)
  }
  Object.assign(reply, {
    type,
    unit: mine[0]?.unit ?? '',
    temporality: [...new Set(mine.map((f) => f.temporality))].filter((t) => t !== '').sort(),
    agg: aggName(agg),
  })
  const cumulative = mine.some((f) => f.temporality === 'cumulative') || type === 'summary'
  const scanFrom = cumulative ? new Date(q.from.getTime() - LOOKBACK_MS) : q.from
  const sql = new MetricSql(project, { ...q, type }, scanFrom, maxRows + 1)
  const rows = typeof agg === 'string' ? await sql.aggregate(client, agg) : await sql.quantile(client, agg.quantile)
  if (rows.length > maxRows) {
    const field = q.bucketSeconds === undefined ? 'groupBy' : 'bucket'
    throw errors.BAD_REQUEST(`${field}: the answer would hold more than ${maxRows} points (groups × buckets); ask for a larger bucket, a shorter range or fewer groupBy keys`)
  }
  reply.series = toSeries(rows, q)
  return reply
}

interface Found {
  type: MetricType
  temporality: string
  unit: string
  monotonic: boolean
}

/** Which types, temporalities and units the name has in the range (read without FINAL: only what exists matters). */
async function describeMetric(client: ClickHouseClient, project: string, q: MetricsQuery): Promise<Found[]> {
  const bag = new ParamBag()
  const rows = await select<{ type: MetricType; temporality: string; unit: string; monotonic: number }>(
    client,
    `SELECT type, temporality, any(unit) AS unit, max(is_monotonic) AS monotonic FROM metrics
      WHERE project_id = ${bag.add(project, 'String')} AND name = ${bag.add(q.name, 'String')}
        AND time >= ${bag.add(chTime(q.from), "DateTime64(9, 'UTC')")} AND time < ${bag.add(chTime(q.to), "DateTime64(9, 'UTC')")}
        ${q.type ? `AND type = ${bag.add(q.type, 'String')}` : ''}
      GROUP BY type, temporality ORDER BY type, temporality`,
    bag.values,
  )
  return rows.map((r) => ({ type: r.type, temporality: r.temporality, unit: r.unit, monotonic: Number(r.monotonic) === 1 }))
}

interface Row {
  bucket: number
  value: number | null
  [g: string]: unknown
}

/** The SQL of one question: the points read, their increments, then the aggregate per group and bucket. */
class MetricSql {
  private readonly bag = new ParamBag()
  private readonly groups: string[]
  private readonly keys: string

  constructor(
    project: string,
    private readonly q: MetricsQuery & { type: MetricType },
    private readonly scanFrom: Date,
    /** Rows read at most: one past what an answer may hold tells a full answer from a cut one. */
    private readonly limit: number,
  ) {
    this.groups = q.groupBy.map((g, i) => `${g.source}[${this.bag.add(g.key, 'String')}] AS g${i}`)
    this.keys = ['bucket', ...q.groupBy.map((_, i) => `g${i}`)].join(', ')
    this.where = [
      `project_id = ${this.bag.add(project, 'String')}`,
      `name = ${this.bag.add(q.name, 'String')}`,
      `type = ${this.bag.add(q.type, 'String')}`,
      `time >= ${this.bag.add(chTime(scanFrom), "DateTime64(9, 'UTC')")}`,
      `time < ${this.bag.add(chTime(q.to), "DateTime64(9, 'UTC')")}`,
      // A point flagged "no recorded value" marks a gap, not a measurement.
      'bitAnd(flags, 1) = 0',
      ...q.where.map((w) => `${w.source}[${this.bag.add(w.key, 'String')}] IN ${this.bag.add(w.values, 'Array(String)')}`),
    ]
  }

  private readonly where: string[]

  private get bucket(): string {
    const b = this.q.bucketSeconds
    return b === undefined ? 'toInt64(0)' : `intDiv(toUnixTimestamp64Milli(time), ${this.bag.add(b * 1000, 'Int64')}) * ${this.bag.add(b * 1000, 'Int64')}`
  }

  /** The fields each type reads, and the increments of the additive ones. */
  private increments(): string {
    const t = this.q.type
    const from = this.bag.add(chTime(this.q.from), "DateTime64(9, 'UTC')")
    const scanFrom = this.bag.add(chTime(this.scanFrom), "DateTime64(9, 'UTC')")
    const lag = (col: string) => `lagInFrame(${col}) OVER w AS p_${col}`
    const fields =
      t === 'gauge' || t === 'sum'
        ? ['value']
        : t === 'histogram'
          ? ['count', 'ifNull(sum, 0) AS sum', 'min', 'max', 'bucket_counts', 'explicit_bounds']
          : t === 'exponential_histogram'
            ? ['count', 'ifNull(sum, 0) AS sum', 'min', 'max', 'scale', 'zero_count', 'positive_offset', 'positive_bucket_counts', 'negative_offset', 'negative_bucket_counts']
            : ['count', 'ifNull(sum, 0) AS sum']
    const lagged =
      t === 'gauge'
        ? []
        : t === 'sum'
          ? ['value']
          : t === 'histogram'
            ? ['count', 'sum', 'bucket_counts', 'explicit_bounds']
            : t === 'exponential_histogram'
              ? ['count', 'sum', 'scale', 'zero_count', 'positive_offset', 'positive_bucket_counts', 'negative_offset', 'negative_bucket_counts']
              : ['count', 'sum']
    // The stream went on from its previous point (else it restarted, or there is none).
    const grew =
      t === 'sum'
        ? 'NOT (is_monotonic AND value < p_value)'
        : t === 'histogram'
          ? 'count >= p_count AND explicit_bounds = p_explicit_bounds AND length(bucket_counts) = length(p_bucket_counts)'
          : t === 'exponential_histogram'
            ? 'count >= p_count AND scale <= p_scale'
            : 'count >= p_count'
    // Counts are UInt64 and a difference Int64: one type for every branch (else ClickHouse makes a Variant).
    const inc = (x: string, as = 'toFloat64') => `multiIf(NOT cumulative, ${as}(${x}), continues, ${as}(${x}) - ${as}(p_${x}), counted, ${as}(${x}), NULL)`
    const incArray = (x: string, p: string) =>
      `multiIf(NOT cumulative, ${x}, continues, ${p}, counted, ${x}, CAST([], 'Array(Int64)'))`
    const out = ['time', 'series_id', ...this.q.groupBy.map((_, i) => `g${i}`)]
    if (t === 'gauge' || t === 'sum') out.push('value', `${t === 'sum' ? inc('value') : 'value'} AS inc_value`)
    else out.push(`${inc('count', 'toInt64')} AS inc_count`, `${inc('sum')} AS inc_sum`)
    if (t === 'histogram' || t === 'exponential_histogram') out.push('min', 'max')
    if (t === 'histogram') {
      out.push(
        'explicit_bounds',
        `${incArray('buckets', `arrayMap((c, i) -> c - toInt64(p_bucket_counts[i]), buckets, arrayEnumerate(buckets))`)} AS inc_buckets`,
      )
    }
    if (t === 'exponential_histogram') {
      out.push('scale', 'positive_offset', 'negative_offset', `${inc('zero_count', 'toInt64')} AS inc_zero`)
      for (const side of ['positive', 'negative']) {
        out.push(`${incArray(`${side}_buckets`, rebinned(side))} AS inc_${side}`)
      }
    }
    const arrays =
      t === 'histogram'
        ? ["arrayMap(c -> toInt64(c), bucket_counts) AS buckets"]
        : t === 'exponential_histogram'
          ? ['arrayMap(c -> toInt64(c), positive_bucket_counts) AS positive_buckets', 'arrayMap(c -> toInt64(c), negative_bucket_counts) AS negative_buckets']
          : []
    return `SELECT ${out.join(', ')} FROM (
        SELECT *, ${arrays.length ? `${arrays.join(', ')},` : ''}
          temporality = 'cumulative' OR type = 'summary' AS cumulative,
          count() OVER w = 2 AS has_prev,
          lagInFrame(start_time) OVER w AS p_start_time
          ${lagged.map((c) => `, ${lag(c)}`).join('')},
          has_prev AND (start_time = p_start_time OR toUnixTimestamp64Nano(start_time) = 0) ${t === 'gauge' ? '' : `AND ${grew}`} AS continues,
          has_prev OR (toUnixTimestamp64Nano(start_time) > 0 AND start_time >= ${scanFrom}) AS counted
        FROM (SELECT series_id, time, start_time, temporality, type, is_monotonic, ${[...fields, ...this.groups].join(', ')}
              FROM metrics FINAL WHERE ${this.where.join(' AND ')})
        WINDOW w AS (PARTITION BY series_id ORDER BY time ROWS BETWEEN 1 PRECEDING AND CURRENT ROW)
      ) WHERE time >= ${from}`
  }

  async aggregate(client: ClickHouseClient, agg: Exclude<Aggregation, { quantile: number }>): Promise<Row[]> {
    const t = this.q.type
    const seconds = this.q.bucketSeconds ?? (this.q.to.getTime() - this.q.from.getTime()) / 1000
    const additive = t === 'gauge' || t === 'sum' ? 'inc_value' : 'inc_sum'
    if (agg === 'last') {
      // Each series' latest value in the bucket, added up across the group's series.
      return this.run(client, `SELECT ${this.keys}, sum(last) AS value FROM (
          SELECT ${this.bucket} AS bucket, ${this.q.groupBy.map((_, i) => `g${i}`).concat('series_id').join(', ')}, argMax(value, time) AS last
          FROM (${this.increments()}) GROUP BY ${this.keys}, series_id
        ) GROUP BY ${this.keys}`)
    }
    const expr: Record<typeof agg, string> = {
      sum: `sum(${additive})`,
      rate: `sum(${additive}) / ${this.bag.add(seconds, 'Float64')}`,
      count: t === 'gauge' || t === 'sum' ? 'count()' : 'sum(inc_count)',
      avg: t === 'gauge' || t === 'sum' ? 'avg(value)' : 'sum(inc_sum) / nullIf(sum(inc_count), 0)',
      min: t === 'gauge' || t === 'sum' ? 'min(value)' : 'min(min)',
      max: t === 'gauge' || t === 'sum' ? 'max(value)' : 'max(max)',
    }
    return this.run(client, `SELECT ${this.bucket} AS bucket, ${this.q.groupBy.map((_, i) => `g${i}`).concat(`${expr[agg]} AS value`).join(', ')}
      FROM (${this.increments()}) GROUP BY ${this.keys}`)
  }

  /**
   * Bucket increments per group and time bucket as (lo, hi, count) rows, interpolated in JS
   * (histogram.ts). An explicit histogram's open ends are NULL, not ±inf: JSON has no
   * infinity, ClickHouse writes it as null, and null read as a number is 0, which would put
   * the overflow bucket (5, +inf) first as (5, 0] and give p25 > p75 (openEnded() below).
   */
  async quantile(client: ClickHouseClient, q: number): Promise<Row[]> {
    const pairs =
      this.q.type === 'histogram'
        ? `arrayMap(i -> (if(i = 1, NULL, explicit_bounds[i - 1]), if(i > length(explicit_bounds), NULL, explicit_bounds[i]), inc_buckets[i]), arrayEnumerate(inc_buckets))`
        : // Exponential: bucket index k of scale s is (2^(k·2^-s), 2^((k+1)·2^-s)], mirrored for negatives; the zero bucket is [0, 0].
          `arrayConcat(
            [(0., 0., inc_zero)],
            arrayMap(j -> (exp2((positive_offset + j - 1) * exp2(-scale)), exp2((positive_offset + j) * exp2(-scale)), inc_positive[j]), arrayEnumerate(inc_positive)),
            arrayMap(j -> (-exp2((negative_offset + j) * exp2(-scale)), -exp2((negative_offset + j - 1) * exp2(-scale)), inc_negative[j]), arrayEnumerate(inc_negative)))`
    const g = this.q.groupBy.map((_, i) => `g${i}`)
    const rows = await select<Record<string, unknown>>(
      client,
      `SELECT ${['bucket', ...g].join(', ')}, groupArray((lo, hi, n)) AS buckets, min(lo_seen) AS lo_seen, max(hi_seen) AS hi_seen FROM (
         SELECT ${this.keys}, b.1 AS lo, b.2 AS hi, sum(b.3) AS n, min(min) AS lo_seen, max(max) AS hi_seen
         FROM (SELECT ${this.bucket} AS bucket, * FROM (${this.increments()})) ARRAY JOIN ${pairs} AS b
         GROUP BY ${this.keys}, lo, hi
       ) GROUP BY ${this.keys} LIMIT ${this.limit}`,
      this.bag.values,
    )
    return rows.map((r) => {
      const buckets = (r.buckets as Array<[number | null, number | null, number]>).map(
        ([lo, hi, count]): BucketCount => ({ lo: openEnded(lo, -Infinity), hi: openEnded(hi, Infinity), count: Number(count) }),
      )
      return { ...r, bucket: Number(r.bucket), value: quantileOf(buckets, q, numOrNull(r.lo_seen), numOrNull(r.hi_seen)) }
    })
  }

  private async run(client: ClickHouseClient, sql: string): Promise<Row[]> {
    const rows = await select<Record<string, unknown>>(client, `${sql} LIMIT ${this.limit}`, this.bag.values)
    return rows.map((r) => ({ ...r, bucket: Number(r.bucket), value: numOrNull(r.value) }))
  }
}

/** A bucket bound from a JSON row: NULL is the open end (`end`), never 0. */
function openEnded(v: number | null, end: number): number {
  return v === null ? end : Number(v)
}

/**
 * The previous cumulative point's counts, in the current point's buckets. A
 * stream's scale only goes down (each step merges pairs of buckets), so the
 * previous point's buckets k with k >> (its scale − this scale) = j all fall into
 * this point's bucket j: a contiguous run, summed. With equal scales that is the
 * bucket of the same index, shifted by the offsets. Then current − previous.
 */
function rebinned(side: string): string {
  const shift = `bitShiftLeft(toInt64(1), greatest(0, least(62, p_scale - scale)))`
  const off = `toInt64(${side}_offset)`
  const pOff = `toInt64(p_${side}_offset)`
  const prev = `p_${side}_bucket_counts`
  const lo = `greatest(1, (${off} + j - 1) * ${shift} - ${pOff} + 1)`
  const hi = `least(toInt64(length(${prev})), (${off} + j) * ${shift} - ${pOff})`
  return `arrayMap(j -> ${side}_buckets[j] - toInt64(arraySum(arraySlice(${prev}, ${lo}, greatest(0, ${hi} - ${lo} + 1)))), arrayEnumerate(${side}_buckets))`
}

function toSeries(rows: Row[], q: MetricsQuery): MetricSeries[] {
  const series = new Map<string, MetricSeries>()
  for (const r of rows) {
    const group: Record<string, string> = {}
    q.groupBy.forEach((g, i) => {
      group[g.label] = String(r[`g${i}`] ?? '')
    })
    const key = JSON.stringify(q.groupBy.map((_, i) => r[`g${i}`]))
    let s = series.get(key)
    if (!s) series.set(key, (s = { group, points: [] }))
    const time = q.bucketSeconds === undefined ? q.from : new Date(r.bucket)
    s.points.push({ time: time.toISOString(), value: r.value })
  }
  const out = [...series.values()]
  for (const s of out) s.points.sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : 0))
  return out.sort((a, b) => {
    const ka = JSON.stringify(Object.values(a.group))
    const kb = JSON.stringify(Object.values(b.group))
    return ka < kb ? -1 : ka > kb ? 1 : 0
  })
}
