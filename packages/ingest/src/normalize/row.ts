/** One row of the `spans` table (clickhouse/001_spans.sql), as inserted. */
export interface SpanRow {
  project_id: string
  trace_id: string
  span_id: string
  parent_span_id: string
  name: string
  kind: SpanKindName
  span_kind: string
  service_name: string
  scope_name: string
  /** Unix seconds with 9 fractional digits, e.g. "1700000000.123456789" */
  start_time: string
  end_time: string
  duration_ms: number
  status_code: 'ok' | 'error' | 'unset'
  status_message: string
  error_type: string
  provider: string
  operation: string
  request_model: string
  response_model: string
  input_tokens: number
  output_tokens: number
  total_tokens: number
  cache_read_tokens: number
  cache_write_tokens: number
  reasoning_tokens: number
  cost_usd: number | null
  ttft_ms: number | null
  finish_reason: string
  input: string
  output: string
  user_id: string
  session_id: string
  environment: string
  release: string
  tags: string[]
  attributes: Record<string, string>
  /** Shared by every row of the same resource (normalize.ts): read-only. */
  resource_attributes: Readonly<Record<string, string>>
  'events.time': string[]
  'events.name': string[]
  'events.attributes': Array<Record<string, string>>
  'links.trace_id': string[]
  'links.span_id': string[]
  'links.attributes': Array<Record<string, string>>
  embedding: number[]
}

export const SPAN_KINDS = ['llm', 'chain', 'agent', 'tool', 'retrieval', 'embedding', 'other'] as const
export type SpanKindName = (typeof SPAN_KINDS)[number]
