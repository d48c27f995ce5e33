import type { OtlpLogRecord } from '../otlp/log-model.js'
import type { LogRow } from '../schema/log-columns.js'
import type { SpanContentRow } from '../schema/span-content-columns.js'
import { eventContent } from './content.js'
import { isContentEvent } from './genai-events.js'
import { label, mapStrings, MAX_CONTENT_BYTES, nsToSeconds, resourceStrings, scopeStrings, withOwnDropped } from './normalize.js'
import { cutBytes } from './truncate.js'
import type { Redactor } from './redact.js'

/** One log record's rows: always a `logs` row; a `span_content` row too when it is a GenAI event of a span. */
export interface NormalizedLog {
  log: LogRow
  content: SpanContentRow | undefined
}

/** LogRecord.event_name, or the `event.name` attribute that senders before it use (instrumentation-openai does). */
function eventNameOf(r: OtlpLogRecord): string {
  if (r.eventName !== '') return r.eventName
  const v = r.attributes['event.name']
  return typeof v === 'string' ? v : ''
}

/** The record's attributes as stored, with how many past the cap were left out (otlp/attribute-cap.ts). */
function attributes(r: OtlpLogRecord, redact: Redactor | undefined): Record<string, string> {
  return withOwnDropped(mapStrings(r.attributes, redact), r.droppedAttributes)
}

/**
 * The time a record happened: time_unix_nano, else its observed time, else when it
 * was received (OTLP: a record without a time is timestamped by its observer).
 */
export function recordTimeNs(r: OtlpLogRecord, receivedNs: string): string {
  return r.timeNs !== '0' ? r.timeNs : r.observedNs !== '0' ? r.observedNs : receivedNs
}

/** Neither time nor observed time: the record's row takes the time its request arrived (both functions above and below). */
export function takesArrivalTime(r: OtlpLogRecord): boolean {
  return r.timeNs === '0' && r.observedNs === '0'
}

/**
 * When it was observed: observed_time_unix_nano, else its time. Only a record with
 * neither takes the time it was received, so a re-sent record keeps its row's key
 * (and collapses with the first) whenever the sender gave it any time.
 */
function observedNs(r: OtlpLogRecord, receivedNs: string): string {
  return r.observedNs !== '0' ? r.observedNs : r.timeNs !== '0' ? r.timeNs : receivedNs
}

/**
 * Maps one OTLP log record to its `logs` row and, for a GenAI event tied to a span
 * (gen_ai.*.message, gen_ai.choice, gen_ai.client.inference.operation.details with
 * trace and span ids), a `span_content` row holding what it says about that span's
 * input, output and finish reason, in the span's message JSON. The same limits and
 * redaction as a span's fields apply. `seq` orders records of the same nanosecond.
 */
export function normalizeLog(r: OtlpLogRecord, project: string, seq: number, receivedNs: string, redact: Redactor | undefined): NormalizedLog {
  const clean = (v: string): string => (redact ? redact(v) : v)
  const timeNs = recordTimeNs(r, receivedNs)
  const time = nsToSeconds(timeNs)
  const name = eventNameOf(r)
  const body = r.body === null ? '' : typeof r.body === 'string' ? r.body : JSON.stringify(r.body)
  const log: LogRow = {
    project_id: project,
    timestamp: time,
    observed_timestamp: nsToSeconds(observedNs(r, receivedNs)),
    trace_id: r.traceId,
    span_id: r.spanId,
    severity_number: r.severityNumber,
    severity_text: label(r.severityText),
    event_name: label(name),
    body: clean(cutBytes(body, MAX_CONTENT_BYTES)),
    attributes: attributes(r, redact),
    resource_attributes: resourceStrings(r.resource, redact),
    service_name: label(typeof r.resource['service.name'] === 'string' && r.resource['service.name'] !== '' ? r.resource['service.name'] : 'unknown_service'),
    scope_name: label(r.scopeName),
    scope_version: label(r.scopeVersion),
    scope_attributes: scopeStrings(r.scopeAttributes, redact),
  }
  if (r.traceId === '' || r.spanId === '' || !isContentEvent(name)) return { log, content: undefined }
  const c = eventContent(name, r.body, r.attributes)
  if (c.input === undefined && c.output === undefined && c.finishReason === '') return { log, content: undefined }
  const content: SpanContentRow = {
    project_id: project,
    trace_id: r.traceId,
    span_id: r.spanId,
    time,
    seq,
    received: nsToSeconds(receivedNs),
    input: c.input === undefined ? '' : clean(cutBytes(c.input, MAX_CONTENT_BYTES)),
    output: c.output === undefined ? '' : clean(cutBytes(c.output, MAX_CONTENT_BYTES)),
    finish_reason: label(c.finishReason),
  }
  return { log, content }
}
