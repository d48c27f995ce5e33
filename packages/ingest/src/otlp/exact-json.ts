/**
 * OTLP JSON with every 64-bit integer exact. proto3 JSON writes int64 and uint64 as
 * decimal strings, but encoders also send JSON numbers (OpenTelemetry JS wrote
 * timestamps as numbers before 0.49; hand-written clients do), and JSON.parse rounds a
 * number past 2^53 to the nearest double: a nanosecond timestamp moves by up to 256 ns,
 * an intValue by up to 1,024. The Collector (Go) reads them exactly, and so do we.
 *
 * The rounding cannot be undone after the parse, and scanning every body before it
 * costs ~30% of JSON.parse (0.7–1 ms per 1.3 MB measured, whatever the regex, as the
 * body's timestamps are digit runs too). So the body is parsed as usual, and only when
 * its decoder meets an integer JSON.parse may have rounded (`noteUnsafeInteger`) is it
 * read again, with every number literal whose value has 16 digits or more before its
 * point turned into the string proto3 JSON allows in its place: integers, and the forms
 * with a fraction or an exponent that an integer field takes too
 * (`1796600219921456789.0`, `1.7966002199214568e18`). A double field accepts that string
 * as well (values.ts `jsonDouble`), so the second read changes no value but the rounded ones.
 */

let unsafeIntegerSeen = false

/** Called by a JSON decoder that was given, for an integer field, a JSON number JSON.parse may have rounded. */
export function noteUnsafeInteger(): void {
  unsafeIntegerSeen = true
}

/**
 * Runs `read` over the body as JSON.parse gives it, and again over the exact parse when
 * that first read met an integer JSON.parse may have rounded. `read` starts afresh each
 * time (its results from the first read are dropped).
 */
export function readExactly<T>(body: Buffer, read: (parsed: () => unknown) => T): T {
  unsafeIntegerSeen = false
  const text = body.toString('utf8')
  const first = read(() => JSON.parse(text))
  if (!unsafeIntegerSeen) return first
  unsafeIntegerSeen = false
  return read(() => JSON.parse(longIntegersQuoted(text)))
}

/** Values with this many digits may be past 2^52 (4,503,599,627,370,496 has 16), where a double holds no fraction. */
const LONG = 16
/** The most digits a 64-bit integer has (uint64's largest). */
export const MAX_INTEGER_DIGITS = 20

const QUOTE = 0x22
const BACKSLASH = 0x5c
const MINUS = 0x2d
const ZERO = 0x30
const NINE = 0x39
const DOT = 0x2e
const LOWER_E = 0x65
const UPPER_E = 0x45

/**
 * The JSON text with each number literal that may be a rounded 64-bit integer, outside
 * strings, written as a string: `{"intValue":9007199254740993}` → `{"intValue":"9007199254740993"}`,
 * `1796600219921456789.0` → `"1796600219921456789.0"`. Those are the integer literals of
 * LONG digits or more, and the literals with a fraction or an exponent whose value has
 * LONG to MAX_INTEGER_DIGITS digits before its point: one with more is no 64-bit integer
 * whatever its form, and stays the double JSON.parse makes of it. Text that is not JSON
 * comes out changed only where it held such literals: JSON.parse refuses it as before.
 */
export function longIntegersQuoted(text: string): string {
  const parts: string[] = []
  let copied = 0
  let i = 0
  const n = text.length
  while (i < n) {
    const c = text.charCodeAt(i)
    if (c === QUOTE) {
      i++
      while (i < n) {
        const d = text.charCodeAt(i)
        if (d === BACKSLASH) i += 2
        else if (d === QUOTE) break
        else i++
      }
      i++
      continue
    }
    if (c !== MINUS && (c < ZERO || c > NINE)) {
      i++
      continue
    }
    const start = i
    if (c === MINUS) i++
    const digitsFrom = i
    while (i < n && isDigit(text.charCodeAt(i))) i++
    const digits = i - digitsFrom
    const next = i < n ? text.charCodeAt(i) : -1
    let long = digits >= LONG
    if (next === DOT || next === LOWER_E || next === UPPER_E) {
      // The rest of the literal, so that its exponent's digits are not read as a number.
      i++
      while (i < n && isNumberChar(text.charCodeAt(i))) i++
      const places = placesBeforePoint(text.slice(start, i))
      long = places >= LONG && places <= MAX_INTEGER_DIGITS
    }
    if (long) {
      parts.push(text.slice(copied, start), '"', text.slice(start, i), '"')
      copied = i
    }
    if (i === start) i++
  }
  if (copied === 0) return text
  parts.push(text.slice(copied))
  return parts.join('')
}

/** How many digits the value of a number literal with a fraction or an exponent has before its point (0 for less than 1, or for text that is no number). */
function placesBeforePoint(literal: string): number {
  const m = /^-?(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/.exec(literal)
  if (!m) return 0
  const [, whole = '', fraction = '', exponent = '0'] = m
  const all = whole + fraction
  const leadingZeros = all.length - all.replace(/^0+/, '').length
  if (leadingZeros === all.length) return 0
  return Math.max(0, whole.length - leadingZeros + Number(exponent))
}

function isDigit(c: number): boolean {
  return c >= ZERO && c <= NINE
}

function isNumberChar(c: number): boolean {
  return isDigit(c) || c === MINUS || c === 0x2b || c === DOT || c === LOWER_E || c === UPPER_E
}
