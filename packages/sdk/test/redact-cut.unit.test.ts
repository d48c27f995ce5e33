import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { createRedactor } from '../src/redact.js'
import { BOUNDARY_SCAN, cutMarked, keptPrefix, MAX_MARK_LENGTH } from '../src/redact-cut.js'

const builtins = createRedactor({ builtins: ['apiKey', 'email', 'card', 'phone'], custom: [] })!
const redactor = (v: string): string => builtins(v, 'input.value')

/** A redactor that counts the characters it is given: the work a cut costs, without timing it. */
function counting(): { redact: (v: string) => string; read: () => number } {
  let n = 0
  return {
    redact: (v) => {
      n += v.length
      return redactor(v)
    },
    read: () => n,
  }
}

// Secrets as an app's text holds them, each made distinct by its random part so that a piece of one is recognizable.
const alnum = fc.string({ unit: fc.constantFrom(...'abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789'), minLength: 24, maxLength: 60 })
const key = alnum.map((s) => `sk-proj-${s}`)
const bearer = fc.string({ unit: fc.constantFrom(...'abcdefghijkmnpqrstuvwxyzABCDEFGHJ23456789._~+/='), minLength: 40, maxLength: 120 }).map((s) => `Bearer 9${s}Z`)
const emailAddress = fc
  .tuple(fc.string({ unit: fc.constantFrom(...'abcdefghijkmnpqrstuvwxyz0123456789._+'), minLength: 6, maxLength: 64 }), fc.string({ unit: fc.constantFrom(...'abcdefghijkmnpqrstuvwxyz'), minLength: 4, maxLength: 40 }))
  .map(([local, domain]) => `q${local}q@${domain}.example.com`)
const card = fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 15, maxLength: 15 }).map((d) => withLuhn(d.join('')))
const phone = fc.tuple(fc.integer({ min: 200, max: 999 }), fc.integer({ min: 200, max: 999 }), fc.integer({ min: 1000, max: 9999 })).map(([a, b, c]) => `+1 ${a}-${b}-${c}`)
const secret = fc.oneof(key, bearer, emailAddress, card, phone)

// What surrounds them: words, digits, JSON punctuation, escapes, long runs with no boundary in them.
const filler = fc.oneof(
  { weight: 6, arbitrary: fc.string({ unit: fc.constantFrom('a', 'B', '7', ' ', '.', '-', ',', '"', '\\n', '\\"', '\n', ':', 'é', '(', ')', '@', 'x '), maxLength: 40 }) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: BOUNDARY_SCAN + 2000 }).map((n) => 'Q'.repeat(n)) },
)
/** Filler and secrets alternated, a space on each side of a secret, as words are. */
const document = fc.array(fc.tuple(filler, secret), { minLength: 1, maxLength: 8 }).map((parts) => ({
  text: parts.map(([f, s]) => `${f} ${s} `).join(''),
  secrets: parts.map(([, s]) => s),
}))

/** Pieces of a secret long enough to recognize it (its leading word, "Bearer", is not one). */
function pieces(secret: string): string[] {
  const s = secret.startsWith('Bearer ') ? secret.slice(7) : secret.replace(/[ -]/g, '')
  const out: string[] = []
  for (let i = 0; i + 8 <= s.length; i += 4) out.push(s.slice(i, i + 8))
  return out
}

/** The pieces of `secrets` that `text` holds. */
function leaked(text: string, secrets: string[]): string[] {
  return secrets.flatMap(pieces).filter((p) => text.includes(p))
}

describe('redacting a long value over what its cut keeps', () => {
  it('keeps exactly the start of the whole value redacted, never longer than the limit, for secrets anywhere, across the cut too', () => {
    fc.assert(
      fc.property(document, fc.integer({ min: 1, max: 400 }), fc.boolean(), ({ text, secrets }, at, asJson) => {
        const value = asJson ? JSON.stringify([text, { note: text }]) : text
        // The cut lands anywhere in the value, inside secrets as often as not.
        const max = Math.max(1, Math.floor((value.length * at) / 400))
        const whole = redactor(value)
        const kept = keptPrefix(value, max, redactor)
        expect(kept.text.length).toBeLessThanOrEqual(max)
        expect(whole.startsWith(kept.text)).toBe(true)
        expect(leaked(kept.text, secrets)).toEqual([])
        expect(cutMarked(value, max, redactor).length).toBeLessThanOrEqual(max + MAX_MARK_LENGTH)
      }),
      { seed: 24, numRuns: 200 },
    )
  })

  it('keeps no piece of a secret when it is given only the start of a value, cut inside a secret', () => {
    fc.assert(
      fc.property(document, fc.integer({ min: 1, max: 400 }), fc.integer({ min: 1, max: 400 }), ({ text, secrets }, at, readAt) => {
        const read = text.slice(0, Math.max(1, Math.floor((text.length * readAt) / 400)))
        const max = Math.max(1, Math.floor((read.length * at) / 400))
        const kept = keptPrefix(read, max, redactor, true)
        expect(kept.text.length).toBeLessThanOrEqual(max)
        expect(redactor(text).startsWith(kept.text)).toBe(true)
        expect(leaked(kept.text, secrets)).toEqual([])
      }),
      { seed: 24, numRuns: 200 },
    )
  })

  it('reads about as much of a 50 MB value as it keeps, not all of it', () => {
    const value = `${'The order shipped, write to a.b@example.com if lost. '.repeat(1_000_000)}`
    const c = counting()
    const kept = keptPrefix(value, 100_000, c.redact)
    expect(kept.text).toHaveLength(100_000)
    expect(c.read()).toBeLessThanOrEqual(100_000 + BOUNDARY_SCAN)
    expect(kept.text).toBe(redactor(value).slice(0, 100_000))
  })

  it('leaves out a run with no boundary that the cut falls in, reading no further than the scan', () => {
    const blob = 'A'.repeat(3_000_000)
    const c = counting()
    const kept = keptPrefix(`{"image":"data:image/png;base64,${blob}"}`, 100_000, c.redact)
    expect(kept.text).toBe('{"image":"data:image/png;base64,')
    expect(c.read()).toBeLessThanOrEqual(3 * (100_000 + BOUNDARY_SCAN))
  })

  it('reads on, a bounded number of times, when redaction shrinks what was read', () => {
    const token = `Bearer ${'t'.repeat(5_000_000)}`
    const c = counting()
    const kept = keptPrefix(`auth: ${token}, done`, 1000, c.redact)
    expect(kept.text).toBe('auth:')
    expect(c.read()).toBeLessThanOrEqual(3 * (1000 + 2 * BOUNDARY_SCAN))
  })

  it('marks a cut with the characters cut, and a value that is only a start with "more than"', () => {
    expect(cutMarked('mail a@example.com, then the rest of it', 22, redactor)).toBe('mail [REDACTED_EMAIL],…[truncated 20 chars]')
    expect(cutMarked('short, then "the rest"', 5, redactor, true)).toBe('short…[truncated more than 17 chars]')
    expect(cutMarked('short', 5, redactor)).toBe('short')
  })
})

function withLuhn(body: string): string {
  for (let d = 0; d <= 9; d++) {
    const s = body + String(d)
    let sum = 0
    for (let i = 0; i < s.length; i++) {
      let n = s.charCodeAt(s.length - 1 - i) - 48
      if (i % 2 === 1) n = n * 2 > 9 ? n * 2 - 9 : n * 2
      sum += n
    }
    if (sum % 10 === 0) return s
  }
  throw new Error('unreachable')
}
