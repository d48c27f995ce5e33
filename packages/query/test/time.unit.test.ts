// The time grammar of every `from`, `to`, `at` and `timestamp` (docs/api.md, "Times"):
// ISO-8601, epoch milliseconds, `now`, `now-<n><unit>`, and nothing V8's lenient Date reads besides.
import fc from 'fast-check'
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

describe('the grammar', () => {
  it('reads any string of digits as epoch milliseconds, however short', () => {
    expect(at('0')).toBe('1970-01-01T00:00:00.000Z')
    expect(at('5')).toBe('1970-01-01T00:00:00.005Z')
    expect(at('2026')).toBe('1970-01-01T00:00:02.026Z')
    expect(at('86400000')).toBe('1970-01-02T00:00:00.000Z')
    expect(at('1796505666355')).toBe('2026-12-05T21:21:06.355Z')
    expect(at(86_400_000)).toBe('1970-01-02T00:00:00.000Z')
  })

  it('refuses negative and fractional epoch milliseconds: times before 1970 are written in ISO-8601', () => {
    for (const raw of ['-1', '-86400000', '1.5', '1e3', '0x10', ' -1']) refused(raw)
    for (const raw of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 1e300]) refused(raw)
  })

  it('reads ISO-8601 dates and date-times, an offset or UTC when there is none', () => {
    expect(at('2026-02-28')).toBe('2026-02-28T00:00:00.000Z')
    expect(at('2024-02-29T23:59:59Z')).toBe('2024-02-29T23:59:59.000Z')
    expect(at('2026-12-04T09:00Z')).toBe('2026-12-04T09:00:00.000Z')
    expect(at('2026-12-04T09:00:00.5+02:00')).toBe('2026-12-04T07:00:00.500Z')
    expect(at('2026-12-04T09:00:00.123-0130')).toBe('2026-12-04T10:30:00.123Z')
    expect(at('2026-12-04T09:00:00+05')).toBe('2026-12-04T04:00:00.000Z')
    expect(at('2026-12-04 09:00:00')).toBe('2026-12-04T09:00:00.000Z')
    expect(at('2026-12-04t09:00:00z')).toBe('2026-12-04T09:00:00.000Z')
  })

  it('refuses dates that are not in the calendar rather than rolling them over', () => {
    for (const raw of ['2026-02-29', '2026-02-30', '2025-04-31', '2026-13-01', '2026-00-10', '2026-01-00', '2026-01-01T24:00:00Z', '2026-01-01T12:60:00Z', '2026-01-01T12:00:60Z', '2026-01-01T12:00:00+24:00', '2026-01-01T12:00:00+01:60']) {
      refused(raw)
    }
  })

  it('refuses what V8 reads and the grammar does not: free text, short and expanded forms, sub-millisecond digits', () => {
    for (const raw of ['Dec 5 2026', 'Tue, 01 Dec 2026 00:00:00 GMT', '2026/12/05', '12/05/2026', '2026-12', '2026-1-5', '+002026-12-05T00:00:00Z', '2026-12-05T09', '2026-12-05T09:00:00.1234Z', 'yesterday', '', ' ', 'now+1h', 'now-', 'now-1y', 'NOW']) {
      refused(raw)
    }
  })

  it('reads now and now-<n><unit>', () => {
    expect(at('now')).toBe(NOW.toISOString())
    expect(at('now-1h')).toBe('2026-06-15T11:00:00.000Z')
    expect(at('now-1.5d')).toBe('2026-06-14T00:00:00.000Z')
  })
})

// Valid text, valid numbers, and text shaped like a time with any digits in it.
const inRange = fc.integer({ min: MIN_TIME_MS, max: MAX_TIME_MS })
const d2 = fc.integer({ min: 0, max: 99 }).map((n) => String(n).padStart(2, '0'))
const nearIso = fc
  .tuple(
    fc.integer({ min: 1890, max: 2300 }),
    d2,
    d2,
    fc.option(fc.tuple(fc.constantFrom('T', ' ', 't', 'x'), d2, d2, fc.option(d2), fc.option(fc.stringMatching(/^\d{1,4}$/))), { nil: undefined }),
    fc.constantFrom('', 'Z', '+01:00', '-12:30', '+0545', '+07', '+24:00', '-00:61', 'z'),
  )
  .map(([y, mo, d, t, off]) => {
    if (!t) return `${y}-${mo}-${d}`
    const [sep, h, mi, s, frac] = t
    return `${y}-${mo}-${d}${sep}${h}:${mi}${s === null ? '' : `:${s}${frac === null ? '' : `.${frac}`}`}${off}`
  })
const anyText = fc.oneof(nearIso, fc.string({ maxLength: 30 }), fc.stringMatching(/^-?\d{1,22}$/), inRange.map((ms) => new Date(ms).toISOString()))

/** What a string of the grammar means, read field by field: no Date parsing involved. */
function meaning(s: string): number | null {
  if (/^\d+$/.test(s)) return Number(s)
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?(?:([Zz])|([+-])(\d{2})(?::?(\d{2}))?)?)?$/.exec(s)
  if (!m) return null
  const n = (i: number) => Number(m[i] ?? 0)
  const [y, mo, d, h, mi, sec] = [n(1), n(2), n(3), n(4), n(5), n(6)]
  const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][mo - 1]
  if (days === undefined || d < 1 || d > days || h > 23 || mi > 59 || sec > 59 || n(10) > 23 || n(11) > 59) return null
  const ms = Number((m[7] ?? '').padEnd(3, '0'))
  const offset = (m[9] === '-' ? -1 : 1) * (n(10) * 60 + n(11)) * 60_000
  const dt = new Date(0)
  dt.setUTCFullYear(y, mo - 1, d)
  dt.setUTCHours(h, mi, sec, ms)
  return dt.getTime() - offset
}

describe('the time grammar, property-based', () => {
  const params = { seed: 2262, numRuns: 2000 }

  it('an ISO time or epoch ms in range reads back as the same instant', () => {
    fc.assert(
      fc.property(inRange, (ms) => {
        expect(parseTime(new Date(ms).toISOString(), 'from', NOW).getTime()).toBe(ms)
        // Epoch milliseconds start at 1970: an earlier time is written in ISO-8601.
        if (ms >= 0) {
          expect(parseTime(String(ms), 'from', NOW).getTime()).toBe(ms)
          expect(parseTime(ms, 'from', NOW).getTime()).toBe(ms)
        }
      }),
      params,
    )
  })

  it('any string is refused with a 400 naming the field, or read as exactly the instant it writes', () => {
    fc.assert(
      fc.property(anyText, (s) => {
        // `now` forms read the clock; the cases above pin them.
        if (/^now/.test(s.trim())) return
        let got: number | undefined
        try {
          got = parseTime(s, 'to', NOW).getTime()
        } catch (err) {
          expect(err, s).toMatchObject({ code: 'SPANLENS_BAD_REQUEST', statusCode: 400, message: expect.stringMatching(/^to: /) })
        }
        const want = meaning(s.trim())
        const held = want !== null && want >= MIN_TIME_MS && want <= MAX_TIME_MS
        expect(got, s).toBe(held ? want : undefined)
      }),
      params,
    )
  })
})
