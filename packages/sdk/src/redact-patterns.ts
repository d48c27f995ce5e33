/**
 * The built-in patterns, each as a regex over plain text and what a match becomes.
 * They run on text whose escapes are already decoded (redact-escaped.ts).
 */

export type BuiltinPattern = 'email' | 'phone' | 'card' | 'apiKey'

/** What finds a pattern's matches: a global RegExp, or an object that searches as one does (exec from lastIndex). */
interface Matcher {
  lastIndex: number
  exec(text: string): { index: number; 0: string } | null
}

export interface Pattern {
  re: Matcher
  /**
   * What a match becomes; the match itself when it is not a secret after all (a card failing Luhn).
   * `next` is the char code after the match (NaN at the end of the text).
   */
  replace: (m: string, next: number) => string
  /**
   * A position no match starts before, or -1 when the text holds none: the
   * regex then runs from there (or not at all) instead of trying every
   * position of the text. Each is a native search for what every match of its
   * pattern must contain; on a span's ~1.3 KB of prompt and completion JSON the
   * four patterns took 3.4 µs, the API key pattern alone 2.4.
   */
  from?: (value: string) => number
  /** `from` on a text whose escapes are not decoded yet, where it differs (redact-escaped.ts's mayMatch). */
  fromEscaped?: (value: string) => number
  /**
   * Whether a match can be a number of a JSON text (digits, a '+' in an exponent). Key and email matches
   * hold letters, which outside a string of valid JSON only spell true, false and null: for them no one
   * needs to know whether a match lies outside the strings.
   */
  inNumbers?: true
}

const CARD_MARK = '[REDACTED_CARD]'

// Order matters: keys and cards contain digit runs the phone pattern would also take.
export const PATTERNS: Record<BuiltinPattern, Pattern> = {
  apiKey: {
    re: /\b(?:sk-(?:ant-|proj-)?[A-Za-z0-9_-]{16,}|AKIA[0-9A-Z]{16}|gh[pousr]_[A-Za-z0-9]{30,}|xox[abprs]-[A-Za-z0-9-]{10,}|AIza[0-9A-Za-z_-]{35}|sl_[A-Za-z0-9_-]{16,})\b|\bBearer\s+[A-Za-z0-9._~+/=-]{16,}/g,
    replace: () => '[REDACTED_API_KEY]',
    from: apiKeyFrom,
  },
  email: {
    re: emailMatcher(),
    replace: () => '[REDACTED_EMAIL]',
    // Tried at every position, the regex was ~19 µs per LLM span of ~1.3 KB of
    // prompt and completion JSON (more than all other exporter work on it).
    from: emailFrom,
  },
  card: {
    // A whole run of digits with single separators, from a word boundary; cardWindows picks the cards in it.
    re: /\b\d(?:[ -]?\d){12,}/g,
    replace: cardWindows,
    inNumbers: true,
    // Tried at every position, this regex was 1.07 µs of the four patterns' 2.75 on a plain call's prompt
    // and completion JSON (~1.3 KB, no card); the search below 0.14.
    from: cardFrom,
  },
  phone: {
    re: /(?:\+\d{1,3}[\s.-]?)?(?:\(\d{2,4}\)[\s.-]?|\b\d{2,4}[\s.-])\d{3,4}[\s.-]\d{3,4}\b|\+\d{8,15}\b/g,
    replace: () => '[REDACTED_PHONE]',
    inNumbers: true,
    // Every match holds a digit, a separator and a digit, or a '+' (two searches: one regex with both alternatives tries every position).
    from: (value) => (value.includes('+') || DIGIT_SEP_DIGIT.test(value) ? 0 : -1),
    // Before decoding, the separator may also be a line break, tab, carriage return or form feed still escaped.
    fromEscaped: (value) => (value.includes('+') || DIGIT_SEP_DIGIT.test(value) || digitEscapeDigit(value) ? 0 : -1),
  },
}
export const ORDER: BuiltinPattern[] = ['apiKey', 'email', 'card', 'phone']

/** Characters of an email's local part, by char code. */
const LOCAL_PART = new Uint8Array(128)
for (const c of 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._%+-') LOCAL_PART[c.charCodeAt(0)] = 1

/**
 * An email match holds an '@'. One at the first '@' starts in the run of
 * local-part characters just before it; a later one starts after that '@'
 * (a local part holds none). The regex has no look-behind, so running it from
 * the start of that run finds exactly the matches it finds from 0.
 */
function emailFrom(value: string): number {
  const at = value.indexOf('@')
  if (at < 0) return -1
  let i = at
  while (i > 0 && LOCAL_PART[value.charCodeAt(i - 1)] === 1) i--
  return i
}

const EMAIL_DOMAIN = /[A-Za-z0-9.-]+\.[A-Za-z]{2,}/y

/**
 * The matches of `/[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/g`, found from each '@' instead of from each position. The regex, tried at each
 * position of a run of local-part characters, read the run up to its end before failing: quadratic in
 * the run, 0.77 s for 40,000 hex digits after an address (a hash, an id) and ~5 s for the 100,000
 * characters a cut keeps. A match holds one '@' (no part of it holds another); its leftmost start is
 * where the run of local-part characters before that '@' begins (not before the search's start), and
 * the '@' is the first one whose local part is not empty and whose domain matches. Each character is
 * read a bounded number of times: walking back stops at the '@' before.
 */
function emailMatcher(): Matcher {
  const m: Matcher = {
    lastIndex: 0,
    exec(text) {
      const from = m.lastIndex
      let at = text.indexOf('@', from)
      while (at >= 0) {
        let start = at
        while (start > from && LOCAL_PART[text.charCodeAt(start - 1)] === 1) start--
        if (start < at) {
          EMAIL_DOMAIN.lastIndex = at + 1
          const domain = EMAIL_DOMAIN.exec(text)
          if (domain) {
            m.lastIndex = EMAIL_DOMAIN.lastIndex
            return { index: start, 0: text.slice(start, m.lastIndex) }
          }
        }
        at = text.indexOf('@', at + 1)
      }
      m.lastIndex = 0
      return null
    },
  }
  return m
}

/** Every API key match starts with one of these. */
const KEY_START = /sk-|AKIA|gh[pousr]_|xox[abprs]-|AIza|sl_|Bearer/
const DIGIT_SEP_DIGIT = /\d[\s.-]\d/

/**
 * Whether a digit, a run of backslashes and f, n, r or t, and a digit follow each other. Looked for from each
 * backslash, as a text has few: on a 700-character prompt's JSON with eight escapes 0.12 µs, the regex
 * `/\d\\+[fnrt]\d/` (tried at every digit) 0.18.
 */
function digitEscapeDigit(value: string): boolean {
  let i = value.indexOf('\\')
  while (i >= 0) {
    let j = i + 1
    while (value.charCodeAt(j) === 92) j++
    const c = value.charCodeAt(j)
    if ((c === 102 || c === 110 || c === 114 || c === 116) && isDigit(value.charCodeAt(i - 1)) && isDigit(value.charCodeAt(j + 1))) return true
    i = value.indexOf('\\', j)
  }
  return false
}

/**
 * The first place a key's prefix occurs, one character earlier: the pattern
 * begins with `\b`, which needs the character before the match to decide.
 * No match starts before the first prefix, so none starts at that character.
 */
function apiKeyFrom(value: string): number {
  const m = KEY_START.exec(value)
  return m ? Math.max(0, m.index - 1) : -1
}

/**
 * Every card run begins with 13 digits, each after the first preceded by at most one ' ' or '-': this
 * pattern, unrolled (a counted repetition here searched as slowly as the card pattern itself).
 */
const CARD_START = new RegExp(`\\d${'[ -]?\\d'.repeat(12)}`)

/** The first place a card's digits begin, one character earlier for the pattern's leading `\b` (as apiKeyFrom). */
function cardFrom(value: string): number {
  const i = value.search(CARD_START)
  return i < 0 ? -1 : Math.max(0, i - 1)
}

const isDigit = (c: number): boolean => c >= 48 && c <= 57
const isWord = (c: number): boolean => isDigit(c) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95

/**
 * The run of digits `run` (single ' ' or '-' between digits, starting at a word boundary) with every
 * card in it replaced. A card is 13 to 19 of its digits that pass Luhn, from the start of a group of
 * digits to the end of one (a separator or the run's ends on both sides, as `\b` would have it; the
 * run's end only when no word character follows, which `next` tells). Luhn over the whole run misses
 * "4111111111111111 12/26" (18 digits fail it) and leaves "4111 1111 1111 1111 123" to the phone
 * pattern, which takes three of its groups and leaves the last four digits. Every window that passes
 * is replaced, overlapping ones as one: a 13- to 19-digit window passes Luhn one time in ten, and
 * replacing only the first that passed could leave part of the real card beside it.
 */
function cardWindows(run: string, next: number): string {
  // Group starts and ends, and the digits before each group start.
  const starts: number[] = []
  const ends: number[] = []
  const before: number[] = []
  let digits = 0
  for (let i = 0; i < run.length; i++) {
    if (!isDigit(run.charCodeAt(i))) continue
    if (i === 0 || !isDigit(run.charCodeAt(i - 1))) {
      starts.push(i)
      before.push(digits)
    }
    digits++
    if (i === run.length - 1 || !isDigit(run.charCodeAt(i + 1))) ends.push(i + 1)
  }
  const lastUsable = isWord(next) ? ends.length - 2 : ends.length - 1
  // Covered spans [from, to), in order of their start; merged when they overlap.
  const cover: number[] = []
  for (let a = 0; a < starts.length; a++) {
    for (let b = a; b <= lastUsable; b++) {
      const n = before[b]! + (ends[b]! - starts[b]!) - before[a]!
      if (n < 13) continue
      if (n > 19) break
      if (!luhn(run, starts[a]!, ends[b]!)) continue
      const from = starts[a]!
      const to = ends[b]!
      const k = cover.length
      if (k > 0 && from < cover[k - 1]!) cover[k - 1] = Math.max(cover[k - 1]!, to)
      else cover.push(from, to)
    }
  }
  if (cover.length === 0) return run
  let out = ''
  let last = 0
  for (let k = 0; k < cover.length; k += 2) {
    out += run.slice(last, cover[k]) + CARD_MARK
    last = cover[k + 1]!
  }
  return out + run.slice(last)
}

/** Luhn over the digits of `s` between `from` and `to` (separators skipped). */
function luhn(s: string, from: number, to: number): boolean {
  let sum = 0
  let double = false
  for (let i = to - 1; i >= from; i--) {
    let d = s.charCodeAt(i) - 48
    if (d < 0 || d > 9) continue
    if (double) {
      d *= 2
      if (d > 9) d -= 9
    }
    sum += d
    double = !double
  }
  return sum % 10 === 0
}
