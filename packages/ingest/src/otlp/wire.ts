/**
 * The protobuf wire format, read straight off the request buffer: varints,
 * fixed-width numbers and length-delimited ranges. Only what the OTLP
 * messages use. Every read is bounds-checked against the end of the message
 * being read, so a truncated or lying length fails with a WireError instead
 * of reading a neighbour's bytes.
 */

export class WireError extends Error {}

export const WIRE_VARINT = 0
export const WIRE_I64 = 1
export const WIRE_LEN = 2
const WIRE_I32 = 5

const TWO_32 = 4294967296

/**
 * hi * 2^32 + lo in decimal, in doubles only: a BigInt per timestamp (two per
 * span) cost more than the rest of reading the span's fixed fields. With
 * hi = a * 2^16 + b and 2^32 = 4e9 + 294967296, 294967296 * 2^16 = 19330e9 + 976710656:
 * value = (4hi + 19330a) * 1e9 + (976710656a + 294967296b + lo), and the last
 * sum stays under 2^53, so every step is exact.
 */
export function uint64Decimal(hi: number, lo: number): string {
  const a = hi >>> 16
  const b = hi & 0xffff
  const rest = a * 976710656 + b * 294967296 + lo
  const nanos = rest % 1e9
  const seconds = 4 * hi + 19330 * a + (rest - nanos) / 1e9
  return seconds === 0 ? String(nanos) : `${seconds}${String(nanos).padStart(9, '0')}`
}

/** Node's Buffer has these unchecked slices; protobufjs reads strings with them too. */
interface FastSlices {
  utf8Slice(start: number, end: number): string
  hexSlice(start: number, end: number): string
  base64Slice(start: number, end: number): string
}

/**
 * One cursor over the whole request. enter()/leave() narrow it to a nested
 * message and back, so walking thousands of nested KeyValue/AnyValue messages
 * allocates no reader objects.
 */
export class WireReader {
  pos = 0
  end: number
  private readonly slices: FastSlices

  constructor(readonly buf: Buffer) {
    this.end = buf.length
    this.slices = buf as unknown as FastSlices
  }

  get done(): boolean {
    return this.pos >= this.end
  }

  /** A field key: field number * 8 + wire type, as protobuf encodes it. */
  tag(): number {
    return this.uint32()
  }

  /** A varint that fits 32 bits (lengths, tags, enums); longer ones keep their low 32 bits. */
  uint32(): number {
    const buf = this.buf
    const end = this.end
    let pos = this.pos
    let value = 0
    for (let shift = 0; shift < 32; shift += 7) {
      if (pos >= end) throw new WireError('truncated varint')
      const b = buf[pos++] as number
      value |= (b & 0x7f) << shift
      if (b < 0x80) {
        this.pos = pos
        return value >>> 0
      }
    }
    // Bytes 6-10 of a 64-bit varint (negative enums): nothing left to keep.
    for (let i = 0; i < 5; i++) {
      if (pos >= end) throw new WireError('truncated varint')
      if ((buf[pos++] as number) < 0x80) {
        this.pos = pos
        return value >>> 0
      }
    }
    throw new WireError('varint longer than 10 bytes')
  }

  /** int64 as a number when exactly representable, else a decimal string (like OTLP JSON). */
  int64(): number | string {
    const buf = this.buf
    let pos = this.pos
    let lo = 0
    let hi = 0
    let i = 0
    for (; i < 10; i++) {
      if (pos >= this.end) throw new WireError('truncated varint')
      const b = buf[pos++] as number
      if (i < 4) lo |= (b & 0x7f) << (7 * i)
      else if (i === 4) {
        lo |= (b & 0x0f) << 28
        hi |= (b & 0x7f) >> 4
      } else hi |= (b & 0x7f) << (7 * i - 32)
      if (b < 0x80) break
    }
    if (i === 10) throw new WireError('varint longer than 10 bytes')
    this.pos = pos
    lo >>>= 0
    // hi is now the signed top half (two's complement), as ToInt32 left it
    if (hi >= -0x200000 && hi < 0x200000) {
      const n = hi * TWO_32 + lo
      if (Number.isSafeInteger(n)) return n
    }
    return ((BigInt(hi) << 32n) + BigInt(lo)).toString()
  }

  bool(): boolean {
    return this.uint32() !== 0
  }

  /** fixed64 unsigned (timestamps in nanoseconds) as a decimal string. */
  fixed64String(): string {
    if (this.pos + 8 > this.end) throw new WireError('truncated fixed64')
    const lo = this.buf.readUInt32LE(this.pos)
    const hi = this.buf.readUInt32LE(this.pos + 4)
    this.pos += 8
    return uint64Decimal(hi, lo)
  }

  double(): number {
    if (this.pos + 8 > this.end) throw new WireError('truncated double')
    const v = this.buf.readDoubleLE(this.pos)
    this.pos += 8
    return v
  }

  /** fixed64 unsigned (counts) as a number: exact up to 2^53, the nearest double beyond. */
  fixed64Number(): number {
    if (this.pos + 8 > this.end) throw new WireError('truncated fixed64')
    const lo = this.buf.readUInt32LE(this.pos)
    const hi = this.buf.readUInt32LE(this.pos + 4)
    this.pos += 8
    return hi * TWO_32 + lo
  }

  /** sfixed64 (integer metric values) as a number: exact up to ±2^53, the nearest double beyond. */
  sfixed64Number(): number {
    if (this.pos + 8 > this.end) throw new WireError('truncated sfixed64')
    const lo = this.buf.readUInt32LE(this.pos)
    const hi = this.buf.readInt32LE(this.pos + 4)
    this.pos += 8
    return hi * TWO_32 + lo
  }

  /** A uint64 varint as a number: exact up to 2^53, the nearest double beyond. */
  uint64Number(): number {
    const v = this.int64()
    return typeof v === 'number' ? (v < 0 ? v + 2 ** 64 : v) : Number(BigInt.asUintN(64, BigInt(v)))
  }

  /** sint32 (zigzag): exponential histogram scales and bucket offsets. */
  sint32(): number {
    const n = this.uint32()
    return (n >>> 1) ^ -(n & 1)
  }

  /** Reads a length prefix; returns the start of the bytes and leaves pos after them. */
  lengthDelimited(): number {
    const len = this.uint32()
    const start = this.pos
    if (start + len > this.end) throw new WireError('length-delimited field runs past the end of its message')
    this.pos = start + len
    return start
  }

  /** Narrows the reader to the nested message at pos; pass the result to leave(). */
  enter(): number {
    const len = this.uint32()
    const end = this.pos + len
    if (end > this.end) throw new WireError('nested message runs past the end of its parent')
    const outer = this.end
    this.end = end
    return outer
  }

  /** Skips whatever is left of the nested message and widens back to its parent. */
  leave(outerEnd: number): void {
    this.pos = this.end
    this.end = outerEnd
  }

  string(): string {
    const start = this.lengthDelimited()
    return this.slices.utf8Slice(start, this.pos)
  }

  /** bytes as lower-case hex. */
  hex(): string {
    const start = this.lengthDelimited()
    return this.slices.hexSlice(start, this.pos)
  }

  base64(): string {
    const start = this.lengthDelimited()
    return this.slices.base64Slice(start, this.pos)
  }

  skip(wireType: number): void {
    switch (wireType) {
      case WIRE_VARINT:
        this.uint32()
        return
      case WIRE_I64:
        this.advance(8)
        return
      case WIRE_LEN:
        this.lengthDelimited()
        return
      case WIRE_I32:
        this.advance(4)
        return
      default:
        // Groups (3, 4) are not used by OTLP; 6 and 7 do not exist.
        throw new WireError(`unsupported wire type ${wireType}`)
    }
  }

  private advance(n: number): void {
    if (this.pos + n > this.end) throw new WireError('truncated field')
    this.pos += n
  }
}
