import { nanosToIso } from '../time.js'

/**
 * What a trace's tree shows of a span beyond the listing's fields (span-row.ts): its
 * instrumentation scope, its resource, its events (an exception recorded on the span,
 * GenAI events, an app's own marks) and its links. Only the tree reads them: a listing
 * page of spans has no use for a stack trace per row.
 *
 * A trace's spans mostly share a few resources (one per service and process), each up to
 * 16 KiB stored: a span names its resource by key and the trace holds each resource once
 * (`resources`), as Jaeger's API gives a span its process.
 */

export interface SpanEvent {
  /** ISO-8601, milliseconds. */
  time: string
  /** Nanoseconds since the epoch, a decimal string. */
  timeUnixNano: string
  name: string
  attributes: Record<string, string>
}

export interface SpanLink {
  traceId: string
  spanId: string
  attributes: Record<string, string>
}

export interface SpanScope {
  name: string
  version: string
  attributes: Record<string, string>
}

export interface SpanDetail {
  scope: SpanScope
  /** The key of the span's resource in its trace's `resources`. */
  resource: string
  events: SpanEvent[]
  links: SpanLink[]
}

/** The row the items of DETAIL_SELECT give. */
export interface RawSpanDetail {
  scope_name: string
  scope_version: string
  scope_attributes: Record<string, string>
  resource_key: string
  event_ns: string[]
  event_names: string[]
  event_attributes: Array<Record<string, string>>
  link_trace_ids: string[]
  link_span_ids: string[]
  link_attributes: Array<Record<string, string>>
}

/** A resource's key: the same map gives the same key in every read (the resources read groups by it). */
export const RESOURCE_KEY = 'toString(cityHash64(resource_attributes))'

/** SELECT items (no leading comma) beside spanSelect()'s for RawSpanDetail. */
export const DETAIL_SELECT = [
  'scope_name',
  'scope_version',
  'scope_attributes',
  `${RESOURCE_KEY} AS resource_key`,
  'arrayMap(t -> toString(toUnixTimestamp64Nano(t)), events.time) AS event_ns',
  'events.name AS event_names',
  'events.attributes AS event_attributes',
  'links.trace_id AS link_trace_ids',
  'links.span_id AS link_span_ids',
  'links.attributes AS link_attributes',
].join(', ')

export function toSpanDetail(r: RawSpanDetail): SpanDetail {
  return {
    scope: { name: r.scope_name, version: r.scope_version, attributes: r.scope_attributes },
    resource: r.resource_key,
    events: r.event_ns.map((ns, i) => ({ time: nanosToIso(ns), timeUnixNano: ns, name: r.event_names[i] ?? '', attributes: r.event_attributes[i] ?? {} })),
    links: r.link_trace_ids.map((traceId, i) => ({ traceId, spanId: r.link_span_ids[i] ?? '', attributes: r.link_attributes[i] ?? {} })),
  }
}
