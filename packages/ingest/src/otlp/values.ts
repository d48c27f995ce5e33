import type { AttrValue, Attrs } from './model.js'

/**
 * Shared helpers to turn OTLP AnyValue / KeyValue lists (protobufjs messages or
 * OTLP JSON objects; they use the same lowerCamelCase names) into plain values.
 */

/** Nesting of arrays/kvlists kept; deeper values become a marker. */
export const MAX_DEPTH = 16
/** Attributes kept per list; OTel SDKs default to 128, this only stops abuse. */
export const MAX_ATTRIBUTES = 1024

type Obj = Record<string, unknown>
const has = (o: Obj, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k) && o[k] !== undefined && o[k] !== null

interface LongLike {
  toString(): string
  toNumber(): number
}

function isLong(v: unknown): v is LongLike {
  return typeof v === 'object' && v !== null && typeof (v as LongLike).toNumber === 'function'
}

/** int64 from protobuf (Long), JSON (string or number) → number when exact, else decimal string. */
function int64ToValue(v: unknown): number | string {
  if (typeof v === 'number') return v
  if (typeof v === 'string') {
    if (!/^-?\d+$/.test(v)) throw new TypeError(`invalid int64 ${JSON.stringify(v.slice(0, 40))}`)
    const n = Number(v)
    return Number.isSafeInteger(n) ? n : v
  }
  if (isLong(v)) {
    const n = v.toNumber()
    return Number.isSafeInteger(n) ? n : v.toString()
  }
  throw new TypeError('invalid int64 value')
}

/** An OTLP JSON AnyValue as a plain value (objects for kvlists); deeper than MAX_DEPTH becomes a marker. */
export function anyValue(v: unknown, depth = 0): AttrValue {
  if (v === null || typeof v !== 'object') return null
  const o = v as Obj
  if (has(o, 'stringValue')) return String(o.stringValue)
  if (has(o, 'boolValue')) return Boolean(o.boolValue)
  if (has(o, 'intValue')) return int64ToValue(o.intValue)
  if (has(o, 'doubleValue')) {
    const d = o.doubleValue
    // OTLP JSON may carry "NaN"/"Infinity" strings for doubles.
    return typeof d === 'number' ? d : Number(d)
  }
  if (depth >= MAX_DEPTH) return '[max depth exceeded]'
  if (has(o, 'arrayValue')) {
    const values = ((o.arrayValue as Obj).values as unknown[] | undefined) ?? []
    return values.map((x) => anyValue(x, depth + 1))
  }
  if (has(o, 'kvlistValue')) {
    return keyValues(((o.kvlistValue as Obj).values as unknown[] | undefined) ?? [], depth + 1)
  }
  if (has(o, 'bytesValue')) {
    const b = o.bytesValue
    return typeof b === 'string' ? b : Buffer.from(b as Uint8Array).toString('base64')
  }
  return null
}

export function keyValues(list: unknown, depth = 0): Attrs {
  const out: Attrs = {}
  if (!Array.isArray(list)) return out
  const n = Math.min(list.length, MAX_ATTRIBUTES)
  for (let i = 0; i < n; i++) {
    const kv = list[i] as Obj | null
    if (!kv || typeof kv.key !== 'string') continue
    out[kv.key] = anyValue(kv.value, depth)
  }
  return out
}

/** A 64-bit nanosecond timestamp as a decimal string ("0" when absent). */
export function nanos(v: unknown): string {
  if (v === undefined || v === null) return '0'
  if (typeof v === 'string') {
    if (!/^\d+$/.test(v)) throw new TypeError(`invalid timestamp ${JSON.stringify(v.slice(0, 40))}`)
    return v.replace(/^0+(?=\d)/, '')
  }
  if (typeof v === 'number') {
    if (!Number.isFinite(v) || v < 0) throw new TypeError('invalid timestamp')
    return BigInt(Math.trunc(v)).toString()
  }
  if (isLong(v)) return v.toString()
  throw new TypeError('invalid timestamp')
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

/** Protobuf bytes → lower-case hex; OTLP JSON ids are hex already (base64 tolerated). */
export function idToHex(v: unknown, bytes: number): string {
  if (v === undefined || v === null) return ''
  if (typeof v === 'string') {
    if (v === '') return ''
    if (v.length === bytes * 2 && /^[0-9a-fA-F]+$/.test(v)) return v.toLowerCase()
    // Some older exporters used protobuf-JSON's base64 for ids.
    const b = Buffer.from(v, 'base64')
    if (b.length === bytes && /^[A-Za-z0-9+/=_-]+$/.test(v)) return b.toString('hex')
    return 'invalid'
  }
  if (v instanceof Uint8Array) {
    if (v.length === 0) return ''
    return v.length === bytes ? Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex') : 'invalid'
  }
  // protobufjs leaves absent bytes fields as its default, an empty array.
  if (Array.isArray(v) && v.length === 0) return ''
  return 'invalid'
}
