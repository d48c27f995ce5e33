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
