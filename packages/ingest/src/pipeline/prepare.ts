import { decodeJson, decodeProtobuf } from '../otlp/decode.js'
import type { PriceTable } from '../normalize/cost.js'
import { normalizeSpan } from '../normalize/normalize.js'
import type { Redactor } from '../normalize/redact.js'
import { encodeRow } from './row-format.js'

export type BodyFormat = 'protobuf' | 'json'

/** One request turned into spool-ready rows: the CPU-heavy part of ingest. */
export interface Prepared {
  /** JSONCompactEachRow lines, or null when no span survived. */
  payload: Uint8Array | null
  rows: number
  /** Spans invalid on the wire. */
  invalid: number
  /** Spans the normalizer could not map (a bug, never expected). */
  failed: number
  problems: string[]
}

export interface PrepareContext {
  prices: PriceTable
  redact?: Redactor | undefined
}

/** decode → validate → normalize → encode. Throws SPANLENS_BAD_OTLP for an undecodable body. */
export function prepare(format: BodyFormat, body: Uint8Array, project: string, ctx: PrepareContext): Prepared {
  const buf = Buffer.from(body.buffer, body.byteOffset, body.byteLength)
  const decoded = buf.length === 0 ? { spans: [], rejected: 0, problems: [] } : format === 'protobuf' ? decodeProtobuf(buf) : decodeJson(buf)
  const problems = [...decoded.problems]
  const lines: string[] = []
  let failed = 0
  for (const span of decoded.spans) {
    try {
      lines.push(encodeRow(normalizeSpan(span, project, { prices: ctx.prices, redact: ctx.redact })))
    } catch (err) {
      failed++
      if (problems.length < 5) problems.push(`span ${span.spanId}: ${(err as Error).message}`)
    }
  }
  if (lines.length === 0) return { payload: null, rows: 0, invalid: decoded.rejected, failed, problems }
  const text = `${lines.join('\n')}\n`
  // A buffer of its own (not a slice of Node's pool), so it can be transferred between threads.
  const payload = new Uint8Array(Buffer.byteLength(text))
  Buffer.from(payload.buffer).write(text)
  return { payload, rows: lines.length, invalid: decoded.rejected, failed, problems }
}
