import type { SpanRow } from '../normalize/row.js'

/**
 * How rows sit in the spool and travel to ClickHouse: JSONCompactEachRow with an
 * explicit column list. The bench measured it about 1.5× faster for ClickHouse
 * to parse than JSONEachRow on LLM spans (no key names per row), and it is
 * text, which the embedded connection requires. The format tag is part of every
 * segment's name, so a spool written by another version is never misread.
 */
export const SPOOL_FORMAT = 'c1'

export const ROW_COLUMNS = [
  'project_id',
  'trace_id',
  'span_id',
  'parent_span_id',
  'name',
  'kind',
  'span_kind',
  'service_name',
  'scope_name',
  'start_time',
  'end_time',
  'duration_ms',
  'status_code',
  'status_message',
  'error_type',
  'provider',
  'operation',
  'request_model',
  'response_model',
  'input_tokens',
  'output_tokens',
  'total_tokens',
  'cache_read_tokens',
  'cache_write_tokens',
  'reasoning_tokens',
  'cost_usd',
  'ttft_ms',
  'finish_reason',
  'input',
  'output',
  'user_id',
  'session_id',
  'environment',
  'release',
  'tags',
  'attributes',
  'resource_attributes',
  'events.time',
  'events.name',
  'events.attributes',
  'links.trace_id',
  'links.span_id',
  'links.attributes',
  'embedding',
] as const satisfies ReadonlyArray<keyof SpanRow>

export function encodeRow(row: SpanRow): string {
  const values = new Array<unknown>(ROW_COLUMNS.length)
  for (let i = 0; i < ROW_COLUMNS.length; i++) values[i] = row[ROW_COLUMNS[i] as keyof SpanRow]
  return JSON.stringify(values)
}
