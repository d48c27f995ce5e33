import type { AttrValue, Attrs, OtlpEvent, OtlpLink, OtlpSpan } from './model.js'
import { MAX_ATTRIBUTES, MAX_DEPTH } from './values.js'
import { WIRE_I64, WIRE_LEN, WIRE_VARINT, WireReader } from './wire.js'

/**
 * ExportTraceServiceRequest (opentelemetry-proto trace/v1) decoded straight from
 * the wire into OtlpSpan; the field numbers are in the comments. protobufjs
 * built a message tree (a Long object per timestamp) that the receiver then
 * walked a second time, on the event loop of every request. Unknown fields, and
 * known ones with an unexpected wire type, are skipped as protobuf requires;
 * structural damage throws a WireError for the caller to turn into a 400.
 */

export interface SpanSink {
  span(span: OtlpSpan): void
  /** A span that decoded but carries a value OTLP does not allow. */
  invalid(index: number, why: string): void
}

const key = (field: number, wireType: number): number => (field << 3) | wireType
const LEN_1 = key(1, WIRE_LEN)
const LEN_2 = key(2, WIRE_LEN)
const I64_1 = key(1, WIRE_I64)
const I64_4 = key(4, WIRE_I64)
const I64_7 = key(7, WIRE_I64)
const I64_8 = key(8, WIRE_I64)
const LEN_3 = key(3, WIRE_LEN)
const LEN_4 = key(4, WIRE_LEN)
const LEN_5 = key(5, WIRE_LEN)
const LEN_6 = key(6, WIRE_LEN)
const LEN_7 = key(7, WIRE_LEN)
const LEN_9 = key(9, WIRE_LEN)
const LEN_11 = key(11, WIRE_LEN)
const LEN_13 = key(13, WIRE_LEN)
const LEN_15 = key(15, WIRE_LEN)
const VARINT_2 = key(2, WIRE_VARINT)
const VARINT_3 = key(3, WIRE_VARINT)
const VARINT_6 = key(6, WIRE_VARINT)

export function readTraceRequest(buf: Buffer, sink: SpanSink): void {
  const r = new WireReader(buf)
  while (!r.done) {
    const tag = r.tag()
    // ExportTraceServiceRequest.resource_spans = 1
    if (tag === LEN_1) {
      const outer = r.enter()
      readResourceSpans(r, sink)
      r.leave(outer)
    } else r.skip(tag & 7)
  }
}

function readResourceSpans(r: WireReader, sink: SpanSink): void {
  // The resource applies to every span wherever it sits in the message: read it
  // first, remember where the scope_spans are.
  const resource: Attrs = {}
  const scopes: number[] = []
  while (!r.done) {
    const tag = r.tag()
    if (tag === LEN_1) {
      // resource = 1 → Resource.attributes = 1
      const outer = r.enter()
      let count = 0
      while (!r.done) {
        const t = r.tag()
        if (t === LEN_1 && count++ < MAX_ATTRIBUTES) keyValueAt(r, resource, 0)
        else r.skip(t & 7)
      }
      r.leave(outer)
    } else if (tag === LEN_2) {
      // scope_spans = 2
      const start = r.lengthDelimited()
      scopes.push(start, r.pos)
    } else r.skip(tag & 7)
  }
  const end = r.end
  for (let i = 0; i < scopes.length; i += 2) {
    r.pos = scopes[i] as number
    r.end = scopes[i + 1] as number
    readScopeSpans(r, resource, sink)
  }
  r.pos = end
  r.end = end
}

function readScopeSpans(r: WireReader, resource: Attrs, sink: SpanSink): void {
  let scopeName = ''
  let scopeVersion = ''
  const spans: number[] = []
  while (!r.done) {
    const tag = r.tag()
    if (tag === LEN_1) {
      // scope = 1 → InstrumentationScope.name = 1, version = 2
      const outer = r.enter()
      while (!r.done) {
        const t = r.tag()
        if (t === LEN_1) scopeName = r.string()
        else if (t === LEN_2) scopeVersion = r.string()
        else r.skip(t & 7)
      }
      r.leave(outer)
    } else if (tag === LEN_2) {
      // spans = 2
      const start = r.lengthDelimited()
      spans.push(start, r.pos)
    } else r.skip(tag & 7)
  }
  for (let i = 0; i < spans.length; i += 2) {
    r.pos = spans[i] as number
    r.end = spans[i + 1] as number
    const span = readSpan(r, resource, scopeName, scopeVersion)
    if (typeof span === 'string') sink.invalid(i / 2, span)
    else sink.span(span)
  }
}

/** Returns the span, or why it cannot be stored. */
function readSpan(r: WireReader, resource: Attrs, scopeName: string, scopeVersion: string): OtlpSpan | string {
  const span: OtlpSpan = {
    resource,
    scopeName,
    scopeVersion,
    traceId: '',
    spanId: '',
    parentSpanId: '',
    name: '',
    kind: 0,
    startNs: '0',
    endNs: '0',
    attributes: {},
    events: [],
    links: [],
    statusCode: 0,
    statusMessage: '',
  }
  let attributeCount = 0
  while (!r.done) {
    const tag = r.tag()
    switch (tag) {
      case LEN_1: // trace_id
        span.traceId = hexId(r, 16)
        break
      case LEN_2: // span_id
        span.spanId = hexId(r, 8)
        break
      case LEN_4: // parent_span_id
        span.parentSpanId = hexId(r, 8)
        break
      case LEN_5: // name
        span.name = r.string()
        break
      case VARINT_6: // kind
        span.kind = r.uint32() | 0
        break
      case I64_7: // start_time_unix_nano
        span.startNs = r.fixed64String()
        break
      case I64_8: // end_time_unix_nano
        span.endNs = r.fixed64String()
        break
      case LEN_9: // attributes
        if (attributeCount++ < MAX_ATTRIBUTES) keyValueAt(r, span.attributes, 0)
        else r.skip(WIRE_LEN)
        break
      case LEN_11: {
        // events
        const outer = r.enter()
        span.events.push(readEvent(r))
        r.leave(outer)
        break
      }
      case LEN_13: {
        // links
        const outer = r.enter()
        span.links.push(readLink(r))
        r.leave(outer)
        break
      }
      case LEN_15: {
        // status: message = 2, code = 3
        const outer = r.enter()
        while (!r.done) {
          const t = r.tag()
          if (t === LEN_2) span.statusMessage = r.string()
          else if (t === VARINT_3) span.statusCode = r.uint32() | 0
          else r.skip(t & 7)
        }
        r.leave(outer)
        break
      }
      default:
        r.skip(tag & 7)
    }
  }
  if (span.statusCode !== 0 && span.statusCode !== 1 && span.statusCode !== 2) return 'status.code must be 0, 1 or 2'
  return span
}

function readEvent(r: WireReader): OtlpEvent {
  // time_unix_nano = 1, name = 2, attributes = 3
  const event: OtlpEvent = { timeNs: '0', name: '', attributes: {} }
  let count = 0
  while (!r.done) {
    const tag = r.tag()
    if (tag === I64_1) event.timeNs = r.fixed64String()
    else if (tag === LEN_2) event.name = r.string()
    else if (tag === LEN_3 && count++ < MAX_ATTRIBUTES) keyValueAt(r, event.attributes, 0)
    else r.skip(tag & 7)
  }
  return event
}

function readLink(r: WireReader): OtlpLink {
  // trace_id = 1, span_id = 2, attributes = 4
  const link: OtlpLink = { traceId: '', spanId: '', attributes: {} }
  let count = 0
  while (!r.done) {
    const tag = r.tag()
    if (tag === LEN_1) link.traceId = hexId(r, 16)
    else if (tag === LEN_2) link.spanId = hexId(r, 8)
    else if (tag === LEN_4 && count++ < MAX_ATTRIBUTES) keyValueAt(r, link.attributes, 0)
    else r.skip(tag & 7)
  }
  return link
}

/** bytes id → lower-case hex; '' when empty, 'invalid' when of the wrong size (validation rejects it). */
export function hexId(r: WireReader, bytes: number): string {
  const id = r.hex()
  return id === '' || id.length === bytes * 2 ? id : 'invalid'
}

/** The KeyValue message at pos (length prefix included). */
export function keyValueAt(r: WireReader, out: Attrs, depth: number): void {
  const outer = r.enter()
  keyValueInto(r, out, depth)
  r.leave(outer)
}

/** KeyValue body: key = 1, value = 2 (AnyValue); an absent value is null, as in OTLP JSON. */
function keyValueInto(r: WireReader, out: Attrs, depth: number): void {
  let k = ''
  let value: AttrValue = null
  while (!r.done) {
    const tag = r.tag()
    if (tag === LEN_1) k = r.string()
    else if (tag === LEN_2) {
      const outer = r.enter()
      value = anyValue(r, depth)
      r.leave(outer)
    } else r.skip(tag & 7)
  }
  out[k] = value
}

/**
 * AnyValue body, a oneof: string 1, bool 2, int 3, double 4, array 5, kvlist 6,
 * bytes 7. Nesting deeper than MAX_DEPTH becomes a marker and is not read.
 */
export function anyValue(r: WireReader, depth: number): AttrValue {
  let value: AttrValue = null
  while (!r.done) {
    const tag = r.tag()
    switch (tag) {
      case LEN_1:
        value = r.string()
        break
      case VARINT_2:
        value = r.bool()
        break
      case VARINT_3:
        value = r.int64()
        break
      case I64_4:
        value = r.double()
        break
      case LEN_5: {
        if (depth >= MAX_DEPTH) {
          r.skip(WIRE_LEN)
          value = '[max depth exceeded]'
          break
        }
        // ArrayValue.values = 1
        const list: AttrValue[] = []
        const outer = r.enter()
        while (!r.done) {
          const t = r.tag()
          if (t === LEN_1) {
            const inner = r.enter()
            list.push(anyValue(r, depth + 1))
            r.leave(inner)
          } else r.skip(t & 7)
        }
        r.leave(outer)
        value = list
        break
      }
      case LEN_6: {
        if (depth >= MAX_DEPTH) {
          r.skip(WIRE_LEN)
          value = '[max depth exceeded]'
          break
        }
        // KeyValueList.values = 1
        const obj: Attrs = {}
        let count = 0
        const outer = r.enter()
        while (!r.done) {
          const t = r.tag()
          if (t === LEN_1 && count++ < MAX_ATTRIBUTES) keyValueAt(r, obj, depth + 1)
          else r.skip(t & 7)
        }
        r.leave(outer)
        value = obj
        break
      }
      case LEN_7:
        if (depth >= MAX_DEPTH) {
          r.skip(WIRE_LEN)
          value = '[max depth exceeded]'
        } else value = r.base64()
        break
      default:
        r.skip(tag & 7)
    }
  }
  return value
}
