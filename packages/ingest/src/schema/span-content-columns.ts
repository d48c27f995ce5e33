import { type ComputedColumn, col, LC, type RowOf } from './columns.js'

/**
 * The `span_content` table: what GenAI log records (gen_ai.*.message, gen_ai.choice,
 * gen_ai.client.inference.operation.details) say about their span's content, one row
 * per record, in the span's own message JSON (normalize/content.ts). Spans and their
 * logs arrive in separate requests, in any order, so nothing is merged at ingest:
 * reads fill a span's empty input, output and finish reason from these rows
 * (packages/query/src/content/span-content.ts). clickhouse/007_logs.sql creates it.
 */
export const SPAN_CONTENT_INSERT_COLUMNS = [
  col('project_id', LC, 'text'),
  col('trace_id', 'String', 'verbatim'),
  col('span_id', 'String', 'verbatim'),
  /** The record's time: a span's messages are read in (time, received, seq) order. */
  col('time', 'DateTime64(9)', 'verbatim'),
  /** The record's place in its export request, for records of the same nanosecond. */
  col('seq', 'UInt32', 'uint'),
  /** When the server took the record's request (pipeline/arrival.ts): orders records of one time sent in separate requests. */
  col('received', 'DateTime64(9)', 'verbatim'),
  /** A JSON array of messages, or '' when the record adds no input. */
  col('input', 'String', 'text'),
  col('output', 'String', 'text'),
  col('finish_reason', LC, 'text'),
] as const

/** Columns after the inserted ones, in table order. */
export const SPAN_CONTENT_COMPUTED_COLUMNS: readonly ComputedColumn[] = [
  { name: 'ingested_at', type: 'DateTime64(3)', filled: 'default' },
  { name: 'content_hash', type: 'UInt64', filled: 'materialized' },
]

/** One row of `span_content` as inserted. */
export type SpanContentRow = RowOf<typeof SPAN_CONTENT_INSERT_COLUMNS>
