// The time grammar of every `from`, `to`, `at` and `timestamp` (docs/api.md, "Times"):
// ISO-8601, epoch milliseconds, `now`, `now-<n><unit>`, and nothing V8's lenient Date reads besides.
import { describe, expect, it } from 'vitest'
import { MAX_TIME_MS, MIN_TIME_MS, parseTime } from '../src/time.js'

const NOW = new Date('2026-06-15T12:00:00.000Z')
const at = (raw: string | number) => parseTime(raw, 'from', NOW).toISOString()

function refused(raw: string | number, field = 'from'): void {
  expect(() => parseTime(raw, field, NOW), String(raw)).toThrow(
    expect.objectContaining({ code: 'SPANLENS_BAD_REQUEST', statusCode: 400, message: expect.stringMatching(new RegExp(`^${field}: `)) }),
  )
}

describe('times the store holds', () => {
  it('ends at the last millisecond DateTime64(9) holds, 2262-04-11T23:47:16.854Z (Int64 nanoseconds)', () => {
    expect(new Date(MAX_TIME_MS).toISOString()).toBe('2262-04-11T23:47:16.854Z')
    expect(BigInt(MAX_TIME_MS) * 1_000_000n <= 2n ** 63n - 1n).toBe(true)
    expect(BigInt(MAX_TIME_MS + 1) * 1_000_000n > 2n ** 63n - 1n).toBe(true)
    expect(at('2262-04-11T23:47:16.854Z')).toBe('2262-04-11T23:47:16.854Z')
    expect(at(String(MAX_TIME_MS))).toBe('2262-04-11T23:47:16.854Z')
  })

  it.each(['2262-04-11T23:47:16.855Z', '2270-01-01T00:00:00Z', '2299-12-31', String(MAX_TIME_MS + 1), '1899-12-31T23:59:59.999Z'])('refuses %s, outside it, naming the field', (raw) => {
    refused(raw)
    refused(raw, 'at')
  })

  it('starts at 1900-01-01 (DateTime64): an ISO time before the epoch is one', () => {
    expect(new Date(MIN_TIME_MS).toISOString()).toBe('1900-01-01T00:00:00.000Z')
    expect(at('1950-06-01T00:00:00Z')).toBe('1950-06-01T00:00:00.000Z')
  })
})
