/**
 * What a cut keeps of a long value, redacted, reading only about as much of the value as it keeps.
 *
 * Redacting the whole value before the cut reads all of it: ~0.6 s of the app's thread for a 50 MB
 * string passed to a traced function, for 100,000 characters kept. Redacting only the kept
 * characters would miss a secret the cut splits ("reach me at robert.…": the address is gone, its
 * first part stays). So the read ends at a boundary: a character that no built-in pattern can hold
 * (redact-patterns.ts: none holds a quote, a comma, `:;!?'<>[]{}*&#$^|` or a character past ASCII
 * that is not a space), and that is no part of an escape sequence (redact-escaped.ts decodes a
 * backslash and the letters or hex digits after it, none of them a boundary). No match of the full
 * value contains that character, and a regex deciding a match before it reads at most that character
 * past it (`\b`, the card pattern's next character): every match before it, each pattern run on the
 * previous one's result, is the same in the value and in the value up to it. The text up to the
 * boundary, redacted, is therefore exactly the start of the whole value redacted. The one difference:
 * a card written as a JSON number becomes the marker without quotes, as the read part is not JSON.
 */

/** The start of a value as a cut keeps it, and how many characters were cut off. */
export interface Kept {
  text: string
  /** Characters not kept: of the redacted text that was read, and of the value after it as it is. */
  cut: number
  /** The value went on past what the cut was given (a serialization stopped early): `cut` is a floor. */
  more: boolean
}

/**
 * How far past the cut a boundary is looked for. Without one there, the run of pattern characters
 * the cut falls in (base64, a hex dump, a long word) is left out whole, from the last boundary before
 * it: reading on to its end could mean reading the whole value.
 */
export const BOUNDARY_SCAN = 16_384
/** A value whose redaction shrank it (a key of hundreds of characters becomes 18) is read further, this many times at most. */
const ROUNDS = 3

/** The longest cut marker, for limits that hold a marked value whole. */
export const MAX_MARK_LENGTH = mark({ text: '', cut: Number.MAX_SAFE_INTEGER, more: true }).length

/**
 * The first `max` characters of `value` redacted (all of it when it is not longer), reading at most
 * about `max` + BOUNDARY_SCAN characters of it per round. `more`: `value` is only the start of the
 * value (what was read of it).
 */
export function keptPrefix(value: string, max: number, redact: ((value: string) => string) | undefined, more = false): Kept {
  if (!redact) {
    const kept = value.length > max ? value.slice(0, max) : value
    return { text: kept, cut: value.length - kept.length, more }
  }
  let end = max
  for (let round = 1; ; round++) {
    let stop = boundaryAfter(value, end, more)
    const backward = stop < 0
    if (backward) stop = boundaryBefore(value, Math.min(end, value.length))
    const text = redact(stop === value.length ? value : value.slice(0, stop))
    const rest = value.length - stop
    if (text.length > max) return { text: text.slice(0, max), cut: text.length - max + rest, more }
    if ((rest === 0 && !more) || backward || round === ROUNDS) return { text, cut: rest, more }
    // Redaction shrank what was read: read on for the characters still to keep.
    end = stop + (max - text.length) + 1
  }
}

/** A kept start with the cut marked: `…[truncated N chars]`, the value as it was when nothing was cut. */
function mark(kept: Kept): string {
  if (kept.cut === 0 && !kept.more) return kept.text
  return `${kept.text}${cutMark(kept.cut, 'chars', kept.more)}`
}

/** What ends a cut value (or, as `items`, a cut array): every cut the SDK makes is marked alike. */
export function cutMark(cut: number, unit: 'chars' | 'items', more = false): string {
  return `…[truncated ${more ? 'more than ' : ''}${cut} ${unit}]`
}

/** `value` cut to `max` characters, redacted first over what the cut keeps, and marked. */
export function cutMarked(value: string, max: number, redact: ((value: string) => string) | undefined, more = false): string {
  return mark(keptPrefix(value, max, redact, more))
}

/**
 * The index after the first boundary at or after `from`, within BOUNDARY_SCAN; the value's length when
 * it ends first (unless `more`: it does not end there); -1 when there is none.
 */
function boundaryAfter(value: string, from: number, more: boolean): number {
  if (from >= value.length) return more ? -1 : value.length
  const limit = Math.min(value.length, from + BOUNDARY_SCAN)
  for (let i = from; i < limit; i++) if (isBoundary(value.charCodeAt(i))) return i + 1
  return limit === value.length && !more ? limit : -1
}

/** The index after the last boundary before `from`, 0 when there is none. */
function boundaryBefore(value: string, from: number): number {
  for (let i = from - 1; i >= 0; i--) if (isBoundary(value.charCodeAt(i))) return i + 1
  return 0
}

/** By char code below 128: 1 where a character can be part of no built-in pattern's match and of no escape. */
const ASCII_BOUNDARY = new Uint8Array(128)
for (let c = 0; c < 128; c++) {
  const ch = String.fromCharCode(c)
  ASCII_BOUNDARY[c] = /[A-Za-z0-9._%+\-@~/=()\\]/.test(ch) || /\s/.test(ch) ? 0 : 1
}

function isBoundary(c: number): boolean {
  if (c < 128) return ASCII_BOUNDARY[c] === 1
  // A surrogate is half a character: cutting after it would split one. The patterns' `\s` has spaces past ASCII.
  if (c >= 0xd800 && c <= 0xdfff) return false
  return !/\s/.test(String.fromCharCode(c))
}
