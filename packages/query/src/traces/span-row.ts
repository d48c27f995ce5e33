import { nanosToIso } from '../time.js'

/** Columns every span listing returns (never the embedding; input/output only where asked). */
export const SPAN_COLUMNS = `
  trace_id, span_id, parent_span_id, name, kind, span_kind, service_name,
  toString(toUnixTimestamp64Nano(start_time)) AS start_ns,
  toString(toUnixTimestamp64Nano(end_time)) AS end_ns,
  duration_ms, status_code, status_message, error_type, provider, operation,
  request_model, response_model, input_tokens, output_tokens, total_tokens,
  cache_read_tokens, reasoning_tokens, cost_usd, ttft_ms, finish_reason,
  user_id, session_id, environment, release, tags, attributes`

export interface RawSpan {
  trace_id: string
  span_id: string
  parent_span_id: string
  name: string
  kind: string
  span_kind: string
  service_name: string
  start_ns: string
  end_ns: string
  duration_ms: number
  status_code: string
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
  reasoning_tokens: number
  cost_usd: number | null
  ttft_ms: number | null
  finish_reason: string
  user_id: string
  session_id: string
  environment: string
  release: string
  tags: string[]
  attributes: Record<string, string>
  input?: string
  output?: string
}

export interface Span {
  traceId: string
  spanId: string
  parentSpanId: string | null
  name: string
  kind: string
  spanKind: string
  service: string
  startTime: string
  endTime: string
  startTimeUnixNano: string
  durationMs: number
  status: string
  statusMessage: string
  errorType: string
  provider: string
  operation: string
  requestModel: string
  responseModel: string
  tokens: { input: number; output: number; total: number; cacheRead: number; reasoning: number }
  costUsd: number | null
  ttftMs: number | null
  finishReason: string
  userId: string
  sessionId: string
  environment: string
  release: string
  tags: string[]
  attributes: Record<string, string>
  input?: string
  output?: string
}

export function toSpan(r: RawSpan): Span {
  const span: Span = {
    traceId: r.trace_id,
    spanId: r.span_id,
    parentSpanId: r.parent_span_id === '' ? null : r.parent_span_id,
    name: r.name,
    kind: r.kind,
    spanKind: r.span_kind,
    service: r.service_name,
    startTime: nanosToIso(r.start_ns),
    endTime: nanosToIso(r.end_ns),
    startTimeUnixNano: r.start_ns,
    durationMs: Number(r.duration_ms),
    status: r.status_code,
    statusMessage: r.status_message,
    errorType: r.error_type,
    provider: r.provider,
    operation: r.operation,
    requestModel: r.request_model,
    responseModel: r.response_model,
    tokens: {
      input: Number(r.input_tokens),
      output: Number(r.output_tokens),
      total: Number(r.total_tokens),
      cacheRead: Number(r.cache_read_tokens),
      reasoning: Number(r.reasoning_tokens),
    },
    costUsd: r.cost_usd === null ? null : Number(r.cost_usd),
    ttftMs: r.ttft_ms === null ? null : Number(r.ttft_ms),
    finishReason: r.finish_reason,
    userId: r.user_id,
    sessionId: r.session_id,
    environment: r.environment,
    release: r.release,
    tags: r.tags,
    attributes: r.attributes,
  }
  if (r.input !== undefined) span.input = r.input
  if (r.output !== undefined) span.output = r.output
  return span
}
