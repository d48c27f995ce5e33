import { decodeJson, decodeProtobuf } from '../otlp/decode.js'
import type { PriceTable } from '../normalize/cost.js'
import { normalizeSpan } from '../normalize/normalize.js'
import type { Redactor } from '../normalize/redact.js'
import type { BufferPool } from './buffer-pool.js'
import { encodeRow } from './row-format.js'

export type BodyFormat = 'protobuf' | 'json'

/** One request turned into spool-ready rows: the CPU-heavy part of ingest. */
export interface Prepared {
  /** Rows in the spool format (row-format.ts), one per line, or null when no span survived. */
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
  /** Where the rows' buffer comes from (event-loop prepare only: a worker's buffer is transferred). */
  pool?: BufferPool | undefined
}

/** decode → validate → normalize → encode. Throws SPANLENS_BAD_OTLP for an undecodable body. */
export function prepare(format: BodyFormat, body: Uint8Array, project: string, ctx: PrepareContext): Prepared {
  const buf = Buffer.from(body.buffer, body.byteOffset, body.byteLength)
  const decoded = buf.length === 0 ? { spans: [], rejected: 0, problems: [] } : format === 'protobuf' ? decodeProtobuf(buf) : decodeJson(buf)
  const problems = [...decoded.problems]
  const out = new LineWriter(decoded.spans.length * 2048, ctx.pool)
  const options = { prices: ctx.prices, redact: ctx.redact }
  let rows = 0
  let failed = 0
  for (const span of decoded.spans) {
    let line: string
    try {
      line = encodeRow(normalizeSpan(span, project, options))
    } catch (err) {
      failed++
      if (problems.length < 5) problems.push(`span ${span.spanId}: ${(err as Error).message}`)
      continue
    }
    out.write(line)
    rows++
  }
  if (rows === 0) return { payload: null, rows: 0, invalid: decoded.rejected, failed, problems }
  return { payload: out.bytes(), rows, invalid: decoded.rejected, failed, problems }
}

/**
 * UTF-8 lines appended into one growing buffer. Joining the lines into one string
 * and encoding that cost the bench more than encoding the rows themselves (the
 * joined string is flattened, measured, then copied again).
 */
class LineWriter {
  private buf: Buffer
  private length = 0

  constructor(
    initialBytes: number,
    private readonly pool?: BufferPool,
  ) {
    // Not from Node's shared pool: the payload may be transferred to another thread.
    this.buf = pool?.take(initialBytes) ?? Buffer.allocUnsafeSlow(Math.max(initialBytes, 4096))
  }

  write(line: string): void {
    // A UTF-16 unit is at most 3 UTF-8 bytes; +1 for the newline. Only when that
    // bound does not fit is the exact length worth measuring: growing on the bound
    // alone doubled nearly every request's buffer near its end (~600 KB allocated
    // for ~180 KB of rows), and that external memory paced the mark-compacts.
    if (this.length + line.length * 3 + 1 > this.buf.length) {
      const needed = this.length + Buffer.byteLength(line) + 1
      if (needed > this.buf.length) {
        const bigger = Buffer.allocUnsafeSlow(Math.max(Math.ceil(this.buf.length * 1.5), needed))
        this.buf.copy(bigger, 0, 0, this.length)
        this.pool?.give(this.buf)
        this.buf = bigger
      }
    }
    this.length += this.buf.write(line, this.length)
    this.buf[this.length++] = 0x0a
  }

  bytes(): Uint8Array {
    return new Uint8Array(this.buf.buffer, this.buf.byteOffset, this.length)
  }
}
