import { errors } from '../errors.js'
import type { BufferPool } from './buffer-pool.js'

/**
 * UTF-8 lines appended into one growing buffer. Joining the lines into one string
 * and encoding that cost the bench more than encoding the rows themselves (the
 * joined string is flattened, measured, then copied again).
 */
export class LineWriter {
  private buf: Buffer
  private length = 0
  /** Lines written. */
  lines = 0

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
    this.lines++
    if (this.length > this.maxBytes) {
      this.pool?.give(this.buf)
      throw errors.ROWS_TOO_LARGE(this.maxBytes)
    }
  }

  bytes(): Uint8Array {
    return new Uint8Array(this.buf.buffer, this.buf.byteOffset, this.length)
  }

  /** Gives the buffer back to the pool when nothing was written (the caller keeps no payload). */
  discard(): void {
    this.pool?.give(this.buf)
  }
}
