import { diag } from './diag.js'

/** A user redaction step: gets one captured string, returns what may leave the process. */
export type RedactFn = (value: string, info: { attribute: string }) => string
export type BuiltinPattern = 'email' | 'phone' | 'card' | 'apiKey'
/**
 * `true` (default): built-in patterns. `false`: nothing. A function: built-ins then it.
 * An object picks built-ins and adds custom steps.
 */
export type RedactOption =
  | boolean
  | RedactFn
  | { builtins?: boolean | BuiltinPattern[]; custom?: RedactFn | RedactFn[] }

interface Pattern {
  re: RegExp
  replace: (m: string) => string
  /**
   * A position no match starts before, or -1 when the text holds none: the
   * regex then runs from there (or not at all) instead of trying every
   * position of the text. Each is a native search for what every match of its
   * pattern must contain; on a span's ~1.3 KB of prompt and completion JSON the
   * four patterns took 3.4 µs, the API key pattern alone 2.4.
   */
  from?: (value: string) => number
}

// Order matters: keys and cards contain digit runs the phone pattern would also take.
const PATTERNS: Record<BuiltinPattern, Pattern> = {
  apiKey: {
    re: /\b(?:sk-(?:ant-|proj-)?[A-Za-z0-9_-]{16,}|AKIA[0-9A-Z]{16}|gh[pousr]_[A-Za-z0-9]{30,}|xox[abprs]-[A-Za-z0-9-]{10,}|AIza[0-9A-Za-z_-]{35}|sl_[A-Za-z0-9_-]{16,})\b|\bBearer\s+[A-Za-z0-9._~+/=-]{16,}/g,
    replace: () => '[REDACTED_API_KEY]',
    from: apiKeyFrom,
  },
  email: {
    re: /[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/g,
    replace: () => '[REDACTED_EMAIL]',
    // Tried at every position, this regex was ~19 µs per LLM span of ~1.3 KB of
    // prompt and completion JSON (more than all other exporter work on it).
    from: emailFrom,
  },
  card: {
    re: /\b\d(?:[ -]?\d){12,18}\b/g,
    // Luhn keeps order ids and timestamps that merely look long from being eaten.
    replace: (m) => (luhn(m.replace(/\D/g, '')) ? '[REDACTED_CARD]' : m),
    // Tried at every position, this regex was 1.07 µs of the four patterns' 2.75 on a plain call's prompt
    // and completion JSON (~1.3 KB, no card); the search below 0.14.
    from: cardFrom,
  },
  phone: {
    re: /(?:\+\d{1,3}[\s.-]?)?(?:\(\d{2,4}\)[\s.-]?|\b\d{2,4}[\s.-])\d{3,4}[\s.-]\d{3,4}\b|\+\d{8,15}\b/g,
    replace: () => '[REDACTED_PHONE]',
    // Every match holds a digit, a separator and a digit, or a '+' (two searches: one regex with both alternatives tries every position).
    from: (value) => (value.includes('+') || DIGIT_SEP_DIGIT.test(value) ? 0 : -1),
  },
}
const ORDER: BuiltinPattern[] = ['apiKey', 'email', 'card', 'phone']

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

/** Every API key match starts with one of these. */
const KEY_START = /sk-|AKIA|gh[pousr]_|xox[abprs]-|AIza|sl_|Bearer/
const DIGIT_SEP_DIGIT = /\d[\s.-]\d/

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
 * Every card match begins with 13 digits, each after the first preceded by at most one ' ' or '-': this
 * pattern, unrolled (a counted repetition here searched as slowly as the card pattern itself).
 */
const CARD_START = new RegExp(`\\d${'[ -]?\\d'.repeat(12)}`)

/** The first place a card's digits begin, one character earlier for the pattern's leading `\b` (as apiKeyFrom). */
function cardFrom(value: string): number {
  const i = value.search(CARD_START)
  return i < 0 ? -1 : Math.max(0, i - 1)
}

function luhn(digits: string): boolean {
  let sum = 0
  let double = false
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48
    if (double) {
      d *= 2
      if (d > 9) d -= 9
    }
    sum += d
    double = !double
  }
  return sum % 10 === 0
}

/**
 * `value.replace(re, replace)` for a global `re` with no match before `start`,
 * searched from `start`, as one flat string. Slicing at `start` and
 * concatenating left a cons string that the next pattern's search flattened:
 * with an email in a prompt, one more copy of the whole JSON per attribute
 * (`search` and `exec` allocated ~2.1 KiB per plain call in bench/sdk/alloc.ts,
 * where the bare client allocates none there).
 */
function replaceFrom(value: string, re: RegExp, start: number, replace: (m: string) => string): string {
  re.lastIndex = start
  let m = re.exec(value)
  if (m === null) return value
  const pieces: string[] = []
  let last = 0
  while (m !== null) {
    pieces.push(value.slice(last, m.index), replace(m[0]))
    last = m.index + m[0].length
    if (m[0].length === 0) re.lastIndex++
    m = re.exec(value)
  }
  pieces.push(value.slice(last))
  return pieces.join('')
}

export interface Redactor {
  (value: string, attribute: string): string
}

/** Placeholder for a value whose custom hook threw: failing closed means the raw text never leaves. */
const REDACTION_FAILED = '[REDACTION_FAILED]'

export function createRedactor(config: { builtins: BuiltinPattern[]; custom: RedactFn[] }): Redactor | undefined {
  const builtins = ORDER.filter((p) => config.builtins.includes(p)).map((p) => PATTERNS[p])
  const custom = config.custom
  if (builtins.length === 0 && custom.length === 0) return undefined
  return (value, attribute) => {
    let out = value
    for (const { re, replace, from } of builtins) {
      const start = from ? from(out) : 0
      if (start >= 0) out = replaceFrom(out, re, start, replace)
    }
    for (const step of custom) {
      try {
        const next = step(out, { attribute })
        out = typeof next === 'string' ? next : String(next)
      } catch (err) {
        diag.stats.redactionFailures++
        diag.warnOnce(`redact hook threw on ${attribute}; value replaced: ${err instanceof Error ? err.message : String(err)}`)
        return REDACTION_FAILED
      }
    }
    return out
  }
}

/** Attributes that can carry user content; only these go through redaction. */
export function isContentAttribute(key: string): boolean {
  return (
    key === 'gen_ai.input.messages' ||
    key === 'gen_ai.output.messages' ||
    key === 'gen_ai.system_instructions' ||
    key === 'gen_ai.tool.call.arguments' ||
    key === 'gen_ai.tool.call.result' ||
    key === 'gen_ai.tool.definitions' ||
    key === 'input.value' ||
    key === 'output.value' ||
    key === 'exception.message' ||
    key.startsWith('spanlens.metadata.')
  )
}
