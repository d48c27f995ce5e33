import type { DecodedRequest, OtlpEvent, OtlpLink, OtlpSpan } from './model.js'
import { readTraceRequest } from './decode-protobuf.js'
import { compareNs, idToHex, keyValues, nanos } from './values.js'
import { jsonResourceList, readWire } from './request-body.js'

/**
 * Decodes an ExportTraceServiceRequest, protobuf (decode-protobuf.ts, straight
 * from the wire) or OTLP JSON (the object walker below), into OtlpSpans. Each
 * span is validated and only the bad ones are rejected (OTLP partial success),
 * never the whole request.
 */

type Obj = Record<string, unknown>
const MAX_PROBLEMS = 5
const ZERO_TRACE = '0'.repeat(32)
const ZERO_SPAN = '0'.repeat(16)
/**
 * The latest instant DateTime64(9) holds, 2262-04-11T23:47:16.854775807Z (Int64
 * nanoseconds). A later time is a valid uint64 on the wire, but ClickHouse fails
 * the whole insert on it (DECIMAL_OVERFLOW), so it is refused here, per span.
 */
export const MAX_TIME_NS = '9223372036854775807'

export function decodeProtobuf(body: Buffer): DecodedRequest {
  const out = collector()
  readWire(() =>
    readTraceRequest(body, {
      span: (span) => out.add(span),
      invalid: (index, why) => out.reject(`span ${index}: ${why}`),
    }),
  )
  return out.result
}

export function decodeJson(body: Buffer): DecodedRequest {
  const resourceSpans = jsonResourceList(body, 'ExportTraceServiceRequest', 'resourceSpans', 'resource_spans')
  return walk({ resourceSpans })
}

function list(o: Obj | undefined, camel: string, snake: string): unknown[] {
  if (!o) return []
  const v = o[camel] ?? o[snake]
  return Array.isArray(v) ? v : []
}

function field(o: Obj, camel: string, snake: string): unknown {
  return o[camel] ?? o[snake]
}

/** A span as a refusal names it: its name (the first 80 characters) and its id. */
export function spanLabel(name: string, spanId: string): string {
  return `span ${JSON.stringify(name.slice(0, 80))} (${spanId || 'no id'})`
}

/** Accepts valid spans and counts the rest, keeping a few reasons for the reply. */
function collector() {
  const result: DecodedRequest = { spans: [], rejected: 0, problems: [] }
  const reject = (why: string): void => {
    result.rejected++
    if (result.problems.length < MAX_PROBLEMS) result.problems.push(why)
  }
  const add = (span: OtlpSpan): void => {
    const problem = validate(span)
    if (problem) reject(`${spanLabel(span.name, span.spanId)}: ${problem}`)
    else result.spans.push(span)
  }
  return { result, reject, add }
}

function walk(message: Obj): DecodedRequest {
  const { result, reject, add } = collector()
  for (const rsRaw of list(message, 'resourceSpans', 'resource_spans')) {
    if (!rsRaw || typeof rsRaw !== 'object') continue
    const rs = rsRaw as Obj
    const resource = keyValues((rs.resource as Obj | undefined)?.attributes)
    for (const ssRaw of list(rs, 'scopeSpans', 'scope_spans')) {
      if (!ssRaw || typeof ssRaw !== 'object') continue
      const ss = ssRaw as Obj
      const scope = (ss.scope as Obj | undefined) ?? {}
      const scopeName = typeof scope.name === 'string' ? scope.name : ''
      const scopeVersion = typeof scope.version === 'string' ? scope.version : ''
      const spans = list(ss, 'spans', 'spans')
      for (let i = 0; i < spans.length; i++) {
        const raw = spans[i]
        if (!raw || typeof raw !== 'object') {
          reject(`span ${i}: not an object`)
          continue
        }
        try {
          add(toSpan(raw as Obj, resource, scopeName, scopeVersion))
        } catch (err) {
          reject(`span ${i}: ${(err as Error).message}`)
        }
      }
    }
  }
  return result
}

function toSpan(s: Obj, resource: OtlpSpan['resource'], scopeName: string, scopeVersion: string): OtlpSpan {
  const status = (s.status as Obj | undefined) ?? {}
  const name = s.name
  if (name !== undefined && typeof name !== 'string') throw new TypeError('name must be a string')
  const kind = s.kind
  return {
    resource,
    scopeName,
    scopeVersion,
    traceId: idToHex(field(s, 'traceId', 'trace_id'), 16),
    spanId: idToHex(field(s, 'spanId', 'span_id'), 8),
    parentSpanId: idToHex(field(s, 'parentSpanId', 'parent_span_id'), 8),
    name: name ?? '',
    kind: typeof kind === 'number' ? kind : kindFromString(kind),
    startNs: nanos(field(s, 'startTimeUnixNano', 'start_time_unix_nano')),
    endNs: nanos(field(s, 'endTimeUnixNano', 'end_time_unix_nano')),
    attributes: keyValues(s.attributes),
    events: list(s, 'events', 'events').map(toEvent),
    links: list(s, 'links', 'links').map(toLink),
    statusCode: statusCode(status.code),
    statusMessage: typeof status.message === 'string' ? status.message : '',
  }
}

function toEvent(raw: unknown): OtlpEvent {
  const e = (raw ?? {}) as Obj
  return {
    timeNs: nanos(field(e, 'timeUnixNano', 'time_unix_nano')),
    name: typeof e.name === 'string' ? e.name : '',
    attributes: keyValues(e.attributes),
  }
}

function toLink(raw: unknown): OtlpLink {
  const l = (raw ?? {}) as Obj
  return {
    traceId: idToHex(field(l, 'traceId', 'trace_id'), 16),
    spanId: idToHex(field(l, 'spanId', 'span_id'), 8),
    attributes: keyValues(l.attributes),
  }
}

function kindFromString(v: unknown): number {
  if (v === undefined || v === null) return 0
  if (typeof v === 'string') {
    const names = ['UNSPECIFIED', 'INTERNAL', 'SERVER', 'CLIENT', 'PRODUCER', 'CONSUMER']
    const idx = names.indexOf(v.replace(/^SPAN_KIND_/, ''))
    if (idx >= 0) return idx
  }
  throw new TypeError('kind must be an integer enum')
}

function statusCode(v: unknown): number {
  if (v === undefined || v === null) return 0
  if (typeof v === 'number' && (v === 0 || v === 1 || v === 2)) return v
  if (v === 'STATUS_CODE_OK') return 1
  if (v === 'STATUS_CODE_ERROR') return 2
  if (v === 'STATUS_CODE_UNSET') return 0
  throw new TypeError('status.code must be 0, 1 or 2')
}

/** A trace or span id as a span context needs it: `bytes` bytes, not all zero (W3C trace context's invalid id). */
const validId = (hex: string, bytes: number): boolean => hex.length === bytes * 2 && hex !== (bytes === 16 ? ZERO_TRACE : ZERO_SPAN)

function validate(span: OtlpSpan): string | undefined {
  if (!validId(span.traceId, 16)) return 'invalid trace_id (expected 16 non-zero bytes)'
  if (!validId(span.spanId, 8)) return 'invalid span_id (expected 8 non-zero bytes)'
  // All zeros is the invalid span context, which some SDKs write for a root's parent (the
  // log decoder reads such ids as none too). Kept, it would hide the trace: a trace's root is
  // the span whose parent_span_id is ''.
  if (span.parentSpanId === ZERO_SPAN) span.parentSpanId = ''
  if (span.parentSpanId !== '' && span.parentSpanId.length !== 16) return 'invalid parent_span_id (expected 8 bytes)'
  // Such a span is no root and under no root: stored, it would be counted in its trace and shown nowhere in it.
  if (span.parentSpanId === span.spanId) return "parent_span_id is the span's own span_id"
  for (let i = 0; i < span.links.length; i++) {
    const link = span.links[i] as OtlpLink
    if (!validId(link.traceId, 16)) return `link ${i}: invalid trace_id (expected 16 non-zero bytes)`
    if (!validId(link.spanId, 8)) return `link ${i}: invalid span_id (expected 8 non-zero bytes)`
  }
  if (span.startNs === '0') return 'missing start_time_unix_nano'
  if (compareNs(span.startNs, MAX_TIME_NS) > 0) return 'start_time_unix_nano is after 2262-04-11, the latest time ClickHouse stores'
  if (span.endNs !== '0' && compareNs(span.endNs, span.startNs) < 0) return 'end_time_unix_nano is before start_time_unix_nano'
  if (compareNs(span.endNs, MAX_TIME_NS) > 0) return 'end_time_unix_nano is after 2262-04-11, the latest time ClickHouse stores'
  for (const e of span.events) {
    if (compareNs(e.timeNs, MAX_TIME_NS) > 0) return 'an event time_unix_nano is after 2262-04-11, the latest time ClickHouse stores'
  }
  return undefined
}
