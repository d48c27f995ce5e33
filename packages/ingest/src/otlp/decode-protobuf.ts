import type { Attrs, DecodedSpan, OtlpEvent, OtlpLink } from './model.js'
import { MAX_EVENTS, MAX_LINKS } from './values.js'
import { readEnvelope, type ScopeInfo } from './envelope-protobuf.js'
import { WireAttributes } from './attribute-cap.js'
import { isConventionKey } from '../normalize/convention-keys.js'
import { hexId } from './values-protobuf.js'
import { WIRE_I64, WIRE_LEN, WIRE_VARINT, type WireReader } from './wire.js'

/**
 * ExportTraceServiceRequest (opentelemetry-proto trace/v1) decoded straight from
 * the wire into OtlpSpan; the field numbers are in the comments. protobufjs
 * built a message tree (a Long object per timestamp) that the receiver then
 * walked a second time, on the event loop of every request. Unknown fields, and
 * known ones with an unexpected wire type, are skipped as protobuf requires;
 * structural damage throws a WireError for the caller to turn into a 400.
 */

/** Receives each span decoded; decode.ts validates it. */
export interface SpanSink {
  span(span: DecodedSpan): void
}

const key = (field: number, wireType: number): number => (field << 3) | wireType
const LEN_1 = key(1, WIRE_LEN)
const LEN_2 = key(2, WIRE_LEN)
const I64_1 = key(1, WIRE_I64)
const I64_7 = key(7, WIRE_I64)
const I64_8 = key(8, WIRE_I64)
const LEN_3 = key(3, WIRE_LEN)
const LEN_4 = key(4, WIRE_LEN)
const LEN_5 = key(5, WIRE_LEN)
const LEN_9 = key(9, WIRE_LEN)
const LEN_11 = key(11, WIRE_LEN)
const LEN_13 = key(13, WIRE_LEN)
const LEN_15 = key(15, WIRE_LEN)
const VARINT_3 = key(3, WIRE_VARINT)
const VARINT_6 = key(6, WIRE_VARINT)

export function readTraceRequest(buf: Buffer, sink: SpanSink): void {
  readEnvelope(buf, (r, resource, scope, position) => sink.span(readSpan(r, position, resource, scope)))
}

function readSpan(r: WireReader, position: number, resource: Attrs, scope: ScopeInfo): DecodedSpan {
  const span: DecodedSpan = {
    position,
    resource,
    scopeName: scope.name,
    scopeVersion: scope.version,
    scopeAttributes: scope.attributes,
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
  const attributes = new WireAttributes(span.attributes, isConventionKey)
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
        attributes.next(r)
        break
      case LEN_11: {
        // events
        if (span.events.length >= MAX_EVENTS) {
          span.droppedEvents = (span.droppedEvents ?? 0) + 1
          r.skip(WIRE_LEN)
          break
        }
        const outer = r.enter()
        span.events.push(readEvent(r))
        r.leave(outer)
        break
      }
      case LEN_13: {
        // links
        if (span.links.length >= MAX_LINKS) {
          span.droppedLinks = (span.droppedLinks ?? 0) + 1
          r.skip(WIRE_LEN)
          break
        }
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
  attributes.noteDroppedOn(span)
  return span
}

function readEvent(r: WireReader): OtlpEvent {
  // time_unix_nano = 1, name = 2, attributes = 3
  const event: OtlpEvent = { timeNs: '0', name: '', attributes: {} }
  const attributes = new WireAttributes(event.attributes)
  while (!r.done) {
    const tag = r.tag()
    if (tag === I64_1) event.timeNs = r.fixed64String()
    else if (tag === LEN_2) event.name = r.string()
    else if (tag === LEN_3) attributes.next(r)
    else r.skip(tag & 7)
  }
  attributes.noteDroppedOn(event)
  return event
}

function readLink(r: WireReader): OtlpLink {
  // trace_id = 1, span_id = 2, attributes = 4
  const link: OtlpLink = { traceId: '', spanId: '', attributes: {} }
  const attributes = new WireAttributes(link.attributes)
  while (!r.done) {
    const tag = r.tag()
    if (tag === LEN_1) link.traceId = hexId(r, 16)
    else if (tag === LEN_2) link.spanId = hexId(r, 8)
    else if (tag === LEN_4) attributes.next(r)
    else r.skip(tag & 7)
  }
  attributes.noteDroppedOn(link)
  return link
}
