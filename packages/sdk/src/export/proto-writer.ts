/**
 * The protobuf wire format, written straight into one growing buffer that is
 * reused from message to message. protobufjs's Writer queues an operation
 * object per field and a state object per nested message, then copies them
 * into a new buffer: for an LLM span that was ~150 short-lived objects, and
 * protobufjs was the largest library in the exporter's CPU profile. Here a
 * nested message reserves one byte for its length and moves its bytes only
 * when the length needs more (128 bytes or longer: a long content attribute).
 */

// Hex digit → value, by char code (ids arrive as lowercase or uppercase hex).
const NIBBLE = new Uint8Array(128)
for (let i = 0; i < 10; i++) NIBBLE[48 + i] = i
for (let i = 0; i < 6; i++) NIBBLE[97 + i] = NIBBLE[65 + i] = 10 + i

export const varintSize = (v: number): number => (v < 0x80 ? 1 : v < 0x4000 ? 2 : v < 0x200000 ? 3 : v < 0x10000000 ? 4 : 5)

export class ProtoWriter {
  private buf: Buffer
  private pos = 0
  /** Where each open nested message's length byte is. */
  private readonly open: number[] = []

  constructor(size = 4096) {
    this.buf = Buffer.allocUnsafe(size)
  }

  /** The buffer's size, which the largest message written so far set. */
  get capacity(): number {
    return this.buf.length
  }

  /** Starts a new message in the same buffer. */
  reset(): this {
    this.pos = 0
    this.open.length = 0
    return this
  }

  private room(n: number): void {
    if (this.pos + n <= this.buf.length) return
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n))
    this.buf.copy(next, 0, 0, this.pos)
    this.buf = next
  }

  /** A varint of a non-negative integer below 2^32 (tags, lengths, uint32, and the int32/enum values we write). */
  uint32(v: number): this {
    this.room(5)
    const b = this.buf
    while (v > 0x7f) {
      b[this.pos++] = (v & 0x7f) | 0x80
      v >>>= 7
    }
    b[this.pos++] = v
    return this
  }

  /** int64 as a varint: negatives take ten bytes (two's complement), as protobuf defines it. */
  int64(v: number): this {
    if (v >= 0 && v <= 0xffffffff) return this.uint32(v)
    this.room(10)
    let n = BigInt.asUintN(64, BigInt(v))
    while (n > 0x7fn) {
      this.buf[this.pos++] = Number(n & 0x7fn) | 0x80
      n >>= 7n
    }
    this.buf[this.pos++] = Number(n)
    return this
  }

  bool(v: boolean): this {
    this.room(1)
    this.buf[this.pos++] = v ? 1 : 0
    return this
  }

  double(v: number): this {
    this.room(8)
    this.buf.writeDoubleLE(v, this.pos)
    this.pos += 8
    return this
  }

  fixed32(v: number): this {
    this.room(4)
    this.buf.writeUInt32LE(v >>> 0, this.pos)
    this.pos += 4
    return this
  }

  /** fixed64 from nanoseconds split at 2^32 (exact without BigInt or Long). */
  fixed64(low: number, high: number): this {
    this.room(8)
    this.buf.writeUInt32LE(low >>> 0, this.pos)
    this.buf.writeUInt32LE(high >>> 0, this.pos + 4)
    this.pos += 8
    return this
  }

  /** A length-delimited UTF-8 string. */
  string(s: string): this {
    const len = s.length
    // Attribute keys and most values are short ASCII: encoded here, without a call into C++ (~0.3 µs each).
    if (len <= 42) {
      // At most 42 × 3 = 126 bytes: the length fits in one byte whatever the characters.
      this.room(len * 3 + 1)
      const b = this.buf
      let p = this.pos + 1
      let i = 0
      for (; i < len; i++) {
        const c = s.charCodeAt(i)
        if (c >= 0x80) break
        b[p++] = c
      }
      if (i === len) {
        b[this.pos] = len
        this.pos = p
        return this
      }
    }
    const n = Buffer.byteLength(s, 'utf8')
    this.uint32(n)
    this.room(n)
    ;(this.buf as Buffer & { utf8Write(s: string, offset: number, length: number): number }).utf8Write(s, this.pos, n)
    this.pos += n
    return this
  }

  bytes(b: Uint8Array): this {
    this.uint32(b.length)
    this.room(b.length)
    this.buf.set(b, this.pos)
    this.pos += b.length
    return this
  }

  /** A length-delimited field from a hex string (trace and span ids), without an intermediate Buffer. */
  hex(h: string): this {
    const n = h.length >>> 1
    this.uint32(n)
    this.room(n)
    const b = this.buf
    for (let i = 0; i < n; i++) b[this.pos++] = (NIBBLE[h.charCodeAt(2 * i) & 0x7f] as number) * 16 + (NIBBLE[h.charCodeAt(2 * i + 1) & 0x7f] as number)
    return this
  }

  /** Opens a nested message (its field tag already written); close it with ldelim(). */
  fork(): this {
    this.room(1)
    this.open.push(this.pos++)
    return this
  }

  /** Closes the innermost open nested message, writing its length. */
  ldelim(): this {
    const at = this.open.pop() as number
    const len = this.pos - at - 1
    const size = varintSize(len)
    if (size > 1) {
      // Rare (a nested message of 128 bytes or more): move its bytes to make room for the longer length.
      this.room(size - 1)
      this.buf.copyWithin(at + size, at + 1, this.pos)
      this.pos += size - 1
    }
    let p = at
    let v = len
    while (v > 0x7f) {
      this.buf[p++] = (v & 0x7f) | 0x80
      v >>>= 7
    }
    this.buf[p] = v
    return this
  }

  /** The buffer itself, when it was made to the exact size of what was written (no copy). */
  written(): Uint8Array {
    return this.pos === this.buf.length ? this.buf : this.buf.subarray(0, this.pos)
  }

  /** A copy of what was written since reset(). */
  finish(): Uint8Array {
    const out = Buffer.allocUnsafe(this.pos)
    this.buf.copy(out, 0, 0, this.pos)
    return out
  }
}
