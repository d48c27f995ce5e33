import type { AttrValue, Attrs } from '../otlp/model.js'

/** Typed reads over a span's attributes; every getter returns undefined for "absent or unusable". */
export class AttrReader {
  constructor(
    readonly attrs: Attrs,
    readonly resource: Attrs,
  ) {}

  raw(key: string): AttrValue | undefined {
    const v = this.attrs[key]
    return v === null ? undefined : v
  }

  str(key: string): string | undefined {
    const v = this.attrs[key]
    if (typeof v === 'string') return v === '' ? undefined : v
    if (typeof v === 'number' || typeof v === 'boolean') return String(v)
    return undefined
  }

  /** A count (tokens): see readCount. */
  count(key: string): number | undefined {
    return readCount(this.attrs[key])
  }

  /** A non-negative quantity (a duration): see readNumber. */
  amount(key: string): number | undefined {
    const n = readNumber(this.attrs[key])
    return n !== undefined && n >= 0 ? n : undefined
  }

  /** A string array attribute, or a JSON-encoded one, or a single string. */
  strList(key: string): string[] | undefined {
    const v = this.attrs[key]
    if (Array.isArray(v)) return v.filter((x): x is string => typeof x === 'string')
    if (typeof v === 'string' && v !== '') {
      if (v.startsWith('[')) {
        try {
          const parsed: unknown = JSON.parse(v)
          if (Array.isArray(parsed)) return parsed.map(String)
        } catch {
          // not JSON: a single value
        }
      }
      return [v]
    }
    return undefined
  }

  /** A JSON object attribute (kvlist or JSON string). */
  obj(key: string): Record<string, unknown> | undefined {
    const v = this.attrs[key]
    if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>
    if (typeof v === 'string' && v.startsWith('{')) {
      try {
        const parsed: unknown = JSON.parse(v)
        if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as Record<string, unknown>
      } catch {
        return undefined
      }
    }
    return undefined
  }

  res(key: string): string | undefined {
    const v = this.resource[key]
    if (typeof v === 'string') return v === '' ? undefined : v
    if (typeof v === 'number' || typeof v === 'boolean') return String(v)
    return undefined
  }
}

const DIGITS = /^[0-9]+$/
const DECIMAL = /^-?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?$/

/**
 * A count as the conventions send one: an int, a double that is a whole number, or a
 * string of decimal digits (an int64 past 2^53 decodes to one); never negative.
 * Anything else is no count, and the next source of the field is tried: Number()
 * read "0x10" as 16, " 5 " as 5 and "1e3" as 1000, and the column then took 12 for "12.7".
 */
export function readCount(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isInteger(v) && v >= 0 ? v : undefined
  if (typeof v !== 'string' || !DIGITS.test(v)) return undefined
  const n = Number(v)
  return Number.isFinite(n) ? n : undefined
}

/**
 * A finite number, or a string in decimal notation (digits, an optional fraction and
 * exponent, as a double prints: "0.35", "1e-05"); no hex, blanks, "Infinity" or "".
 */
export function readNumber(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined
  if (typeof v !== 'string' || !DECIMAL.test(v)) return undefined
  const n = Number(v)
  return Number.isFinite(n) ? n : undefined
}

/** An attribute value flattened to the string a Map(String, String) column stores; undefined for null. */
export function attrString(v: AttrValue | undefined): string | undefined {
  if (v === null || v === undefined) return undefined
  return typeof v === 'string' ? v : typeof v === 'object' ? JSON.stringify(v) : String(v)
}

/** JSON text as a value; undefined when it is not JSON. */
export function parseJson(v: string): unknown {
  try {
    return JSON.parse(v)
  } catch {
    return undefined
  }
}

/** A JSON object (or kvlist): not null, not a list. */
export const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v)
