import { afterLatestTime, MAX_TIME_NS as LATEST_TIME_NS } from '@spanlens/query/time-window'
import { OTLP_SPAN_KINDS } from '../schema/span-columns.js'
import type { DecodedRequest, DecodedSpan, OtlpEvent, OtlpLink, OtlpSpan } from './model.js'
import { readTraceRequest } from './decode-protobuf.js'
import { type JsonEnvelope, type JsonScope, readJsonEnvelope } from './envelope-json.js'
import { JsonTypeError, field, isObj, list, message, shown, text } from './json-fields.js'
import { compareNs, idToHex, isJsonEnumNumber, MAX_EVENTS, MAX_LINKS, nanos } from './values.js'
import { readWire } from './request-body.js'
import { cappedJsonAttributes } from './attribute-cap.js'
import { isConventionKey } from '../normalize/convention-keys.js'

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
 * The latest instant the store holds, as the decimal nanoseconds decoders compare
 * (compareNs). A later time is a valid uint64 on the wire, but ClickHouse fails the whole
 * insert on it, so it is refused here, per span, record or point.
 */
export const MAX_TIME_NS = String(LATEST_TIME_NS)

export function decodeProtobuf(body: Buffer): DecodedRequest {
  const out = collector()
  readWire(() => readTraceRequest(body, { span: (span) => out.add(span) }))
  return out.result
}

const TRACES_JSON: JsonEnvelope = {
  message: 'ExportTraceServiceRequest',
  resources: 'resourceSpans',
  scopes: 'scopeSpans',
  items: 'spans',
}

export function decodeJson(body: Buffer): DecodedRequest {
  return readJsonEnvelope(body, TRACES_JSON, () => {
    const { result, reject, add } = collector()
    const item = (raw: unknown, position: number, scope: JsonScope | string): void => {
      if (!isObj(raw)) return reject(`span ${position}: not an object`)
      try {
        if (typeof scope === 'string') throw new JsonTypeError(scope)
        add(toSpan(raw, position, scope))
      } catch (err) {
        reject(`${jsonSpanLabel(raw, position)}: ${(err as Error).message}`)
      }
    }
    return { result, item }
  })
}

/** A JSON span that could not be read, named as far as it can be. */
function jsonSpanLabel(s: Obj, position: number): string {
  return spanLabel(position, typeof s.name === 'string' ? s.name : '', idToHex(field(s, 'spanId'), 8))
}

/** A span as a refusal names it: its position in the request (DecodedSpan.position), its name (the first 80 characters) and its id. */
export function spanLabel(position: number, name: string, spanId: string): string {
  return `span ${position} ${JSON.stringify(name.slice(0, 80))} (${spanId || 'no id'})`
}

/** Accepts valid spans and counts the rest, keeping a few reasons for the reply. */
function collector() {
  const result: DecodedRequest = { spans: [], rejected: 0, problems: [] }
  const reject = (why: string): void => {
    result.rejected++
    if (result.problems.length < MAX_PROBLEMS) result.problems.push(why)
  }
  const add = (span: DecodedSpan): void => {
    const problem = validate(span)
    if (problem) reject(`${spanLabel(span.position, span.name, span.spanId)}: ${problem}`)
    else result.spans.push(span)
  }
  return { result, reject, add }
}

function toSpan(s: Obj, position: number, scope: JsonScope): DecodedSpan {
  const status = message(s, 'status') ?? {}
  const events = list(s, 'events')
  const links = list(s, 'links')
  return {
    position,
    resource: scope.resource,
    scopeName: scope.name,
    scopeVersion: scope.version,
    scopeAttributes: scope.attributes,
    traceId: idToHex(field(s, 'traceId'), 16),
    spanId: idToHex(field(s, 'spanId'), 8),
    parentSpanId: idToHex(field(s, 'parentSpanId'), 8),
    name: text(s, 'name'),
    kind: kind(field(s, 'kind')),
    startNs: nanos(field(s, 'startTimeUnixNano'), 'start_time_unix_nano'),
    endNs: nanos(field(s, 'endTimeUnixNano'), 'end_time_unix_nano'),
    ...cappedJsonAttributes(field(s, 'attributes'), isConventionKey),
    events: each(events.slice(0, MAX_EVENTS), 'event', toEvent),
    links: each(links.slice(0, MAX_LINKS), 'link', toLink),
    ...(events.length > MAX_EVENTS ? { droppedEvents: events.length - MAX_EVENTS } : {}),
    ...(links.length > MAX_LINKS ? { droppedLinks: links.length - MAX_LINKS } : {}),
    statusCode: statusCode(field(status, 'code')),
    statusMessage: text(status, 'message', 'status.message'),
  }
}

/** Each entry of a repeated message field; a problem in one is named by its index. */
function each<T>(values: unknown[], what: string, read: (o: Obj) => T): T[] {
  return values.map((v, i) => {
    try {
      if (!isObj(v)) throw new JsonTypeError(`not an object, but ${shown(v)}`)
      return read(v)
    } catch (err) {
      if (err instanceof JsonTypeError) throw new JsonTypeError(`${what} ${i}: ${err.message}`)
      throw err
    }
  })
}

function toEvent(e: Obj): OtlpEvent {
  return {
    timeNs: nanos(field(e, 'timeUnixNano'), 'time_unix_nano'),
    name: text(e, 'name'),
    ...cappedJsonAttributes(field(e, 'attributes')),
  }
}

function toLink(l: Obj): OtlpLink {
  return {
    traceId: idToHex(field(l, 'traceId'), 16),
    spanId: idToHex(field(l, 'spanId'), 8),
    ...cappedJsonAttributes(field(l, 'attributes')),
  }
}

const KIND_NAMES = OTLP_SPAN_KINDS.map((k) => k.toUpperCase())

/** SpanKind, an integer enum or its name; a number this version does not know is kept for validate(). */
function kind(v: unknown): number {
  if (v === undefined || v === null) return 0
  if (isJsonEnumNumber(v)) return v
  if (typeof v === 'string') {
    const idx = KIND_NAMES.indexOf(v.replace(/^SPAN_KIND_/, ''))
    if (idx >= 0) return idx
  }
  throw new JsonTypeError(`kind must be an integer enum (int32) or a SpanKind name, not ${shown(v)}`)
}

/** Status.code, an integer enum or its name; a number this version does not know is kept for validate(). */
function statusCode(v: unknown): number {
  if (v === undefined || v === null) return 0
  if (isJsonEnumNumber(v)) return v
  if (v === 'STATUS_CODE_OK') return 1
  if (v === 'STATUS_CODE_ERROR') return 2
  if (v === 'STATUS_CODE_UNSET') return 0
  throw new JsonTypeError(`status.code must be an integer enum (int32) or a StatusCode name, not ${shown(v)}`)
}

/** A trace or span id as a span context needs it: `bytes` bytes, not all zero (W3C trace context's invalid id). */
const validId = (hex: string, bytes: number): boolean => hex.length === bytes * 2 && hex !== (bytes === 16 ? ZERO_TRACE : ZERO_SPAN)

function validate(span: OtlpSpan): string | undefined {
  // proto3 enums are open: a value added after this version is data the sender meant, and the
  // Collector passes it on. The columns hold only the names known here, so it is read as the
  // enum's default, which says no more than the sender did.
  if (span.kind < 0 || span.kind >= OTLP_SPAN_KINDS.length) span.kind = 0
  if (span.statusCode < 0 || span.statusCode > 2) span.statusCode = 0
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
  // Both times are required (0 is what protobuf sends for none): without its end a span has no
  // duration, and one stored as 0 ms would pull every latency statistic down.
  if (span.startNs === '0') return 'start_time_unix_nano: missing (absent or 0)'
  if (span.endNs === '0') return 'end_time_unix_nano: missing (absent or 0)'
  if (compareNs(span.startNs, MAX_TIME_NS) > 0) return afterLatestTime('start_time_unix_nano')
  if (compareNs(span.endNs, span.startNs) < 0) return 'end_time_unix_nano is before start_time_unix_nano'
  if (compareNs(span.endNs, MAX_TIME_NS) > 0) return afterLatestTime('end_time_unix_nano')
  for (const e of span.events) {
    if (compareNs(e.timeNs, MAX_TIME_NS) > 0) return afterLatestTime('an event time_unix_nano')
  }
  return undefined
}
