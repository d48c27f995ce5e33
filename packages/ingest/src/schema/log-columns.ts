import { type ComputedColumn, col, LC, MAP, type RowOf } from './columns.js'

/**
 * The `logs` table, column by column, in the order of the insert list: one row per
 * OTLP log record, GenAI events included (their content also becomes `span_content`
 * rows, span-content-columns.ts). The row type, the insert list and the encoder are
 * made from it (pipeline/tables.ts); clickhouse/007_logs.sql creates it, and
 * log-columns.test.ts compares the two after the migrations ran.
 */
export const LOG_INSERT_COLUMNS = [
  col('project_id', LC, 'text'),
  /** When the event happened (time_unix_nano; the observed time when the sender left it 0). */
  col('timestamp', 'DateTime64(9)', 'verbatim'),
  col('observed_timestamp', 'DateTime64(9)', 'verbatim'),
  /** '' when the record belongs to no trace or span. */
  col('trace_id', 'String', 'verbatim'),
  col('span_id', 'String', 'verbatim'),
  col('severity_number', 'UInt8', 'uint'),
  col('severity_text', LC, 'text'),
  /** LogRecord.event_name, or the `event.name` attribute older senders use. */
  col('event_name', LC, 'text'),
  /** A string body as sent; any other AnyValue as JSON. */
  col('body', 'String', 'text'),
  col('attributes', MAP, 'stringMap'),
  col('resource_attributes', MAP, 'sharedStringMap'),
  col('service_name', LC, 'text'),
  col('scope_name', LC, 'text'),
  col('scope_version', LC, 'text'),
  col('scope_attributes', MAP, 'sharedStringMap'),
] as const

/** Columns after the inserted ones, in table order. */
export const LOG_COMPUTED_COLUMNS: readonly ComputedColumn[] = [
  { name: 'ingested_at', type: 'DateTime64(3)', filled: 'default' },
  { name: 'record_hash', type: 'UInt64', filled: 'materialized' },
]

/** One row of `logs` as inserted. */
export type LogRow = RowOf<typeof LOG_INSERT_COLUMNS>
