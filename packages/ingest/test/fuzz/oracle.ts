import { gunzipSync } from 'node:zlib'
import { otlpTypes } from '../helpers/proto.js'

/**
 * How many spans a client believes it sent: the body decoded by protobufjs with
 * the vendored opentelemetry-proto files (or JSON.parse for OTLP JSON), apart from
 * the server's own decoder. undefined = the body is not a request at all, so an
 * acknowledgement of it promises nothing countable.
 */
export function spansInBody(format: 'protobuf' | 'json', body: Buffer, gzip: boolean): number | undefined {
  let raw: Buffer
  try {
    raw = gzip ? gunzipSync(body) : body
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
  return arr(obj(doc).resourceSpans).reduce<number>(
    (n, r) => n + arr(obj(r).scopeSpans).reduce<number>((m, s) => m + arr(obj(s).spans).length, 0),
    0,
  )
}
