import { type AttrValue, type Attrs, setOwn } from './model.js'
import { MAX_INTEGER_DIGITS, noteUnsafeInteger } from './exact-json.js'
import { JsonTypeError, field, isObj, protoName, shown } from './json-fields.js'

/**
 * OTLP JSON AnyValue / KeyValue lists as plain values, read by proto3 JSON's rules
 * (a value of the wrong JSON type is refused, never converted), and the scalar
 * fields every signal's JSON decoder shares: timestamps, 64-bit integers, doubles, ids.
 */

/** Nesting of arrays/kvlists kept; deeper values become a marker. */
export const MAX_DEPTH = 16
/** Attributes kept per list; OTel SDKs default to 128, this only stops abuse. */
export const MAX_ATTRIBUTES = 1024
/**
 * Events and links kept per span, the first ones; OTel SDKs default to 128 each. Eight
 * times that keeps an agent run that records a GenAI event per message, while a span of
 * 20,000 events (stored whole, one row of nested arrays) no longer is; the number left
 * out is recorded on the span (normalize.ts).
 */
export const MAX_EVENTS = 1000
export const MAX_LINKS = 1000

/**
 * A value inside an attribute whose JSON type is not its field's: where it is (the keys
 * and indexes down to it) and what the field takes. The item holding it is refused.
 */
export class ValueTypeError extends JsonTypeError {
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super(`attribute ${path}: ${reason}`)
  }

  within(step: string): ValueTypeError {
    return new ValueTypeError(step + this.path, this.reason)
  }
}

type AnyKind = 'stringValue' | 'boolValue' | 'intValue' | 'doubleValue' | 'arrayValue' | 'kvlistValue' | 'bytesValue'
/** AnyValue's oneof members by JSON name and by proto name. A Map: a key such as `__proto__` finds nothing. */
const ANY_VALUE = new Map<string, AnyKind>(
  (['stringValue', 'boolValue', 'intValue', 'doubleValue', 'arrayValue', 'kvlistValue', 'bytesValue'] as const).flatMap((k) => [
    [k, k],
    [protoName(k), k],
  ]),
)

/** An OTLP JSON AnyValue as a plain value (objects for kvlists); deeper than MAX_DEPTH becomes a marker. */
export function anyValue(v: unknown, depth = 0): AttrValue {
  if (v === undefined || v === null) return null
  if (!isObj(v)) throw new ValueTypeError('', `value must be an AnyValue object, not ${shown(v)}`)
  let kind: AnyKind | undefined
  let x: unknown
  for (const name in v) {
    const k = ANY_VALUE.get(name)
    if (k === undefined || v[name] === undefined || v[name] === null) continue
    // A oneof given twice: which value was meant is unknown.
    if (kind !== undefined) throw new ValueTypeError('', `AnyValue has more than one value (${kind}, ${k})`)
    kind = k
    x = v[name]
  }
  switch (kind) {
    case undefined:
      return null
    case 'stringValue':
      if (typeof x !== 'string') throw new ValueTypeError('', `stringValue must be a string, not ${shown(x)}`)
      return x
    case 'boolValue':
      if (typeof x !== 'boolean') throw new ValueTypeError('', `boolValue must be a JSON boolean (true or false), not ${shown(x)}`)
      return x
    case 'intValue': {
      const n = jsonInteger(x, true)
      if (n === undefined) throw new ValueTypeError('', `intValue must be an integer within int64 (a JSON number or a decimal string), not ${shown(x)}`)
      return n
    }
    case 'doubleValue': {
      const d = jsonDouble(x)
      if (d === undefined) throw new ValueTypeError('', `doubleValue must be a number (a JSON number, a numeric string, "NaN", "Infinity" or "-Infinity"), not ${shown(x)}`)
      return d
    }
    case 'bytesValue':
      // Stored as standard base64, as the protobuf decoder writes bytes; URL-safe and unpadded forms are the same bytes.
      if (typeof x !== 'string' || !BASE64.test(x) || x.replace(/=+$/, '').length % 4 === 1) throw new ValueTypeError('', `bytesValue must be a base64 string, not ${shown(x)}`)
      return Buffer.from(x, 'base64').toString('base64')
    case 'arrayValue':
    case 'kvlistValue': {
      if (!isObj(x)) throw new ValueTypeError('', `${kind} must be an object with a values list, not ${shown(x)}`)
      if (depth >= MAX_DEPTH) return '[max depth exceeded]'
      const values = field(x, 'values')
      if (values !== undefined && values !== null && !Array.isArray(values)) throw new ValueTypeError('', `${kind}.values must be a list, not ${shown(values)}`)
      if (kind === 'kvlistValue') return keyValues(values, depth + 1)
      const list = (values ?? []) as unknown[]
      const out: AttrValue[] = []
      for (let i = 0; i < list.length; i++) {
        try {
          out.push(anyValue(list[i], depth + 1))
        } catch (err) {
          throw err instanceof ValueTypeError ? err.within(`[${i}]`) : err
        }
      }
      return out
    }
  }
}

const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/

/**
 * A KeyValue list (attributes, a kvlist's values) as an object. At most MAX_ATTRIBUTES
 * are read; a later duplicate key wins, as in the protobuf decoder, and an absent key is
 * proto3's default, ''.
 */
export function keyValues(list: unknown, depth = 0): Attrs {
  const out: Attrs = {}
  if (list === undefined || list === null) return out
  if (!Array.isArray(list)) throw new JsonTypeError(`attributes must be a list of KeyValue, not ${shown(list)}`)
  const n = Math.min(list.length, MAX_ATTRIBUTES)
  const sep = depth === 0 ? '' : '.'
  for (let i = 0; i < n; i++) {
    const kv = list[i]
    if (!isObj(kv)) throw new ValueTypeError(`${sep}[${i}]`, `a KeyValue must be an object, not ${shown(kv)}`)
    const key = kv.key ?? ''
    if (typeof key !== 'string') throw new ValueTypeError(`${sep}[${i}]`, `key must be a string, not ${shown(key)}`)
    try {
      setOwn(out, key, anyValue(kv.value, depth))
    } catch (err) {
      throw err instanceof ValueTypeError ? err.within(sep + JSON.stringify(key)) : err
    }
  }
  return out
}

const INT64 = { min: -(2n ** 63n), max: 2n ** 63n - 1n }
const UINT64 = { min: 0n, max: 2n ** 64n - 1n }

/**
 * A proto3 JSON 64-bit integer: a JSON number or a string, in any form proto3 JSON takes
 * for one (digits, a fraction of zeros, an exponent: `1796600219921456789.0`, `"1.5e3"`),
 * whose value is an integer within int64 (signed) or uint64. A number when a double holds
 * it exactly, else its decimal text; undefined when v is no such integer (`1.5`, `"15e-1"`).
 */
export function jsonInteger(v: unknown, signed: boolean): number | string | undefined {
  const range = signed ? INT64 : UINT64
  if (typeof v === 'number') {
    // JSON.parse rounds what a double cannot hold: an integer past 2^53, and from 2^52 on
    // any fraction (4503599627370497.5 becomes 4503599627370498). The body is then read
    // again with such literals as their text (exact-json.ts), which is checked below.
    // Below 2^52 a fraction finer than a double holds there (1.0000000000000001) is lost
    // to JSON.parse before any decoder sees it: such a value reads as the integer it rounds to.
    if (Number.isInteger(v) && Math.abs(v) >= 2 ** 52) noteUnsafeInteger()
    return Number.isInteger(v) && v >= Number(range.min) && v < Number(range.max) + 1 ? v : undefined
  }
  if (typeof v !== 'string') return undefined
  const text = /^-?\d+$/.test(v) ? v : integerText(v)
  if (text === undefined) return undefined
  // Up to 15 digits is always a safe integer: no BigInt for the common case.
  if (text.length <= 15) {
    const n = Number(text) || 0
    return n >= Number(range.min) ? n : undefined
  }
  const b = BigInt(text)
  if (b < range.min || b > range.max) return undefined
  const n = Number(b)
  return Number.isSafeInteger(n) ? n : b.toString()
}

/** A JSON number's text, in parts: sign, integer digits, fraction digits, exponent. Leading zeros are let through, as in plain digit strings. */
const NUMBER_TEXT = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/

/**
 * The integer a JSON number's text denotes, as decimal digits with no exponent
 * (`1.5e3` → `1500`, `-2.000` → `-2`); undefined when it has a fraction, has more digits
 * than any 64-bit integer, or is no JSON number. Exact at any length: no double is involved.
 */
function integerText(text: string): string | undefined {
  const m = NUMBER_TEXT.exec(text)
  if (!m) return undefined
  const [, sign = '', whole = '', fraction = '', exponent = '0'] = m
  const digits = (whole + fraction).replace(/^0+/, '')
  if (digits === '') return '0'
  // The value is digits × 10^shift.
  const shift = Number(exponent) - fraction.length
  if (shift >= 0) {
    if (digits.length + shift > MAX_INTEGER_DIGITS) return undefined
    return sign + digits + '0'.repeat(shift)
  }
  const cut = digits.length + shift
  if (cut <= 0 || !/^0+$/.test(digits.slice(cut))) return undefined
  return sign + digits.slice(0, cut)
}

/**
 * A proto3 JSON enum given as its number: an integral JSON number within int32. Whether
 * the enum knows the value is the decoder's question (proto3 enums are open).
 */
export function isJsonEnumNumber(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= -(2 ** 31) && v < 2 ** 31
}

/** A proto3 JSON double: a JSON number, or the same as a string, or "NaN", "Infinity", "-Infinity". */
export function jsonDouble(v: unknown): number | undefined {
  if (typeof v === 'number') return v
  if (typeof v !== 'string') return undefined
  if (v === 'NaN') return Number.NaN
  if (v === 'Infinity') return Number.POSITIVE_INFINITY
  if (v === '-Infinity') return Number.NEGATIVE_INFINITY
  if (!JSON_NUMBER.test(v)) return undefined
  const d = Number(v)
  // "1e400": proto3 JSON refuses a value its type cannot hold.
  return Number.isFinite(d) ? d : undefined
}

const JSON_NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/

/** A 64-bit nanosecond timestamp as a decimal string ("0" when absent). */
export function nanos(v: unknown, name: string): string {
  if (v === undefined || v === null) return '0'
  const n = jsonInteger(v, false)
  if (n === undefined) throw new JsonTypeError(`${name} must be a non-negative integer (a JSON number or a decimal string) within uint64, not ${shown(v)}`)
  // A number of 22 digits or more prints in exponent form: BigInt writes it out.
  return typeof n === 'number' ? BigInt(n).toString() : n
}

/**
 * Orders two timestamps as nanos() returns them (digits, no leading zeros):
 * by length, then by text. Two BigInt parses per span cost more than the rest
 * of validation together.
 */
export function compareNs(a: string, b: string): number {
  if (a.length !== b.length) return a.length - b.length
  return a < b ? -1 : a > b ? 1 : 0
}

/**
 * The ids of what may point at a span (a log record, an exemplar): none, a trace, or a
 * span of a trace. All-zero ids, the invalid span context some SDKs send outside a span,
 * are set to none here. Why the ids cannot be stored, or undefined.
 */
export function spanPointerProblem(ids: { traceId: string; spanId: string }): string | undefined {
  if (ids.traceId === ZERO_TRACE) ids.traceId = ''
  if (ids.spanId === ZERO_SPAN) ids.spanId = ''
  if (ids.traceId !== '' && ids.traceId.length !== 32) return 'invalid trace_id (expected 16 bytes or none)'
  if (ids.spanId !== '' && ids.spanId.length !== 16) return 'invalid span_id (expected 8 bytes or none)'
  if (ids.spanId !== '' && ids.traceId === '') return 'span_id without trace_id'
  return undefined
}

const ZERO_TRACE = '0'.repeat(32)
const ZERO_SPAN = '0'.repeat(16)

/**
 * An OTLP JSON id as lower-case hex ('' when absent). Hex as OTLP JSON writes it, or the
 * base64 of protobuf's JSON mapping that older exporters send. Anything else is 'invalid',
 * which no id length check accepts: every id field is validated before it is stored.
 */
export function idToHex(v: unknown, bytes: number): string {
  if (v === undefined || v === null || v === '') return ''
  if (typeof v !== 'string') return 'invalid'
  if (v.length === bytes * 2 && /^[0-9a-fA-F]+$/.test(v)) return v.toLowerCase()
  const b = Buffer.from(v, 'base64')
  if (b.length === bytes && /^[A-Za-z0-9+/=_-]+$/.test(v)) return b.toString('hex')
  return 'invalid'
}
