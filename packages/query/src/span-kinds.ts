/**
 * What a span is, in Spanlens's own words: the values of `spans.kind` (and of
 * `spans.status_code`, SPAN_STATUSES below). Ingest's
 * normalization maps every convention onto these (packages/ingest/src/normalize/conventions.ts)
 * and its column table declares them for `kind`; a filter on kind accepts only
 * these; the console's and the SDK's copies are checked against this one. It
 * lives here, not in ingest, because ingest depends on this package and not the
 * reverse; ingest imports it alone, as `@spanlens/query/span-kinds`.
 */
export const SPAN_KINDS = ['llm', 'chain', 'agent', 'tool', 'retrieval', 'embedding', 'other'] as const
export type SpanKind = (typeof SPAN_KINDS)[number]

const KINDS: ReadonlySet<string> = new Set(SPAN_KINDS)

export function isSpanKind(value: string): value is SpanKind {
  return KINDS.has(value)
}

/**
 * The values of `spans.status_code`, indexed by OTLP's status code (0 unset, 1 ok, 2 error):
 * ingest writes them, and a filter on status accepts only these.
 */
export const SPAN_STATUSES = ['unset', 'ok', 'error'] as const
