import type { Attributes, HrTime } from '@opentelemetry/api'
import { REDACTED_NAMES } from '../attributes.js'
import { isContentAttribute } from '../redact.js'
import type { FinishedSpan } from '../trace/types.js'
import { boundArray, boundName, boundString, MAX_VALUE_BYTES } from '../value-bounds.js'
import { ProtoWriter, varintSize } from './proto-writer.js'

/**
 * FinishedSpan → OTLP protobuf bytes (proto-writer.ts). The field tags below
 * come from the vendored opentelemetry-proto files (proto/); a test checks
 * them against those files and decodes what this writes with protobufjs.
 * Runs off the app's call path.
 */

export type AttributeTransform = (key: string, value: string) => string

// Field tags, (field number << 3) | wire type, from the vendored opentelemetry-proto files.
// Wire types: 0 varint, 1 fixed64, 2 length-delimited, 5 fixed32.
export const TAGS = {
  request: { resourceSpans: 10 },
  resourceSpans: { resource: 10, scopeSpans: 18 },
  resource: { attributes: 10 },
  scopeSpans: { scope: 10, spans: 18 },
  scope: { name: 10, version: 18 },
  span: {
    traceId: 10,
    spanId: 18,
    traceState: 26,
    parentSpanId: 34,
    name: 42,
    kind: 48,
    start: 57,
    end: 65,
    attributes: 74,
    droppedAttributes: 80,
    events: 90,
    droppedEvents: 96,
    links: 106,
    droppedLinks: 112,
    status: 122,
    flags: 133,
  },
  event: { time: 9, name: 18, attributes: 26, droppedAttributes: 32 },
  link: { traceId: 10, spanId: 18, traceState: 26, attributes: 34, droppedAttributes: 40, flags: 53 },
  status: { message: 18, code: 24 },
  keyValue: { key: 10, value: 18 },
  anyValue: { string: 10, bool: 16, int: 24, double: 33, array: 42 },
  arrayValue: { values: 10 },
} as const

type Writer = ProtoWriter

function writeAnyValue(w: Writer, v: unknown): void {
  switch (typeof v) {
    case 'string':
      w.uint32(TAGS.anyValue.string).string(v)
      return
    case 'boolean':
      w.uint32(TAGS.anyValue.bool).bool(v)
      return
    case 'number':
      if (Number.isInteger(v) && Math.abs(v) <= Number.MAX_SAFE_INTEGER) w.uint32(TAGS.anyValue.int).int64(v)
      else w.uint32(TAGS.anyValue.double).double(v)
      return
    case 'object':
      if (Array.isArray(v)) {
        w.uint32(TAGS.anyValue.array).fork()
        for (const item of v) {
          w.uint32(TAGS.arrayValue.values).fork()
          writeAnyValue(w, item)
          w.ldelim()
        }
        w.ldelim()
      }
      return
    default:
  }
}

const hasOwn = Object.prototype.hasOwnProperty

/**
 * Attributes as repeated KeyValue under `tag`; values that are not OTLP values are left out. Keys and
 * values are bounded (value-bounds.ts): content by `transform` (maxContentLength), any other string
 * here, arrays before `transform` sees their items.
 */
function writeAttributes(w: Writer, tag: number, attrs: Attributes | undefined, transform?: AttributeTransform): void {
  if (!attrs) return
  // for-in over own keys, not Object.keys: the same keys in the same order, without an array of them
  // per span (~170 B of the SDK's ~11 KiB per call); V8 checks own keys of a for-in by the enum cache.
  for (const key in attrs) {
    if (!hasOwn.call(attrs, key)) continue
    let v: unknown = attrs[key]
    if (v === undefined || v === null || (typeof v === 'object' && !Array.isArray(v))) continue
    if (Array.isArray(v)) v = boundArray(v, false)
    if (transform) {
      if (typeof v === 'string') v = transform(key, v)
      else if (Array.isArray(v)) v = v.map((e: unknown) => (typeof e === 'string' ? transform(key, e) : e))
    }
    // A length check per value; the content check only for a string that may be over the bound.
    if (typeof v === 'string' && v.length * 3 > MAX_VALUE_BYTES && (!transform || !isContentAttribute(key))) v = boundString(v)
    w.uint32(tag).fork().uint32(TAGS.keyValue.key).string(boundName(key)).uint32(TAGS.keyValue.value).fork()
    writeAnyValue(w, v)
    w.ldelim().ldelim()
  }
}

// HrTime → nanoseconds as fixed64, in two 32-bit halves. The product seconds × 10^9 passes 2^53, so it is
// summed from 16-bit halves of the seconds, each product exact in a double (BigInt cost ~1 µs a time).
const TWO_32 = 0x1_0000_0000
function fixed64(w: Writer, tag: number, t: HrTime): void {
  const sec = t[0]
  w.uint32(tag)
  if (!(sec >= 0 && sec < TWO_32)) {
    const n = BigInt(sec) * 1_000_000_000n + BigInt(t[1])
    w.fixed64(Number(n & 0xffffffffn), Number(BigInt.asUintN(32, n >> 32n)))
    return
  }
  const a = Math.floor(sec / 0x10000) * 1_000_000_000 // × 2^16
  const b = (sec % 0x10000) * 1_000_000_000 + t[1]
  let high = Math.floor(a / 0x10000) + Math.floor(b / TWO_32)
  let low = (a % 0x10000) * 0x10000 + (b % TWO_32)
  if (low >= TWO_32) {
    low -= TWO_32
    high += 1
  }
  w.fixed64(low, high)
}

/**
 * A name or version as the string OTLP has for it. A provider takes whatever its callers
 * pass (`updateName(42)`, `getTracer(null)` from plain JavaScript, the app's provider in attach
 * mode included); as its string the span is kept, where a non-string dropped it, or its whole batch.
 */
function text(v: unknown): string {
  return typeof v === 'string' ? v : String(v)
}

/**
 * One span as the bytes of an OTLP `Span` message, written field by field
 * (no intermediate objects, no reflection). The exporter
 * keeps these bytes instead of the span, so queued spans cost the GC almost
 * nothing.
 */
const WRITER_SIZE = 16 * 1024
let spanWriter = new ProtoWriter(WRITER_SIZE)
/** A writer grown past this by a large span is let go: its buffer would stay as large for the process's life. */
const WRITER_KEPT = 1024 * 1024

export function encodeSpan(s: FinishedSpan, transform?: AttributeTransform): Uint8Array {
  const w = spanWriter.reset()
  try {
    writeSpan(w, s, transform)
    return w.finish()
  } finally {
    if (w.capacity > WRITER_KEPT) spanWriter = new ProtoWriter(WRITER_SIZE)
  }
}

function writeSpan(w: Writer, s: FinishedSpan, transform: AttributeTransform | undefined): void {
  const ctx = s.spanContext()
  w.uint32(TAGS.span.traceId).hex(ctx.traceId)
  w.uint32(TAGS.span.spanId).hex(ctx.spanId)
  const traceState = ctx.traceState?.serialize()
  if (traceState) w.uint32(TAGS.span.traceState).string(traceState)
  const parent = s.parentSpanContext?.spanId
  if (parent) w.uint32(TAGS.span.parentSpanId).hex(parent)
  w.uint32(TAGS.span.name).string(boundName(text(s.name)))
  // OTLP SpanKind is the API's enum + 1 (0 is UNSPECIFIED there).
  w.uint32(TAGS.span.kind).uint32(s.kind + 1)
  fixed64(w, TAGS.span.start, s.startTime)
  fixed64(w, TAGS.span.end, s.endTime)
  writeAttributes(w, TAGS.span.attributes, s.attributes, transform)
  if (s.droppedAttributesCount) w.uint32(TAGS.span.droppedAttributes).uint32(s.droppedAttributesCount)
  for (const e of s.events) {
    w.uint32(TAGS.span.events).fork()
    fixed64(w, TAGS.event.time, e.time)
    w.uint32(TAGS.event.name).string(boundName(text(e.name)))
    writeAttributes(w, TAGS.event.attributes, e.attributes, transform)
    if (e.droppedAttributesCount) w.uint32(TAGS.event.droppedAttributes).uint32(e.droppedAttributesCount)
    w.ldelim()
  }
  if (s.droppedEventsCount) w.uint32(TAGS.span.droppedEvents).uint32(s.droppedEventsCount)
  for (const l of s.links) {
    w.uint32(TAGS.span.links).fork()
    w.uint32(TAGS.link.traceId).hex(l.context.traceId)
    w.uint32(TAGS.link.spanId).hex(l.context.spanId)
    const linkState = l.context.traceState?.serialize()
    if (linkState) w.uint32(TAGS.link.traceState).string(linkState)
    writeAttributes(w, TAGS.link.attributes, l.attributes, transform)
    if (l.droppedAttributesCount) w.uint32(TAGS.link.droppedAttributes).uint32(l.droppedAttributesCount)
    if (l.context.traceFlags) w.uint32(TAGS.link.flags).fixed32(l.context.traceFlags)
    w.ldelim()
  }
  if (s.droppedLinksCount) w.uint32(TAGS.span.droppedLinks).uint32(s.droppedLinksCount)
  if (s.status.code || s.status.message) {
    w.uint32(TAGS.span.status).fork()
    // The message of an error status is the error's message, as free as its text: recordError takes it
    // from the exception, whose text an app builds from what it was handling.
    if (s.status.message) w.uint32(TAGS.status.message).string(transform ? transform(REDACTED_NAMES.statusMessage, s.status.message) : boundString(s.status.message))
    if (s.status.code) w.uint32(TAGS.status.code).uint32(s.status.code)
    w.ldelim()
  }
  if (ctx.traceFlags) w.uint32(TAGS.span.flags).fixed32(ctx.traceFlags)
}

/** A span ready to send: its bytes, and the resource and scope it is grouped under. */
export interface EncodedSpan {
  resource: FinishedSpan['resource']
  scope: FinishedSpan['instrumentationScope']
  bytes: Uint8Array
}

export interface EncodeOptions {
  /** Resource attributes to add where a span's resource lacks them (attach mode). */
  resourceDefaults?: Attributes
}

/** An ExportTraceServiceRequest around already encoded spans, grouped by resource and scope. */
export function encodeRequest(spans: EncodedSpan[], opts: EncodeOptions = {}): Uint8Array {
  const byResource = new Map<object, Map<string, { scope: EncodedSpan['scope']; spans: Uint8Array[]; size: number }>>()
  for (const span of spans) {
    let scopes = byResource.get(span.resource)
    if (!scopes) byResource.set(span.resource, (scopes = new Map()))
    const scopeKey = `${span.scope.name}@${span.scope.version ?? ''}`
    let group = scopes.get(scopeKey)
    if (!group) scopes.set(scopeKey, (group = { scope: span.scope, spans: [], size: 0 }))
    group.spans.push(span.bytes)
    group.size += 1 + varintSize(span.bytes.length) + span.bytes.length
  }
  // The small messages (resource, scope) are written first, then every length is known: the request is
  // written once into a buffer of its exact size. Growing a writer and moving each nested message's bytes
  // to fit its length cost two large fresh buffers and four copies of the batch per request.
  const head = new ProtoWriter(1024)
  const parts: { resource: Uint8Array; scopes: { scope: Uint8Array; spans: Uint8Array[]; size: number }[]; size: number }[] = []
  let total = 0
  for (const [resource, scopes] of byResource) {
    head.reset()
    writeAttributes(head, TAGS.resource.attributes, { ...opts.resourceDefaults, ...(resource as FinishedSpan['resource']).attributes })
    const r = { resource: head.finish(), scopes: [] as (typeof parts)[number]['scopes'], size: 0 }
    r.size = field(r.resource.length)
    for (const { scope, spans: group, size } of scopes.values()) {
      head.reset().uint32(TAGS.scope.name).string(boundName(text(scope.name)))
      if (scope.version) head.uint32(TAGS.scope.version).string(boundName(text(scope.version)))
      const s = { scope: head.finish(), spans: group, size: 0 }
      s.size = field(s.scope.length) + size
      r.size += field(s.size)
      r.scopes.push(s)
    }
    total += field(r.size)
    parts.push(r)
  }
  const w = new ProtoWriter(total)
  for (const r of parts) {
    w.uint32(TAGS.request.resourceSpans).uint32(r.size)
    w.uint32(TAGS.resourceSpans.resource).bytes(r.resource)
    for (const s of r.scopes) {
      w.uint32(TAGS.resourceSpans.scopeSpans).uint32(s.size)
      w.uint32(TAGS.scopeSpans.scope).bytes(s.scope)
      // An embedded message is its bytes, length-prefixed: exactly what bytes() writes.
      for (const bytes of s.spans) w.uint32(TAGS.scopeSpans.spans).bytes(bytes)
    }
  }
  return w.written()
}

/** A length-delimited field of `n` bytes, with its one-byte tag and its length. */
const field = (n: number): number => 1 + varintSize(n) + n
