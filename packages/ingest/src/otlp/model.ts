/** The receiver's view of one OTLP span, independent of wire encoding. */
export type AttrValue = string | number | boolean | null | AttrValue[] | { [key: string]: AttrValue }
export type Attrs = Record<string, AttrValue>

/**
 * `out[key] = value`, for the key `__proto__` too: plain assignment takes that key as the
 * object's prototype, and an attribute sent under it was lost (or, a map, became the
 * prototype). Every map built from what a sender named goes through this.
 */
export function setOwn<T>(out: Record<string, T>, key: string, value: T): void {
  if (key === '__proto__') Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true })
  else out[key] = value
}

export interface OtlpEvent {
  timeNs: string
  name: string
  attributes: Attrs
  /** Attributes past MAX_ATTRIBUTES (values.ts), left out; absent when none were. */
  droppedAttributes?: number
}

export interface OtlpLink {
  traceId: string
  spanId: string
  attributes: Attrs
  /** Attributes past MAX_ATTRIBUTES (values.ts), left out; absent when none were. */
  droppedAttributes?: number
}

export interface OtlpSpan {
  resource: Attrs
  scopeName: string
  scopeVersion: string
  /** The scope's attributes: one object for every span of the scope (normalize.ts builds its stored map once). */
  scopeAttributes: Attrs
  traceId: string
  spanId: string
  parentSpanId: string
  name: string
  /** OTLP SpanKind: 0 unspecified, 1 internal, 2 server, 3 client, 4 producer, 5 consumer; a value this version does not know is read as 0. */
  kind: number
  /** Nanoseconds since the epoch, as a decimal string (exceeds 2^53). */
  startNs: string
  endNs: string
  attributes: Attrs
  events: OtlpEvent[]
  links: OtlpLink[]
  /** Events and links past MAX_EVENTS / MAX_LINKS (values.ts), left out; absent when none were. */
  droppedEvents?: number
  droppedLinks?: number
  /** Attributes past the cap (attribute-cap.ts), left out; absent when none were. */
  droppedAttributes?: number
  /** 0 unset, 1 ok, 2 error; a value this version does not know is read as 0. */
  statusCode: number
  statusMessage: string
}

/** A span as a decoder read it, which also knows where it was sent. */
export interface DecodedSpan extends OtlpSpan {
  /**
   * Where the span is in its request, as every refusal names it: from 0, counting each
   * entry of every spans list in the order sent, across resources and scopes
   * (readJsonEnvelope, readEnvelope). Log records and metrics are counted the same way.
   */
  position: number
}

export interface DecodedRequest {
  spans: DecodedSpan[]
  rejected: number
  /** Why spans were rejected; a few examples, not one per span. */
  problems: string[]
}
