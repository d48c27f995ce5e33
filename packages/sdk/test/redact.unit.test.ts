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

// The built-in card pattern as the redactor applied it to the whole text, at every position, Luhn included.
const CARD = /\b\d(?:[ -]?\d){12,18}\b/g
const luhnOk = (digits: string) => {
  let sum = 0
  for (let i = 0; i < digits.length; i++) {
    let d = Number(digits[digits.length - 1 - i])
    if (i % 2 === 1) d = d * 2 > 9 ? d * 2 - 9 : d * 2
    sum += d
  }
  return sum % 10 === 0
}
const card = createRedactor({ builtins: ['card'], custom: [] })!
// Digit runs of every length around 13, single and double separators, word characters before and after.
const cardText = fc.string({ unit: fc.constantFrom('4', '0', '1234', '4111111111111111', '0000 0000 0000 0', ' ', '-', '  ', '--', 'a', '_', '"', '\n'), maxLength: 30 })

describe('built-in card redaction', () => {
  it('redacts exactly what the pattern matches anywhere in the text and passes Luhn', () => {
    fc.assert(
      fc.property(cardText, (s) => {
        expect(card(s, 'k')).toBe(s.replace(CARD, (m) => (luhnOk(m.replace(/\D/g, '')) ? '[REDACTED_CARD]' : m)))
      }),
      { seed: 19, numRuns: 5000 },
    )
  })

  it('keeps the word boundary before a card: digits inside a word stay, after a space they go', () => {
    expect(card('x4111111111111111 and 4111 1111 1111 1111, order A-1059 of 2026-12-05', 'k')).toBe('x4111111111111111 and [REDACTED_CARD], order A-1059 of 2026-12-05')
    expect(card('4111-1111-1111-1111', 'k')).toBe('[REDACTED_CARD]')
    expect(card('1234567890123', 'k')).toBe('1234567890123')
  })
})
