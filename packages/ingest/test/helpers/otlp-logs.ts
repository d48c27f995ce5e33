import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import protobuf from 'protobufjs'

/**
 * OTLP logs requests for the tests, in JSON and protobuf. The protobuf types are
 * built with protobufjs from opentelemetry-proto's logs/v1 and collector/logs/v1
 * messages (field numbers as in the .proto files) over the vendored common and
 * resource protos, so the receiver's hand-written decoder is checked against an
 * independent encoder, including values a real SDK would never send.
 */

export type Json = string | number | boolean | null | Json[] | { [key: string]: Json }

export interface LogSpec {
  traceId?: string
  spanId?: string
  /** Nanoseconds as a decimal string; now when absent. '0' to leave it out. */
  timeNs?: string
  observedNs?: string
  severityNumber?: number | string
  severityText?: string
  body?: Json
  attributes?: Record<string, Json>
  eventName?: string
}

export interface LogsRequestOptions {
  resource?: Record<string, Json>
  scope?: string
}

let types: { request: protobuf.Type; response: protobuf.Type } | undefined

function logsTypes(): { request: protobuf.Type; response: protobuf.Type } {
  if (types) return types
  const base = fileURLToPath(new URL('../../../sdk/proto', import.meta.url))
  const root = new protobuf.Root()
  root.resolvePath = (_origin, target) => join(base, target)
  root.loadSync(['opentelemetry/proto/common/v1/common.proto', 'opentelemetry/proto/resource/v1/resource.proto'], { keepCase: false })
  const F = protobuf.Field
  const logRecord = new protobuf.Type('LogRecord')
    .add(new F('timeUnixNano', 1, 'fixed64'))
    .add(new F('observedTimeUnixNano', 11, 'fixed64'))
    .add(new F('severityNumber', 2, 'int32'))
    .add(new F('severityText', 3, 'string'))
    .add(new F('body', 5, 'opentelemetry.proto.common.v1.AnyValue'))
    .add(new F('attributes', 6, 'opentelemetry.proto.common.v1.KeyValue', 'repeated'))
    .add(new F('droppedAttributesCount', 7, 'uint32'))
    .add(new F('flags', 8, 'fixed32'))
    .add(new F('traceId', 9, 'bytes'))
    .add(new F('spanId', 10, 'bytes'))
    .add(new F('eventName', 12, 'string'))
  const scopeLogs = new protobuf.Type('ScopeLogs')
    .add(new F('scope', 1, 'opentelemetry.proto.common.v1.InstrumentationScope'))
    .add(new F('logRecords', 2, 'LogRecord', 'repeated'))
  const resourceLogs = new protobuf.Type('ResourceLogs')
    .add(new F('resource', 1, 'opentelemetry.proto.resource.v1.Resource'))
    .add(new F('scopeLogs', 2, 'ScopeLogs', 'repeated'))
  root.define('opentelemetry.proto.logs.v1').add(logRecord).add(scopeLogs).add(resourceLogs)
  const partial = new protobuf.Type('ExportLogsPartialSuccess').add(new F('rejectedLogRecords', 1, 'int64')).add(new F('errorMessage', 2, 'string'))
  const request = new protobuf.Type('ExportLogsServiceRequest').add(new F('resourceLogs', 1, 'opentelemetry.proto.logs.v1.ResourceLogs', 'repeated'))
  const response = new protobuf.Type('ExportLogsServiceResponse').add(new F('partialSuccess', 1, 'ExportLogsPartialSuccess'))
  root.define('opentelemetry.proto.collector.logs.v1').add(partial).add(request).add(response)
  root.resolveAll()
  types = { request, response }
  return types
}

/** A JSON value as an OTLP JSON AnyValue (integers as intValue strings, as exporters write them). */
export function anyValue(v: Json): Record<string, unknown> {
  if (typeof v === 'string') return { stringValue: v }
  if (typeof v === 'boolean') return { boolValue: v }
  if (typeof v === 'number') return Number.isInteger(v) ? { intValue: String(v) } : { doubleValue: v }
  if (v === null) return {}
  if (Array.isArray(v)) return { arrayValue: { values: v.map(anyValue) } }
  return { kvlistValue: { values: Object.entries(v).map(([key, value]) => ({ key, value: anyValue(value) })) } }
}

const keyValues = (attrs: Record<string, Json>) => Object.entries(attrs).map(([key, value]) => ({ key, value: anyValue(value) }))

/** An OTLP JSON ExportLogsServiceRequest (hex ids, int64 as strings). */
export function logsJson(records: LogSpec[], opts: LogsRequestOptions = {}): Record<string, unknown> {
  const now = `${Date.now()}000000`
  return {
    resourceLogs: [
      {
        resource: { attributes: keyValues(opts.resource ?? { 'service.name': 'logs-test' }) },
        scopeLogs: [
          {
            scope: { name: opts.scope ?? 'logs-test' },
            logRecords: records.map((r) => ({
              ...(r.timeNs !== '0' ? { timeUnixNano: r.timeNs ?? now } : {}),
              ...(r.observedNs !== undefined && r.observedNs !== '0' ? { observedTimeUnixNano: r.observedNs } : {}),
              ...(r.severityNumber !== undefined ? { severityNumber: r.severityNumber } : {}),
              ...(r.severityText !== undefined ? { severityText: r.severityText } : {}),
              ...(r.body !== undefined ? { body: anyValue(r.body) } : {}),
              attributes: keyValues(r.attributes ?? {}),
              ...(r.traceId !== undefined ? { traceId: r.traceId } : {}),
              ...(r.spanId !== undefined ? { spanId: r.spanId } : {}),
              ...(r.eventName !== undefined ? { eventName: r.eventName } : {}),
            })),
          },
        ],
      },
    ],
  }
}

/** The same request as OTLP protobuf (ids from hex, numeric severities only). */
export function logsProtobuf(records: LogSpec[], opts: LogsRequestOptions = {}): Buffer {
  return logsJsonAsProtobuf(logsJson(records, opts))
}

/** An OTLP JSON ExportLogsServiceRequest as OTLP protobuf (ids from hex, numeric severities only). */
export function logsJsonAsProtobuf(json: Record<string, unknown>): Buffer {
  const { request } = logsTypes()
  const clone = JSON.parse(JSON.stringify(json), (key, value) => {
    if ((key === 'traceId' || key === 'spanId') && typeof value === 'string') return Buffer.from(value, 'hex')
    return value
  }) as Record<string, unknown>
  return Buffer.from(request.encode(request.fromObject(clone)).finish())
}

/** The rejected count and message of a protobuf ExportLogsServiceResponse. */
export function logsResponse(body: Uint8Array): { rejected: number; errorMessage: string } {
  const { response } = logsTypes()
  const r = response.toObject(response.decode(body), { longs: String }) as { partialSuccess?: { rejectedLogRecords?: string; errorMessage?: string } }
  return { rejected: Number(r.partialSuccess?.rejectedLogRecords ?? 0), errorMessage: r.partialSuccess?.errorMessage ?? '' }
}
