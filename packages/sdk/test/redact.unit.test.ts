import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { createRedactor } from '../src/redact.js'

// The built-in email pattern as the redactor applied it to the whole text, at every position.
const EMAIL = /[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/g
const email = createRedactor({ builtins: ['email'], custom: [] })!

// Texts made of what emails and near-misses are made of: several '@', dots, runs of local-part characters.
const text = fc.string({ unit: fc.constantFrom('a', 'B', '7', '.', '-', '_', '+', '%', '@', ' ', '"', 'é', '\n', 'com', 'x.org', '@@'), maxLength: 60 })

describe('built-in email redaction', () => {
  it('redacts exactly what the pattern matches anywhere in the text', () => {
    fc.assert(
      fc.property(text, (s) => {
        expect(email(s, 'gen_ai.input.messages')).toBe(s.replace(EMAIL, '[REDACTED_EMAIL]'))
      }),
      { seed: 19, numRuns: 5000 },
    )
  })

  it('redacts exactly what the pattern matches in long runs of local-part characters, with and without an @ after them', () => {
    const runs = fc.string({ unit: fc.constantFrom('f'.repeat(50), '0a.b-'.repeat(20), '@', '@x.io', '.c', ' ', 'a@b.co', '"'), maxLength: 30 })
    fc.assert(
      fc.property(runs, (s) => {
        expect(email(s, 'k')).toBe(s.replace(EMAIL, '[REDACTED_EMAIL]'))
      }),
      { seed: 24, numRuns: 1000 },
    )
  })

  it('finds emails before, at and after the first @, and leaves text without one unchanged', () => {
    expect(email('ada@example.com wrote', 'k')).toBe('[REDACTED_EMAIL] wrote')
    expect(email('ping @ops, then mail bob.smith+x@mail.example.org or al@b.io', 'k')).toBe('ping @ops, then mail [REDACTED_EMAIL] or [REDACTED_EMAIL]')
    expect(email('[{"role":"user","parts":[{"type":"text","content":"I am ada@example.com"}]}]', 'k')).toBe(
      '[{"role":"user","parts":[{"type":"text","content":"I am [REDACTED_EMAIL]"}]}]',
    )
    const plain = 'no address in here, only text and numbers 1 2 3'
    expect(email(plain, 'k')).toBe(plain)
  })
})

// The API key and phone patterns as the redactor applied them to the whole text, at every position.
const API_KEY = /\b(?:sk-(?:ant-|proj-)?[A-Za-z0-9_-]{16,}|AKIA[0-9A-Z]{16}|gh[pousr]_[A-Za-z0-9]{30,}|xox[abprs]-[A-Za-z0-9-]{10,}|AIza[0-9A-Za-z_-]{35}|sl_[A-Za-z0-9_-]{16,})\b|\bBearer\s+[A-Za-z0-9._~+/=-]{16,}/g
const PHONE = /(?:\+\d{1,3}[\s.-]?)?(?:\(\d{2,4}\)[\s.-]?|\b\d{2,4}[\s.-])\d{3,4}[\s.-]\d{3,4}\b|\+\d{8,15}\b/g
const apiKey = createRedactor({ builtins: ['apiKey'], custom: [] })!
const phone = createRedactor({ builtins: ['phone'], custom: [] })!

// Key prefixes (with and without a word character before them), key bodies, digits and separators.
const keyText = fc.string({
  unit: fc.constantFrom('sk-', 'ask-', 'sk-proj-', 'AKIA', 'ghp_', 'xoxb-', 'AIza', 'sl_', 'Bearer ', 'Bearer', 'A', 'z9', 'Q7_x-AB12cd34EF56', '0123456789', ' ', '"', '-', '_', '.'),
  maxLength: 24,
})
const phoneText = fc.string({ unit: fc.constantFrom('1', '23', '456', '7890', '+', '+44', ' ', '.', '-', '(', ')', 'a', 'x', '\n', '"'), maxLength: 40 })

describe('built-in API key and phone redaction', () => {
  it('redacts exactly what each pattern matches anywhere in the text', () => {
    fc.assert(
      fc.property(keyText, (s) => {
        expect(apiKey(s, 'k')).toBe(s.replace(API_KEY, '[REDACTED_API_KEY]'))
      }),
      { seed: 19, numRuns: 5000 },
    )
    fc.assert(
      fc.property(phoneText, (s) => {
        expect(phone(s, 'k')).toBe(s.replace(PHONE, '[REDACTED_PHONE]'))
      }),
      { seed: 19, numRuns: 5000 },
    )
  })

  it('keeps the word boundary before a key prefix: a key inside a word stays, one after a space goes', () => {
    const body = 'sk-abcdefghijklmnop1234'
    expect(apiKey(`ask-abcdefghijklmnop1234 and ${body}`, 'k')).toBe('ask-abcdefghijklmnop1234 and [REDACTED_API_KEY]')
    expect(apiKey(`${body}`, 'k')).toBe('[REDACTED_API_KEY]')
    expect(phone('call +44 20 7946 0958 or 555-123-4567, order A-1059', 'k')).toBe('call [REDACTED_PHONE] or [REDACTED_PHONE], order A-1059')
  })
})

// Cards as the built-in pattern finds them, by brute force: every stretch of the text of 13 to 19 digits with
// single ' ' or '-' between them, with no word character on either side, that passes Luhn; stretches that overlap
// are one card.
const CARD_SHAPE = /^\d(?:[ -]?\d)*$/
const word = (c: string | undefined) => c !== undefined && /\w/.test(c)
const luhnOk = (digits: string) => {
  let sum = 0
  for (let i = 0; i < digits.length; i++) {
    let d = Number(digits[digits.length - 1 - i])
    if (i % 2 === 1) d = d * 2 > 9 ? d * 2 - 9 : d * 2
    sum += d
  }
  return sum % 10 === 0
}
function cardsByBruteForce(s: string): string {
  const covered = new Array<boolean>(s.length).fill(false)
  for (let i = 0; i < s.length; i++) {
    for (let j = i + 1; j <= s.length; j++) {
      const w = s.slice(i, j)
      const digits = w.replace(/\D/g, '')
      if (digits.length < 13 || digits.length > 19 || !CARD_SHAPE.test(w) || word(s[i - 1]) || word(s[j])) continue
      if (luhnOk(digits)) for (let k = i; k < j; k++) covered[k] = true
    }
  }
  let out = ''
  for (let i = 0; i < s.length; i++) {
    if (!covered[i]) out += s[i]
    else if (i === 0 || !covered[i - 1]) out += '[REDACTED_CARD]'
  }
  return out
}
const card = createRedactor({ builtins: ['card'], custom: [] })!
// Digit runs of every length around 13, single and double separators, word characters before and after.
const cardText = fc.string({ unit: fc.constantFrom('4', '0', '1234', '4111111111111111', '0000 0000 0000 0', '12/26', ' 123', ' ', '-', '  ', '--', 'a', '_', '"', '\n'), maxLength: 30 })

describe('built-in card redaction', () => {
  it('redacts every 13- to 19-digit stretch of a digit run that passes Luhn, as the brute force finds them', () => {
    fc.assert(
      fc.property(cardText, (t) => {
        // A text that is not JSON: a number of a JSON text becomes a string (tested below).
        const s = `card ${t}`
        expect(card(s, 'k')).toBe(cardsByBruteForce(s))
      }),
      { seed: 19, numRuns: 5000 },
    )
  })

  it('keeps the word boundary before a card: digits inside a word stay, after a space they go', () => {
    expect(card('x4111111111111111 and 4111 1111 1111 1111, order A-1059 of 2026-12-05', 'k')).toBe('x4111111111111111 and [REDACTED_CARD], order A-1059 of 2026-12-05')
    expect(card('4111-1111-1111-1111', 'k')).toBe('[REDACTED_CARD]')
    expect(card('1234567890123', 'k')).toBe('1234567890123')
  })

  it('finds a card followed by an expiry date or a CVV, which made the run longer than a card', () => {
    const all = createRedactor({ builtins: ['apiKey', 'email', 'card', 'phone'], custom: [] })!
    expect(all('My card is 4111111111111111 12/26 thanks', 'k')).toBe('My card is [REDACTED_CARD] 12/26 thanks')
    expect(all('card 4111 1111 1111 1111 123', 'k')).toBe('card [REDACTED_CARD] 123')
    expect(all('pay with 4111-1111-1111-1111 exp 09/27', 'k')).toBe('pay with [REDACTED_CARD] exp 09/27')
    expect(all('order 12 4111 1111 1111 1111', 'k')).not.toContain('1111')
  })
})

// What leaves the process: the attribute as the exporter writes it, the JSON the SDK made of the app's data.
const all = createRedactor({ builtins: ['apiKey', 'email', 'card', 'phone'], custom: [] })!
const SECRETS = [
  'sk-proj-ABCDEFGHIJKLMNOPQRSTUVWX',
  'sk-ant-api03-abcdefghijklmnop',
  'AKIAABCDEFGHIJKLMNOP',
  'ghp_abcdefghijklmnopqrstuvwxyz0123456789',
  'Bearer abcdefghijklmnopqrstuvwxyz',
  'bob@example.com',
  'first.last+tag@mail.example.org',
  '4111111111111111',
  '4111 1111 1111 1111',
  '5500-0000-0000-0004',
  '378282246310005',
  '555-123-4567',
  '+1 415-555-0100',
  '+442079460958',
]
// What may stand right before and after a secret: line breaks and tabs (escaped in JSON), quotes and
// backslashes (escaped), control characters (\\u00XX), an escaped line break in JSON text the app put in a
// string (\\n), non-ASCII, punctuation. No word character: glued to one, a key or a card is not one.
const BEFORE = ['', '\n', '\r\n', '\t', '"', '\\', '\u0001', '\u2028', 'é', '😀', ' ', ': ', '(', '\\n', '\\t', '\\"']
const AFTER = ['', '\n', '\t', '"', '\\', '\u0007', ' ', '.', ',', ')', '😀', ' 12/26', ' 123']
const filler = fc.string({ unit: fc.constantFrom('a', 'Z', '7', ' ', '\n', '\t', '"', '\\', '/', '\u0000', '\u001f', 'é', '€', '😀', '@', '+', '-', '.', ':'), maxLength: 12 })
const secretText = fc
  .array(fc.tuple(filler, fc.constantFrom(...BEFORE), fc.constantFrom(...SECRETS), fc.constantFrom(...AFTER)), { minLength: 1, maxLength: 3 })
  .chain((parts) => fc.tuple(fc.constant(parts.map(([f, b, s, a]) => `${f} ${b}${s}${a} `).join('')), filler).map(([t, end]) => t + end))
// Where the SDK puts such text: message parts, tool call arguments, tool definitions, a tool result the app
// serialized itself (JSON in a string), object keys, and cards as JSON numbers.
const leaf: fc.Arbitrary<unknown> = fc.oneof(
  secretText,
  filler,
  fc.constantFrom(4111111111111111, -4111111111111111, 378282246310005, 1e21, 12, 0.5, true, null),
)
const data = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leaf,
    fc.array(tie('value'), { maxLength: 3 }),
    fc.dictionary(fc.oneof(secretText, fc.constantFrom('role', 'content', 'to')), tie('value'), { maxKeys: 3 }),
  ),
})).value
const nestedJson = fc.dictionary(fc.constantFrom('note', 'to', 'body'), fc.oneof(secretText, filler), { maxKeys: 3 }).map((o) => JSON.stringify(o))
const messages = fc.array(
  fc.record({
    role: fc.constantFrom('user', 'assistant', 'tool'),
    parts: fc.array(
      fc.oneof(
        fc.record({ type: fc.constant('text'), content: fc.oneof(secretText, nestedJson) }),
        fc.record({ type: fc.constant('tool_call'), id: fc.constant('call_1'), name: fc.constant('send'), arguments: data }),
        fc.record({ type: fc.constant('tool_call_response'), id: fc.constant('call_1'), response: fc.oneof(nestedJson, data) }),
      ),
      { minLength: 1, maxLength: 3 },
    ),
  }),
  { minLength: 1, maxLength: 3 },
)
const toolDefinitions = fc.array(
  fc.record({ type: fc.constant('function'), function: fc.record({ name: fc.constant('send'), description: secretText, parameters: data }) }),
  { minLength: 1, maxLength: 2 },
)

/** Every string in a JSON value, keys included, and the strings of JSON texts found in them. */
function strings(v: unknown, out: string[] = []): string[] {
  if (typeof v === 'string') {
    out.push(v)
    try {
      const inner: unknown = JSON.parse(v)
      if (typeof inner === 'object' && inner !== null) strings(inner, out)
    } catch {
      // not JSON
    }
  } else if (Array.isArray(v)) for (const x of v) strings(x, out)
  else if (typeof v === 'object' && v !== null)
    for (const [k, x] of Object.entries(v)) {
      out.push(k)
      strings(x, out)
    }
  return out
}

/** The JSON value with each string (and key) redacted as a text on its own, and each number as its JSON. */
function redactEach(v: unknown): unknown {
  if (typeof v === 'string') return all(v, 'k')
  if (typeof v === 'number') return JSON.parse(all(JSON.stringify(v), 'k'))
  if (Array.isArray(v)) return v.map(redactEach)
  if (typeof v === 'object' && v !== null) return Object.fromEntries(Object.entries(v).map(([k, x]) => [all(k, 'k'), redactEach(x)]))
  return v
}

describe('built-in redaction of JSON content', () => {
  it('finds secrets at the start of a line, after a tab or a quote, and keeps the JSON valid', () => {
    const key = 'sk-proj-ABCDEFGHIJKLMNOPQRSTUVWX'
    const redacted = (v: unknown) => JSON.parse(all(JSON.stringify(v), 'gen_ai.input.messages')) as unknown
    expect(redacted([`Key:\n${key}`, '4111111111111111\n555-123-4567', 'Contact:\nbob@example.com', `\t${key}`, `"${key}"`])).toEqual([
      'Key:\n[REDACTED_API_KEY]',
      '[REDACTED_CARD]\n[REDACTED_PHONE]',
      'Contact:\n[REDACTED_EMAIL]',
      '\t[REDACTED_API_KEY]',
      '"[REDACTED_API_KEY]"',
    ])
    expect(redacted({ to: `x\n${key}`, card: 4111111111111111 })).toEqual({ to: 'x\n[REDACTED_API_KEY]', card: '[REDACTED_CARD]' })
    // A tool result the app serialized: JSON in a string, its line break written \\n in the attribute.
    expect(redacted([JSON.stringify({ note: `Key:\n${key}` })])).toEqual([JSON.stringify({ note: 'Key:\n[REDACTED_API_KEY]' })])
  })

  it('finds in JSON what it finds in the string when the only thing that makes it a match is escaped', () => {
    // The phone's separators are line breaks, \n in the JSON: no search for a plain separator finds them.
    expect(all(JSON.stringify(['call 555\n123\n4567']), 'k')).toBe('["call [REDACTED_PHONE]"]')
    expect(all(JSON.stringify(['call 555-123\t4567']), 'k')).toBe('["call [REDACTED_PHONE]"]')
    expect(all(JSON.stringify(['Bearer\nabcdefghijklmnopqrstuvwxyz']), 'k')).toBe('["[REDACTED_API_KEY]"]')
  })

  it('keeps escapes next to an email whole, and an escaped character inside a secret goes with it', () => {
    expect(all(JSON.stringify(['a\nbob@example.com\tb']), 'k')).toBe('["a\\n[REDACTED_EMAIL]\\tb"]')
    expect(all('["\\u0062ob@example.com \\u00e9al@example.org"]', 'k')).toBe('["[REDACTED_EMAIL] \\u00e9[REDACTED_EMAIL]"]')
  })

  it('for any data with secrets anywhere in its strings: valid JSON, no secret left, each string redacted as on its own', () => {
    fc.assert(
      fc.property(fc.oneof(messages, toolDefinitions, data), (value) => {
        const text = JSON.stringify(value)
        const out = all(text, 'gen_ai.input.messages')
        const parsed: unknown = JSON.parse(out)
        expect(strings(parsed).filter((s) => SECRETS.some((secret) => s.includes(secret)))).toEqual([])
        expect(parsed).toEqual(redactEach(JSON.parse(text)))
      }),
      { seed: 21, numRuns: 2000 },
    )
  })

  it('leaves text that is not JSON as text: no quotes around a marker, escapes there decoded for matching only', () => {
    expect(all('order 4111111111111111', 'k')).toBe('order [REDACTED_CARD]')
    expect(all('4111111111111111', 'k')).toBe('"[REDACTED_CARD]"')
    expect(all('path C:\\new\\sk-proj-ABCDEFGHIJKLMNOPQRSTUVWX', 'k')).toBe('path C:\\new\\[REDACTED_API_KEY]')
    // Cut JSON (maxContentLength) is no longer JSON; a secret after an escape is still found.
    expect(all('[{"content":"Key:\\nsk-proj-ABCDEFGHIJKLMNOPQRSTUVWX and more…[truncated 10 chars]', 'k')).toBe(
      '[{"content":"Key:\\n[REDACTED_API_KEY] and more…[truncated 10 chars]',
    )
  })
})
