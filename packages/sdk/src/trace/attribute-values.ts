import type { AttributeValue, Attributes } from '@opentelemetry/api'
import { boundArray, MAX_ARRAY_ITEMS } from '../value-bounds.js'

/**
 * What OpenTelemetry accepts as an attribute (@opentelemetry/core's rules): a
 * non-empty key; a string, number or boolean, or an array of one of those
 * types (null and undefined elements allowed). Null and undefined values pass
 * here and are skipped where they are set. Of an array, only the items a span
 * keeps are checked (value-bounds.ts): checking 5 million was ~20 ms of the app's
 * thread for items that are then left out.
 */

const primitive = (t: string): boolean => t === 'string' || t === 'number' || t === 'boolean'

export function isAttributeValue(v: unknown): v is AttributeValue | null | undefined {
  if (v == null) return true
  if (!Array.isArray(v)) return primitive(typeof v)
  let type: string | undefined
  const n = Math.min(v.length, MAX_ARRAY_ITEMS)
  for (let i = 0; i < n; i++) {
    const e: unknown = v[i]
    if (e == null) continue
    const t = typeof e
    if (t === type) continue
    if (type !== undefined || !primitive(t)) return false
    type = t
  }
  return true
}

/** The valid entries of `attributes` (own keys only). */
export function sanitizeAttributes(attributes: unknown): Attributes {
  const out: Attributes = {}
  if (typeof attributes !== 'object' || attributes === null) return out
  const a = attributes as Record<string, unknown>
  for (const key in a) {
    if (!Object.prototype.hasOwnProperty.call(a, key)) continue
    const v = a[key]
    if (key === '' || !isAttributeValue(v)) continue
    out[key] = v as AttributeValue | undefined
  }
  return out
}

/**
 * `value` as a span keeps it: each string cut to `limit` characters (Infinity, or a limit that is
 * not positive: whole), and an array always copied, so what the caller does to its array later
 * does not change the span (OpenTelemetry's span copies too); only its start is copied when it is
 * over the SDK's bound (value-bounds.ts), which the export would cut anyway: a million items were a
 * million copied on the app's thread.
 */
export function truncateValue<V extends AttributeValue>(value: V, limit: number): V {
  const cut = limit > 0 && limit !== Infinity
  if (typeof value === 'string') return (cut && value.length > limit ? value.slice(0, limit) : value) as V
  if (Array.isArray(value)) {
    const copy = boundArray(value, true)
    if (cut) for (let i = 0; i < copy.length; i++) if (typeof copy[i] === 'string' && (copy[i] as string).length > limit) copy[i] = (copy[i] as string).slice(0, limit)
    return copy as V
  }
  return value
}
