import { type ClickHouseClient, ParamBag, select } from '../db.js'
import { nanosToIso } from '../time.js'
import type { SpanScope } from '../traces/span-detail.js'

/** One OTLP log record as the API returns it. */
export interface LogRecord {
  timestamp: string
  timeUnixNano: string
  observedTimestamp: string
  traceId: string
  /** null for a record of the trace that names no span. */
  spanId: string | null
  severityNumber: number
  severityText: string
  /** LogRecord.event_name, or its `event.name` attribute (GenAI events: gen_ai.user.message, ...). */
  eventName: string
  /** A string body as sent; a structured one as JSON. */
  body: string
  attributes: Record<string, string>
  resource: Record<string, string>
  service: string
  /** The instrumentation scope that made it, as a span's (traces/span-detail.ts). */
  scope: SpanScope
}

interface Row {
  ts: string
  observed: string
  trace_id: string
  span_id: string
  severity_number: number
  severity_text: string
  event_name: string
  body: string
  attributes: Record<string, string>
  resource_attributes: Record<string, string>
  service_name: string
  scope_name: string
  scope_version: string
  scope_attributes: Record<string, string>
}

export interface TraceLogsOptions {
  /** Only this span's records; '' the records that name no span. */
  spanId?: string | undefined
  limit: number
}

/** A trace's log records (or one span's), oldest first, GenAI events included. */
export async function traceLogs(client: ClickHouseClient, project: string, traceId: string, opts: TraceLogsOptions): Promise<{ items: LogRecord[]; truncated: boolean }> {
  const bag = new ParamBag()
  const where = [`project_id = ${bag.add(project, 'String')}`, `trace_id = ${bag.add(traceId, 'String')}`]
  if (opts.spanId !== undefined) where.push(`span_id = ${bag.add(opts.spanId, 'String')}`)
  const rows = await select<Row>(
    client,
    `SELECT toString(toUnixTimestamp64Nano(timestamp)) AS ts, toString(toUnixTimestamp64Nano(observed_timestamp)) AS observed,
            trace_id, span_id, severity_number, severity_text, event_name, body, attributes, resource_attributes, service_name, scope_name, scope_version, scope_attributes
     FROM logs FINAL WHERE ${where.join(' AND ')}
     ORDER BY timestamp, observed_timestamp, record_hash LIMIT ${opts.limit + 1}`,
    bag.values,
  )
  // One row past the limit says the trace has more: an answer cut at `limit` read as all of them.
  const truncated = rows.length > opts.limit
  return {
    truncated,
    items: rows.slice(0, opts.limit).map((r) => ({
      timestamp: nanosToIso(r.ts),
      timeUnixNano: r.ts,
      observedTimestamp: nanosToIso(r.observed),
      traceId: r.trace_id,
      spanId: r.span_id === '' ? null : r.span_id,
      severityNumber: Number(r.severity_number),
      severityText: r.severity_text,
      eventName: r.event_name,
      body: r.body,
      attributes: r.attributes,
      resource: r.resource_attributes,
      service: r.service_name,
      scope: { name: r.scope_name, version: r.scope_version, attributes: r.scope_attributes },
    })),
  }
}
