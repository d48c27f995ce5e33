import { gunzipSync, inflateSync } from 'node:zlib'
import { otlpTypes } from '../helpers/proto.js'

/**
 * How many spans a client believes it sent: the body decoded by protobufjs with
 * the vendored opentelemetry-proto files (or JSON.parse for OTLP JSON), apart from
 * the server's own decoder. undefined = the body is not a request at all, so an
 * acknowledgement of it promises nothing countable.
 */
export function spansInBody(format: 'protobuf' | 'json', body: Buffer, compression: 'none' | 'gzip' | 'deflate'): number | undefined {
  let raw: Buffer
  try {
    raw = compression === 'gzip' ? gunzipSync(body) : compression === 'deflate' ? inflateSync(body) : body
  } catch {
    return undefined
  }
  if (format === 'protobuf') {
    try {
      const msg = otlpTypes().request.decode(raw) as unknown as { resourceSpans?: Array<{ scopeSpans?: Array<{ spans?: unknown[] }> }> }
      return (msg.resourceSpans ?? []).reduce((n, r) => n + (r.scopeSpans ?? []).reduce((m, s) => m + (s.spans ?? []).length, 0), 0)
    } catch {
      return undefined
    }
  }
  let doc: unknown
  try {
    doc = JSON.parse(raw.toString('utf8'))
  } catch {
    return undefined
  }
  const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : [])
  const obj = (v: unknown): Record<string, unknown> => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {})
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) return undefined
  // proto3 JSON: a parser accepts the lowerCamelCase name and the proto field name. Both at
  // once is a field given twice, which the mapping leaves undefined: no count is promised.
  const field = (o: Record<string, unknown>, camel: string, snake: string): unknown[] | 'ambiguous' => {
    if (o[camel] !== undefined && o[snake] !== undefined) return 'ambiguous'
    return arr(o[camel] ?? o[snake])
  }
  let ambiguous = false
  const list = (o: Record<string, unknown>, camel: string, snake: string): unknown[] => {
    const v = field(o, camel, snake)
    if (v === 'ambiguous') {
      ambiguous = true
      return []
    }
    return v
  }
  const count = list(obj(doc), 'resourceSpans', 'resource_spans').reduce<number>(
    (n, r) => n + list(obj(r), 'scopeSpans', 'scope_spans').reduce<number>((m, s) => m + arr(obj(s).spans).length, 0),
    0,
  )
  return ambiguous ? undefined : count
}
