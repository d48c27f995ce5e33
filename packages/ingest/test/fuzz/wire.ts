/**
 * Protobuf wire format as a tree the mutators can edit: a message is a list of
 * fields, each a varint (0), fixed64 (1), length-delimited (2) or fixed32 (5).
 * Written by hand, apart from the server's codec and from protobufjs, so it can
 * also write what neither would: invalid UTF-8, unknown or repeated fields,
 * overlong varints and lengths that lie.
 */
export type WireValue = bigint | Buffer | WireField[]

export interface WireField {
  no: number
  /** 0 varint, 1 fixed64, 2 length-delimited, 3/4 group start/end (deprecated), 5 fixed32 */
  wt: 0 | 1 | 2 | 3 | 4 | 5
  /** varint: bigint; fixed64/fixed32: 8/4-byte Buffer; length-delimited: Buffer or a nested message */
  v: WireValue
  /** Overrides the encoded length prefix of a length-delimited field (a lie the mutators tell). */
  lengthOverride?: bigint
  /** Extra 0x80 bytes padded into this field's varint (still valid, but overlong). */
  varintPad?: number
  /** What the field is in OTLP terms ('span.start', 'kv.key', ...): lets mutators aim; never encoded. */
  tag?: string
}

const MASK64 = (1n << 64n) - 1n

export function varint(n: bigint, pad = 0): Buffer {
  let v = n & MASK64
  const out: number[] = []
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80)
    v >>= 7n
  }
  if (pad > 0) {
    out.push(Number(v) | 0x80)
    for (let i = 1; i < pad; i++) out.push(0x80)
    out.push(0)
  } else out.push(Number(v))
  return Buffer.from(out)
}

export function fixed64(n: bigint): Buffer {
  const b = Buffer.alloc(8)
  b.writeBigUInt64LE(n & MASK64)
  return b
}

export function fixed32(n: number): Buffer {
  const b = Buffer.alloc(4)
  b.writeUInt32LE(n >>> 0)
  return b
}

export function double(n: number): Buffer {
  const b = Buffer.alloc(8)
  b.writeDoubleLE(n)
  return b
}

export function encodeMessage(fields: WireField[]): Buffer {
  const parts: Buffer[] = []
  for (const f of fields) {
    parts.push(varint((BigInt(f.no) << 3n) | BigInt(f.wt)))
    switch (f.wt) {
      case 0:
        parts.push(varint(f.v as bigint, f.varintPad))
        break
      case 1:
      case 5:
        parts.push(f.v as Buffer)
        break
      case 2: {
        const body = Array.isArray(f.v) ? encodeMessage(f.v) : (f.v as Buffer)
        parts.push(varint(f.lengthOverride ?? BigInt(body.length), f.varintPad), body)
        break
      }
      case 3:
        if (Array.isArray(f.v)) parts.push(encodeMessage(f.v), varint((BigInt(f.no) << 3n) | 4n))
        break
      case 4:
        break
    }
  }
  return Buffer.concat(parts)
}

/** Field helpers for building messages. */
export const pb = {
  varint: (no: number, v: bigint | number | boolean): WireField => ({ no, wt: 0, v: BigInt(typeof v === 'boolean' ? Number(v) : v) }),
  /** int64/int32 as protobuf writes negatives: two's complement in 10 bytes. */
  int: (no: number, v: bigint | number): WireField => ({ no, wt: 0, v: BigInt(v) & MASK64 }),
  fixed64: (no: number, v: bigint): WireField => ({ no, wt: 1, v: fixed64(v) }),
  fixed32: (no: number, v: number): WireField => ({ no, wt: 5, v: fixed32(v) }),
  double: (no: number, v: number): WireField => ({ no, wt: 1, v: double(v) }),
  bytes: (no: number, v: Buffer): WireField => ({ no, wt: 2, v }),
  string: (no: number, v: string | Buffer): WireField => ({ no, wt: 2, v: typeof v === 'string' ? Buffer.from(v, 'utf8') : v }),
  message: (no: number, fields: WireField[]): WireField => ({ no, wt: 2, v: fields }),
}

/** Every field of the tree, depth first, with its parent list (for in-place edits). */
export function walk(fields: WireField[], visit: (f: WireField, parent: WireField[], depth: number) => void, depth = 0): void {
  for (const f of [...fields]) {
    visit(f, fields, depth)
    if (Array.isArray(f.v)) walk(f.v, visit, depth + 1)
  }
}

export function cloneFields(fields: WireField[]): WireField[] {
  return fields.map((f) => ({ ...f, v: Array.isArray(f.v) ? cloneFields(f.v) : f.v }))
}
