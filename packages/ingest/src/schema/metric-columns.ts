import { METRIC_TYPES, TEMPORALITIES } from '../otlp/metric-model.js'
import { type ComputedColumn, col, LC, MAP, oneOf, type RowOf } from './columns.js'

/**
 * The `metrics` table, column by column, in the order of the insert list: one
 * row per OTLP data point of any type, the columns a type does not use left at
 * their defaults (ClickHouse stores such runs of defaults in a few bytes). The
 * row type, the insert list and the encoder are made from it
 * (pipeline/tables.ts); clickhouse/008_metrics.sql creates it, and
 * metric-columns.test.ts compares the two after the migrations ran.
 */
export const METRIC_INSERT_COLUMNS = [
  col('project_id', LC, 'text'),
  col('name', LC, 'text'),
  col('description', LC, 'text'),
  col('unit', LC, 'text'),
  oneOf('type', LC, METRIC_TYPES),
  oneOf('temporality', LC, TEMPORALITIES),
  col('is_monotonic', 'UInt8', 'uint'),
  /** The stream a point belongs to (normalize/metrics.ts): a decimal UInt64. */
  col('series_id', 'UInt64', 'verbatim'),
  col('service_name', LC, 'text'),
  col('scope_name', LC, 'text'),
  col('scope_version', LC, 'text'),
  /** Unix seconds with 9 fractional digits, e.g. "1700000000.123456789". */
  col('start_time', 'DateTime64(9)', 'verbatim'),
  col('time', 'DateTime64(9)', 'verbatim'),
  col('value', 'Float64', 'float'),
  col('count', 'UInt64', 'uint'),
  col('sum', 'Nullable(Float64)', 'nullableFloat'),
  col('min', 'Nullable(Float64)', 'nullableFloat'),
  col('max', 'Nullable(Float64)', 'nullableFloat'),
  col('bucket_counts', 'Array(UInt64)', 'uintArray'),
  col('explicit_bounds', 'Array(Float64)', 'floatArray'),
  col('scale', 'Int32', 'int'),
  col('zero_count', 'UInt64', 'uint'),
  col('zero_threshold', 'Float64', 'float'),
  col('positive_offset', 'Int32', 'int'),
  col('positive_bucket_counts', 'Array(UInt64)', 'uintArray'),
  col('negative_offset', 'Int32', 'int'),
  col('negative_bucket_counts', 'Array(UInt64)', 'uintArray'),
  col('quantiles.quantile', 'Array(Float64)', 'floatArray'),
  col('quantiles.value', 'Array(Float64)', 'floatArray'),
  col('flags', 'UInt32', 'uint'),
  col('attributes', MAP, 'stringMap'),
  col('resource_attributes', MAP, 'sharedStringMap'),
  col('scope_attributes', MAP, 'sharedStringMap'),
  col('exemplars.time', 'Array(DateTime64(9))', 'stringArray'),
  col('exemplars.value', 'Array(Float64)', 'floatArray'),
  col('exemplars.trace_id', 'Array(String)', 'stringArray'),
  col('exemplars.span_id', 'Array(String)', 'stringArray'),
  col('exemplars.attributes', `Array(${MAP})`, 'mapArray'),
] as const

/** Columns after the inserted ones, in table order. */
export const METRIC_COMPUTED_COLUMNS: readonly ComputedColumn[] = [{ name: 'ingested_at', type: 'DateTime64(3)', filled: 'default' }]

/** One row of `metrics` as inserted. */
export type MetricRow = RowOf<typeof METRIC_INSERT_COLUMNS>
