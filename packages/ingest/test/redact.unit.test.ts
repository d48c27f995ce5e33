import { describe, expect, it } from 'vitest'
import { PriceTable } from '../src/normalize/cost.js'
import { createRedactor } from '../src/normalize/redact.js'
import { normalizeSpan } from '../src/normalize/normalize.js'
import type { OtlpSpan } from '../src/otlp/model.js'
import { encodeRow } from '../src/pipeline/row-format.js'
import { span } from './helpers/otlp-span.js'

describe('redaction', () => {
  const redact = createRedactor(['email', 'phone', 'card', 'secret']) as (s: string) => string

  it('finds a secret at the start of a line of JSON content, and keeps the content JSON', () => {
    const content = JSON.stringify([{ role: 'user', content: 'Key:\nsk-proj-ABCDEFGHIJKLMNOPQRSTUVWX\nContact:\nbob@example.com\ncard\n4111111111111111' }])
    const out = redact(content)
    expect(JSON.parse(out)).toEqual([{ role: 'user', content: 'Key:\n[REDACTED_SECRET]\nContact:\n[REDACTED_EMAIL]\ncard\n[REDACTED_CARD]' }])
  })

  it('takes a card followed by its expiry or security code, whose digit run is longer than a card', () => {
    expect(redact('pay 4111111111111111 12/26')).toBe('pay [REDACTED_CARD] 12/26')
    expect(redact('pay 4111 1111 1111 1111 123')).toBe('pay [REDACTED_CARD] 123')
  })

  it.each([
    ['mail jane.doe@example.com now', 'mail [REDACTED_EMAIL] now'],
    ['call +1 (415) 555-0132 today', 'call [REDACTED_PHONE] today'],
    ['call 020 7946 0958', 'call [REDACTED_PHONE]'],
    ['card 4111 1111 1111 1111 ok', 'card [REDACTED_CARD] ok'],
    ['key sk-proj-abcdefghijklmnop1234 here', 'key [REDACTED_SECRET] here'],
    ['aws AKIAIOSFODNN7EXAMPLE', 'aws [REDACTED_SECRET]'],
    ['Authorization: Bearer abcdefghijklmnopqrstuvwxyz012345', 'Authorization: [REDACTED_SECRET]'],
  ])('%s', (input, expected) => {
    expect(redact(input)).toBe(expected)
  })

  it('leaves ordinary numbers, dates and non-Luhn digit runs alone', () => {
    for (const text of ['order 1234567890123 shipped', 'in 2026-11-22 at 10:30', 'total 42 tokens', 'v1.2.3']) {
      expect(redact(text)).toBe(text)
    }
  })

  it('resource attributes: flattened and redacted once per resource object, the same for every span of it, per redactor', () => {
    const prices = PriceTable.load(undefined)
    const resource = { 'service.name': 'svc', 'host.owner': 'ops@example.com', 'process.pid': 42 }
    const spans = [span({}, { resource }), span({}, { resource, spanId: 'c'.repeat(16) })]
    const redacted = spans.map((s) => normalizeSpan(s, 'p', { prices, redact }))
    expect(redacted[0]?.resource_attributes).toEqual({ 'service.name': 'svc', 'host.owner': '[REDACTED_EMAIL]', 'process.pid': '42' })
    expect(redacted[1]?.resource_attributes).toBe(redacted[0]?.resource_attributes)
    // Shared between rows, so it cannot be changed through one of them.
    expect(Object.isFrozen(redacted[0]?.resource_attributes)).toBe(true)
    // The same resource object under another redaction setting is not served from the first.
    expect(normalizeSpan(spans[0] as OtlpSpan, 'p', { prices }).resource_attributes['host.owner']).toBe('ops@example.com')
    // And the encoded row carries the resource exactly as an unshared copy would.
    const shared = encodeRow(redacted[1] as NonNullable<(typeof redacted)[1]>)
    const copy = encodeRow({ ...(redacted[1] as NonNullable<(typeof redacted)[1]>), resource_attributes: { ...redacted[1]?.resource_attributes } })
    expect(shared).toBe(copy)
    expect(shared).toContain("{'service.name':'svc','host.owner':'[REDACTED_EMAIL]','process.pid':'42'}")
  })

  it('only the configured rules apply', () => {
    const emailOnly = createRedactor(['email']) as (s: string) => string
    expect(emailOnly('a@b.io 4111 1111 1111 1111')).toBe('[REDACTED_EMAIL] 4111 1111 1111 1111')
    expect(createRedactor([])).toBeUndefined()
  })
})
