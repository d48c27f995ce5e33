import { errors } from '../errors.js'
import { decodeJson, decodeProtobuf } from '../otlp/decode.js'
import { compareNs } from '../otlp/values.js'
import type { PriceTable } from '../normalize/cost.js'
import { normalizeSpan } from '../normalize/normalize.js'
import type { Redactor } from '../normalize/redact.js'
import type { SpanRow } from '../normalize/row.js'
import { demoteStackedCalls, reportsUsage } from '../normalize/stacked-calls.js'
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
  /** Spans whose start time is outside what the store keeps (startWindow). */
  outOfWindow: number
  problems: string[]
}

export interface PrepareContext {
  prices: PriceTable
  redact?: Redactor | undefined
  /** Where the rows' buffer comes from (event-loop prepare only: a worker's buffer is transferred). */
  pool?: BufferPool | undefined
  /** SPANLENS_RETENTION_DAYS: a span that starts before it is refused (0: no lower bound). */
  retentionDays?: number | undefined
  /**
   * The most bytes of rows one request may become. Each row repeats its
   * resource's attributes, so a small body of many spans can expand far past
   * the body limit (the fuzz found 1.1 MB becoming 288 MB).
   */
  maxRowBytes?: number | undefined
}

/** How far ahead of the server's clock a span may start (client clock skew). */
const MAX_FUTURE_MS = 24 * 3600 * 1000

interface StartWindow {
  earliestNs: string
  latestNs: string
  retentionDays: number
}

/**
 * The start times a span may have and still be kept. Older than the retention,
 * the TTL would drop it at the next merge: acknowledged, never queryable. Much
 * later than now, it lands past what the TTL's toDateTime (2106) and the daily
 * partition's toDate (2149) represent, and both wrap around: such a span could be
 * expired at once too. Each day in the window is a partition, so the window also
 * bounds how many partitions one insert can touch (inserter.ts).
 */
function startWindow(retentionDays: number, nowMs = Date.now()): StartWindow {
  const ms = (t: number) => (BigInt(Math.max(0, Math.trunc(t))) * 1_000_000n).toString()
  return {
    earliestNs: retentionDays > 0 ? ms(nowMs - retentionDays * 86_400_000) : '0',
    latestNs: ms(nowMs + MAX_FUTURE_MS),
    retentionDays,
  }
}

function outsideWindow(startNs: string, w: StartWindow): string | undefined {
  if (compareNs(startNs, w.earliestNs) < 0) {
    return `start_time_unix_nano is older than the ${w.retentionDays}-day retention (SPANLENS_RETENTION_DAYS); it would be deleted at once`
  }
  if (compareNs(startNs, w.latestNs) > 0) return 'start_time_unix_nano is more than 24 h ahead of the server clock'
  return undefined
}

/** decode → validate → normalize → encode. Throws SPANLENS_BAD_OTLP for an undecodable body. */
export function prepare(format: BodyFormat, body: Uint8Array, project: string, ctx: PrepareContext): Prepared {
  const buf = Buffer.from(body.buffer, body.byteOffset, body.byteLength)
  const decoded = buf.length === 0 ? { spans: [], rejected: 0, problems: [] } : format === 'protobuf' ? decodeProtobuf(buf) : decodeJson(buf)
  const problems = [...decoded.problems]
  // A first guess of 2 KB a span, at most 16 MiB: a 64 MiB body of minimal spans
  // (~40 bytes each) would otherwise ask for 3 GB up front.
  const out = new LineWriter(Math.min(decoded.spans.length * 2048, 16 * 1024 * 1024), ctx.pool, ctx.maxRowBytes)
  const options = { prices: ctx.prices, redact: ctx.redact }
  let rows = 0
  let failed = 0
  let outOfWindow = 0
  const window = startWindow(ctx.retentionDays ?? 0)
  const calls: SpanRow[] = []
  const write = (row: SpanRow): boolean => {
    let line: string
    try {
      line = encodeRow(row)
    } catch (err) {
      failed++
      if (problems.length < 5) problems.push(`span ${row.span_id}: ${(err as Error).message}`)
      return false
    }
    out.write(line)
    return true
  }
  for (const span of decoded.spans) {
    const late = outsideWindow(span.startNs, window)
    if (late) {
      outOfWindow++
      if (problems.length < 5) problems.push(`span ${span.spanId}: ${late}`)
      continue
    }
    let row: SpanRow
    try {
      row = normalizeSpan(span, project, options)
    } catch (err) {
      failed++
      if (problems.length < 5) problems.push(`span ${span.spanId}: ${(err as Error).message}`)
      continue
    }
    // Model calls wait for the rest of the request: another span in it may report the same call.
    if (reportsUsage(row)) calls.push(row)
    else if (write(row)) rows++
  }
  demoteStackedCalls(calls)
  for (const row of calls) if (write(row)) rows++
  if (rows === 0) return { payload: null, rows: 0, invalid: decoded.rejected, failed, outOfWindow, problems }
  return { payload: out.bytes(), rows, invalid: decoded.rejected, failed, outOfWindow, problems }
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
    private readonly maxBytes = Number.POSITIVE_INFINITY,
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
    if (this.length > this.maxBytes) {
      this.pool?.give(this.buf)
      throw errors.ROWS_TOO_LARGE(this.maxBytes)
    }
  }

  bytes(): Uint8Array {
    return new Uint8Array(this.buf.buffer, this.buf.byteOffset, this.length)
  }
}
