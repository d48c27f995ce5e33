import { cutMark } from './redact-cut.js'

/**
 * The largest name, attribute value and array the SDK sends, whatever the app set. Content and error
 * text are cut at `maxContentLength` instead (init.ts); these bound everything else: a 50 MB string set
 * on a non-content key, a 50 MB span name or a 50 MB attribute key went out whole (the server then
 * stored the key whole), and one such span could get a request refused with 413 by a server or
 * collector with a smaller body limit, losing every span of its batch. Each bound costs a length check
 * on a value under it; only a value over it is read, and only as far as the cut.
 */

/** A span's, an event's or a scope's name, an attribute's key: at most this many characters, marker included (the server keeps names of 1,024). */
export const MAX_NAME_LENGTH = 1024
/** Any other string value: at most this many UTF-8 bytes, marker included (the server keeps an attribute value of 1 MiB). */
export const MAX_VALUE_BYTES = 1024 * 1024
/** An array's items, the marker item included when it was cut (the server reads an embedding of up to 16,384 numbers). */
export const MAX_ARRAY_ITEMS = 16_384

/** A UTF-16 unit is at most 3 bytes of UTF-8 (a surrogate pair, two units, is 4). */
const CHARS_ALWAYS_UNDER = Math.floor(MAX_VALUE_BYTES / 3)
// The longest marker a value cut gets, in UTF-8 bytes: `…` is 3 bytes, the rest ASCII.
const MARK_BYTES = cutMark(Number.MAX_SAFE_INTEGER, 'chars').length + 2
const encoder = new TextEncoder()

/** `name` cut to MAX_NAME_LENGTH characters with its marker; the same string when it is not longer. */
export function boundName(name: string): string {
  return cutToLength(name, MAX_NAME_LENGTH)
}

/** `value` cut to `max` characters, its marker included; the same string when it is not longer. */
function cutToLength(value: string, max: number): string {
  if (value.length <= max) return value
  // The marker for the whole length is at least as long as the one written: the result fits.
  let keep = max - cutMark(value.length, 'chars').length
  if (isHighSurrogate(value.charCodeAt(keep - 1))) keep--
  return `${value.slice(0, keep)}${cutMark(value.length - keep, 'chars')}`
}

/** `value` cut to MAX_VALUE_BYTES of UTF-8 with its marker; the same string when it fits. */
export function boundString(value: string): string {
  if (value.length <= CHARS_ALWAYS_UNDER) return value
  // Only the start is encoded: at most MAX_VALUE_BYTES characters fit, whatever they are.
  const head = value.length > MAX_VALUE_BYTES ? value.slice(0, MAX_VALUE_BYTES) : value
  if (head === value && Buffer.byteLength(value) <= MAX_VALUE_BYTES) return value
  // encodeInto stops before a character that does not fit whole, a surrogate pair included.
  const { read } = encoder.encodeInto(head, new Uint8Array(MAX_VALUE_BYTES - MARK_BYTES))
  return `${value.slice(0, read)}${cutMark(value.length - read, 'chars')}`
}

/**
 * `list`, or a copy of its start: at most MAX_ARRAY_ITEMS items, and strings of MAX_VALUE_BYTES
 * characters together (so at most 3 MiB of UTF-8), the last item the marker (a string, in an array of
 * any type) when items were left out. A first string alone over that is kept, cut to fit. What
 * this returns is within the bounds, so the exporter leaves an array the span cut as it is. `copy`: a
 * copy even when nothing is cut.
 */
export function boundArray(list: readonly unknown[], copy: boolean): unknown[] {
  if (list.length <= MAX_ARRAY_ITEMS && stringsWithin(list, MAX_VALUE_BYTES)) return copy ? list.slice() : (list as unknown[])
  // Room for the marker item, in the count and in the characters.
  const most = Math.min(list.length, MAX_ARRAY_ITEMS - 1)
  let budget = MAX_VALUE_BYTES - ITEMS_MARK_LENGTH
  let kept = 0
  for (; kept < most; kept++) {
    const e = list[kept]
    if (typeof e !== 'string') continue
    if (e.length > budget) break
    budget -= e.length
  }
  const out = list.slice(0, kept)
  if (kept === 0) {
    // A first string alone over the budget (the strings' check failed, so the first item is one).
    out.push(cutToLength(list[0] as string, budget))
    kept = 1
  }
  if (kept < list.length) out.push(cutMark(list.length - kept, 'items'))
  return out
}

/** Whether the strings of `list` are `budget` characters or fewer together. */
function stringsWithin(list: readonly unknown[], budget: number): boolean {
  for (let i = 0; i < list.length; i++) {
    const e = list[i]
    if (typeof e === 'string' && (budget -= e.length) < 0) return false
  }
  return true
}

const ITEMS_MARK_LENGTH = cutMark(Number.MAX_SAFE_INTEGER, 'items').length
const isHighSurrogate = (c: number): boolean => c >= 0xd800 && c <= 0xdbff
