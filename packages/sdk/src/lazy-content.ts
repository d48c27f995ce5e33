import type { ReadableSpan } from '@opentelemetry/sdk-trace-base'
import { toJson } from './content.js'

/**
 * Content attributes (prompts, completions) whose JSON is written when the span
 * is exported, in the background, instead of during the app's call. Only for
 * values that cannot change after the call: message lists the SDK built itself
 * whose leaves are strings, numbers or booleans (strings are immutable, the
 * containers are ours). Anything holding an app object (tool schemas, parsed
 * tool arguments) is serialized at once, as before; so is anything longer than
 * the truncation limit, so a deferred span never holds more text than the
 * exported one would.
 *
 * Used only when the SDK runs its own provider: an app's own span processors
 * (attach mode) read `span.attributes` themselves and must see the content.
 */

const PENDING = Symbol('spanlens.pendingContent')

interface Pending {
  max: number
  /** key, value, key, value… */
  entries: unknown[]
}

type WithPending = { [PENDING]?: Pending }

/** Total string length of a flat parts list, or -1 when it holds anything but primitives. */
function flatLength(value: unknown, depth: number): number {
  if (typeof value === 'string') return value.length
  if (typeof value === 'number' || typeof value === 'boolean' || value === undefined || value === null) return 0
  if (depth === 0 || typeof value !== 'object') return -1
  let total = 0
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const n = flatLength(value[i], depth - 1)
      if (n < 0) return -1
      total += n
    }
    return total
  }
  for (const k in value) {
    const n = flatLength((value as Record<string, unknown>)[k], depth - 1)
    if (n < 0) return -1
    total += n
  }
  return total
}

/**
 * True when `value` (built by the SDK, see above) may be serialized later:
 * nothing in it can change, and it is within the truncation limit.
 */
export function isSettled(value: unknown, max: number): boolean {
  // messages → message → parts → part → field: depth 4 reaches every leaf.
  const n = flatLength(value, 4)
  return n >= 0 && n <= max
}

/** Records a settled `value` under `key`, to be serialized at export. */
export function setPendingContent(span: object, key: string, value: unknown, max: number): void {
  const s = span as WithPending
  const p = s[PENDING]
  if (p) p.entries.push(key, value)
  else s[PENDING] = { max, entries: [key, value] }
}

/** Writes a span's deferred content attributes as JSON strings. Idempotent; cheap when there are none. */
export function materializeContent(span: ReadableSpan): void {
  const s = span as ReadableSpan & WithPending
  const p = s[PENDING]
  if (!p) return
  s[PENDING] = undefined
  const attrs = span.attributes as Record<string, unknown>
  for (let i = 0; i < p.entries.length; i += 2) attrs[p.entries[i] as string] = toJson(p.entries[i + 1], p.max)
}
