import type { Attrs } from './model.js'

/**
 * The receiver's view of one OTLP metric data point, independent of wire
 * encoding: the metric's identity (resource, scope, name, type, temporality)
 * repeated on each of its points, since each becomes one row.
 */

/** The Metric.data oneof, as the `type` column holds it. */
export const METRIC_TYPES = ['gauge', 'sum', 'histogram', 'exponential_histogram', 'summary'] as const
export type MetricType = (typeof METRIC_TYPES)[number]

/** What `temporality` holds, indexed by OTLP's AggregationTemporality (0 unspecified, 1 delta, 2 cumulative). */
export const TEMPORALITIES = ['', 'delta', 'cumulative'] as const

/** DataPointFlags.FLAG_NO_RECORDED_VALUE: the point marks a gap, its value means nothing. */
export const FLAG_NO_RECORDED_VALUE = 1

export interface OtlpExemplar {
  timeNs: string
  /** as_double or as_int; null when neither was sent (validation refuses that). */
  value: number | null
  /** Lower-case hex; '' when the exemplar was not recorded in a sampled span. */
  traceId: string
  spanId: string
  attributes: Attrs
  /** Attributes past MAX_ATTRIBUTES (values.ts), left out; absent when none were. */
  droppedAttributes?: number
}

export interface OtlpBuckets {
  offset: number
  counts: number[]
}

/** Shared by every point of one Metric message. */
export interface OtlpMetric {
  /** Where the metric is in its request, as a refusal names it (counted as DecodedSpan.position). */
  position: number
  resource: Attrs
  scopeName: string
  scopeVersion: string
  /** The scope's attributes: one object for every metric of the scope. */
  scopeAttributes: Attrs
  name: string
  description: string
  unit: string
  type: MetricType
  /** OTLP AggregationTemporality: 0 for gauges and summaries, which have none. */
  temporality: number
  isMonotonic: boolean
}

export interface OtlpMetricPoint {
  metric: OtlpMetric
  /** Where the point is in its metric's data points, from 0, as a refusal names it. */
  index: number
  attributes: Attrs
  /** Attributes past MAX_ATTRIBUTES (values.ts), left out; absent when none were. */
  droppedAttributes?: number
  /** Nanoseconds since the epoch as decimal strings; '0' when absent. */
  startNs: string
  timeNs: string
  flags: number
  /** gauge and sum: as_double or as_int; null when neither was sent (only a point flagged FLAG_NO_RECORDED_VALUE may do so). */
  value: number | null
  /** histogram, exponential_histogram, summary. */
  count: number
  sum: number | null
  min: number | null
  max: number | null
  bucketCounts: number[]
  explicitBounds: number[]
  scale: number
  zeroCount: number
  zeroThreshold: number
  positive: OtlpBuckets
  negative: OtlpBuckets
  quantiles: number[]
  quantileValues: number[]
  exemplars: OtlpExemplar[]
}

export interface DecodedMetrics {
  points: OtlpMetricPoint[]
  rejected: number
  /** Why points were rejected; a few examples, not one per point. */
  problems: string[]
}

export function emptyPoint(metric: OtlpMetric, index: number): OtlpMetricPoint {
  return {
    metric,
    index,
    attributes: {},
    startNs: '0',
    timeNs: '0',
    flags: 0,
    value: null,
    count: 0,
    sum: null,
    min: null,
    max: null,
    bucketCounts: [],
    explicitBounds: [],
    scale: 0,
    zeroCount: 0,
    zeroThreshold: 0,
    positive: { offset: 0, counts: [] },
    negative: { offset: 0, counts: [] },
    quantiles: [],
    quantileValues: [],
    exemplars: [],
  }
}
