import { type AttrValue, type Attrs, setOwn } from './model.js'
import { MAX_ATTRIBUTES, MAX_DEPTH } from './values.js'
import { WIRE_I64, WIRE_LEN, WIRE_VARINT, type WireReader } from './wire.js'

/**
 * OTLP common.proto values from the wire, for every signal's decoder: KeyValue,
 * AnyValue (depth-limited, at most MAX_ATTRIBUTES keys per list) and ids.
 */

const key = (field: number, wireType: number): number => (field << 3) | wireType
const LEN_1 = key(1, WIRE_LEN)
const LEN_2 = key(2, WIRE_LEN)
const VARINT_2 = key(2, WIRE_VARINT)
const VARINT_3 = key(3, WIRE_VARINT)
const I64_4 = key(4, WIRE_I64)
const LEN_5 = key(5, WIRE_LEN)
const LEN_6 = key(6, WIRE_LEN)
const LEN_7 = key(7, WIRE_LEN)

/** bytes id → lower-case hex; '' when empty, 'invalid' when of the wrong size (validation rejects it). */
export function hexId(r: WireReader, bytes: number): string {
  const id = r.hex()
  return id === '' || id.length === bytes * 2 ? id : 'invalid'
}

/** The KeyValue message at pos (length prefix included). */
export function keyValueAt(r: WireReader, out: Attrs, depth: number): void {
  const outer = r.enter()
  keyValueInto(r, out, depth)
  r.leave(outer)
}

/** KeyValue body: key = 1, value = 2 (AnyValue); an absent value is null, as in OTLP JSON. */
function keyValueInto(r: WireReader, out: Attrs, depth: number): void {
  let k = ''
  let value: AttrValue = null
  while (!r.done) {
    const tag = r.tag()
    if (tag === LEN_1) k = r.string()
    else if (tag === LEN_2) {
      const outer = r.enter()
      value = anyValue(r, depth)
      r.leave(outer)
    } else r.skip(tag & 7)
  }
  setOwn(out, k, value)
}

/**
 * AnyValue body, a oneof: string 1, bool 2, int 3, double 4, array 5, kvlist 6,
 * bytes 7. Nesting deeper than MAX_DEPTH becomes a marker and is not read.
 */
export function anyValue(r: WireReader, depth: number): AttrValue {
  let value: AttrValue = null
  while (!r.done) {
    const tag = r.tag()
    switch (tag) {
      case LEN_1:
        value = r.string()
        break
      case VARINT_2:
        value = r.bool()
        break
      case VARINT_3:
        value = r.int64()
        break
      case I64_4:
        value = r.double()
        break
      case LEN_5: {
        if (depth >= MAX_DEPTH) {
          r.skip(WIRE_LEN)
          value = '[max depth exceeded]'
          break
        }
        // ArrayValue.values = 1
        const list: AttrValue[] = []
        const outer = r.enter()
        while (!r.done) {
          const t = r.tag()
          if (t === LEN_1) {
            const inner = r.enter()
            list.push(anyValue(r, depth + 1))
            r.leave(inner)
          } else r.skip(t & 7)
        }
        r.leave(outer)
        value = list
        break
      }
      case LEN_6: {
        if (depth >= MAX_DEPTH) {
          r.skip(WIRE_LEN)
          value = '[max depth exceeded]'
          break
        }
        // KeyValueList.values = 1
        const obj: Attrs = {}
        let count = 0
        const outer = r.enter()
        while (!r.done) {
          const t = r.tag()
          if (t === LEN_1 && count++ < MAX_ATTRIBUTES) keyValueAt(r, obj, depth + 1)
          else r.skip(t & 7)
        }
        r.leave(outer)
        value = obj
        break
      }
      case LEN_7:
        if (depth >= MAX_DEPTH) {
          r.skip(WIRE_LEN)
          value = '[max depth exceeded]'
        } else value = r.base64()
        break
      default:
        r.skip(tag & 7)
    }
  }
  return value
}
