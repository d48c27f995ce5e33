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
 * its decoder meets an integer no double holds exactly (`noteUnsafeInteger`) is it read
 * again, with every integer literal of 16 digits or more turned into the decimal string
 * proto3 JSON allows in its place. A double field accepts that string as well (values.ts
 * `jsonDouble`), so the second read changes no value but the rounded ones.
 */

let unsafeIntegerSeen = false

/** Called by a JSON decoder that was given an integer past 2^53 as a JSON number. */
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

/** Integer literals this long may be past 2^53 (9,007,199,254,740,992 has 16 digits). */
const LONG = 16

const QUOTE = 0x22
const BACKSLASH = 0x5c
const MINUS = 0x2d
const ZERO = 0x30
const NINE = 0x39
const DOT = 0x2e
const LOWER_E = 0x65
const UPPER_E = 0x45

/**
 * The JSON text with each integer literal of LONG digits or more, outside strings,
 * written as a string: `{"intValue":9007199254740993}` → `{"intValue":"9007199254740993"}`.
 * Literals with a fraction or an exponent are doubles and stay. Text that is not JSON
 * comes out changed only where it held such digit runs: JSON.parse refuses it as before.
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
    if (next === DOT || next === LOWER_E || next === UPPER_E) {
      // A double: skip the rest of its literal so its exponent's digits are not read as a number.
      i++
      while (i < n && isNumberChar(text.charCodeAt(i))) i++
      continue
    }
    if (digits >= LONG) {
      parts.push(text.slice(copied, start), '"', text.slice(start, i), '"')
      copied = i
    }
    if (i === start) i++
  }
  if (copied === 0) return text
  parts.push(text.slice(copied))
  return parts.join('')
}

function isDigit(c: number): boolean {
  return c >= ZERO && c <= NINE
}

function isNumberChar(c: number): boolean {
  return isDigit(c) || c === MINUS || c === 0x2b || c === DOT || c === LOWER_E || c === UPPER_E
}
