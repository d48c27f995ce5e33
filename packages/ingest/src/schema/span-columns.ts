import { SPAN_KINDS, SPAN_STATUSES } from '@spanlens/query/span-kinds'
import { type ComputedColumn, col, LC, MAP, oneOf, type RowOf } from './columns.js'

/**
 * The `spans` table, column by column, in the order of the insert list: the one
 * declaration that the row type (`SpanRow`), the spool's column list and the
 * TabSeparated encoder (pipeline/row-format.ts) are built from. The migrations
 * (clickhouse/001_spans.sql, 005_refusal.sql) create it; span-columns.test.ts
 * compares this table with `system.columns` after they ran.
 *
 * A spool segment records the column list it was written with (row-format.ts),
 * so a segment left by an earlier version is inserted with its own columns.
 */

/** What `status_code` holds, indexed by OTLP's status code (0 unset, 1 ok, 2 error). */
export const STATUS_CODES = SPAN_STATUSES
/** What `span_kind` holds, indexed by OTLP's SpanKind (0 unspecified ... 5 consumer). */
export const OTLP_SPAN_KINDS = ['unspecified', 'internal', 'server', 'client', 'producer', 'consumer'] as const

export const SPAN_INSERT_COLUMNS = [
  col('project_id', LC, 'text'),
  col('trace_id', 'String', 'verbatim'),
  col('span_id', 'String', 'verbatim'),
  col('parent_span_id', 'String', 'verbatim'),
  col('name', LC, 'text'),
  oneOf('kind', LC, SPAN_KINDS),
  oneOf('span_kind', LC, OTLP_SPAN_KINDS),
  col('service_name', LC, 'text'),
  col('scope_name', LC, 'text'),
  col('scope_version', LC, 'text'),
  /** Unix seconds with 9 fractional digits, e.g. "1700000000.123456789". */
  col('start_time', 'DateTime64(9)', 'verbatim'),
  col('end_time', 'DateTime64(9)', 'verbatim'),
  col('duration_ms', 'Float64', 'float'),
  oneOf('status_code', LC, STATUS_CODES),
  col('status_message', 'String', 'text'),
  col('error_type', LC, 'text'),
  col('provider', LC, 'text'),
  col('operation', LC, 'text'),
  col('request_model', LC, 'text'),
  col('response_model', LC, 'text'),
  col('input_tokens', 'UInt32', 'uint'),
  col('output_tokens', 'UInt32', 'uint'),
  col('total_tokens', 'UInt32', 'uint'),
  col('cache_read_tokens', 'UInt32', 'uint'),
  col('cache_write_tokens', 'UInt32', 'uint'),
  col('reasoning_tokens', 'UInt32', 'uint'),
  col('cost_usd', 'Nullable(Float64)', 'nullableFloat'),
  col('ttft_ms', 'Nullable(Float64)', 'nullableFloat'),
  col('finish_reason', LC, 'text'),
  col('input', 'String', 'text'),
  col('output', 'String', 'text'),
  col('user_id', 'String', 'text'),
  col('session_id', 'String', 'text'),
  col('environment', LC, 'text'),
  col('release', LC, 'text'),
  col('tags', 'Array(LowCardinality(String))', 'stringArray'),
  col('attributes', MAP, 'stringMap'),
  col('resource_attributes', MAP, 'sharedStringMap'),
  col('scope_attributes', MAP, 'sharedStringMap'),
  col('events.time', 'Array(DateTime64(9))', 'stringArray'),
  col('events.name', 'Array(LowCardinality(String))', 'stringArray'),
  col('events.attributes', `Array(${MAP})`, 'mapArray'),
  col('links.trace_id', 'Array(String)', 'stringArray'),
  col('links.span_id', 'Array(String)', 'stringArray'),
  col('links.attributes', `Array(${MAP})`, 'mapArray'),
  col('embedding', 'Array(Float32)', 'floatArray'),
] as const

/** Columns after the inserted ones, in table order. */
export const SPAN_COMPUTED_COLUMNS: readonly ComputedColumn[] = [
  { name: 'ingested_at', type: 'DateTime64(3)', filled: 'default' },
  { name: 'refusal', type: 'UInt8', filled: 'materialized' },
  /** Set only on the versions the content merge writes (clickhouse/010_content_merge.sql). */
  { name: 'content_filled', type: 'UInt8', filled: 'default' },
]

/** One row of `spans` as inserted, one field per inserted column. */
export type SpanRow = RowOf<typeof SPAN_INSERT_COLUMNS>

