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

  num(key: string): number | undefined {
    const v = this.attrs[key]
    if (typeof v === 'number') return Number.isFinite(v) ? v : undefined
    if (typeof v === 'string' && v.trim() !== '') {
      const n = Number(v)
      return Number.isFinite(n) ? n : undefined
    }
    return undefined
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
