import { errors } from './errors.js'
import { MAX_TIME_NS } from './time-window.js'

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }

/**
 * The times a request may name: up to the latest the store holds (MAX_TIME_NS,
 * time-window.ts), from DateTime64's own earliest, 1900-01-01. A time outside them is a
 * 400 naming the parameter.
 */
export const MIN_TIME_MS = Date.UTC(1900, 0, 1)
/** The last whole millisecond at or before MAX_TIME_NS: 2262-04-11T23:47:16.854Z. */
export const MAX_TIME_MS = Number(MAX_TIME_NS / 1_000_000n)
/** The longest duration accepted anywhere: the whole DateTime64 range. */
const MAX_DURATION_MS = MAX_TIME_MS - MIN_TIME_MS

/** Ten years: a longer bucket is no use on a time axis, and its seconds fit the UInt32 a query binds them as. */
const MAX_BUCKET_MS = 3650 * 86_400_000

/** Parses `30d`, `1h`, `5m` into milliseconds; more than `maxMs` is a 400 naming `field`. */
export function parseDuration(raw: string, field = 'duration', maxMs = MAX_DURATION_MS): number {
  const m = /^(\d+(?:\.\d+)?)\s*([smhdw])$/.exec(String(raw).trim())
  if (!m) throw errors.BAD_REQUEST(`${field}: expected a duration such as 5m, 1h or 30d, got "${clip(raw)}"`)
  const ms = Number(m[1]) * (UNITS[m[2] as string] as number)
  if (!Number.isFinite(ms) || ms > maxMs) {
    throw errors.BAD_REQUEST(`${field}: duration "${clip(raw)}" is longer than the maximum of ${Math.floor(maxMs / 86_400_000)}d`)
  }
  return ms
}

/**
 * A time bucket (`30s`, `5m`, `1h`) in whole seconds: ClickHouse's intervals count
 * whole seconds, so `1.5s` or `0.5s` is a 400 naming `field`
 * rather than silently another width.
 */
export function parseBucketSeconds(raw: string, field = 'bucket'): number {
  // Rounded to the millisecond first: `0.27m` is 16200.000000000002 ms in binary floating point.
  const ms = Math.round(parseDuration(raw, field, MAX_BUCKET_MS))
  if (ms < 1000 || ms % 1000 !== 0) throw errors.BAD_REQUEST(`${field}: expected a whole number of seconds, at least 1s, got "${clip(raw)}"`)
  return ms / 1000
}

/** At most `max` buckets of `bucketSeconds` between `fromMs` and `toMs`, else a 400 naming `bucket` (`raw`, as given). */
export function checkBucketCount(raw: string, bucketSeconds: number, fromMs: number, toMs: number, max: number): void {
  if ((toMs - fromMs) / (bucketSeconds * 1000) > max) {
    throw errors.BAD_REQUEST(`bucket: ${clip(raw)} makes more than ${max} buckets between from and to; choose a longer one`)
  }
}

const EXPECTED_TIME = 'expected an ISO-8601 time (2026-12-04T09:00:00Z), epoch milliseconds, now or now-<n><s|m|h|d|w>'

/**
 * Reads a time in the grammar of docs/api.md ("Times"), and nothing else: digits alone are
 * epoch milliseconds (`0`, `86400000`), an ISO-8601 date or date-time is read field by
 * field (UTC when it names no offset; a date not in the calendar is refused, never rolled
 * over), then `now` and `now-<duration>`. V8's own Date parsing reads `5` as a year, `Dec 5
 * 2026` as a date and `2026-02-30` as March 2nd, so it is not used. Returns a Date from
 * MIN_TIME_MS to MAX_TIME_MS; anything else is a 400 naming `field`.
 */
export function parseTime(raw: string | number | Date, field = 'time', now = new Date()): Date {
  if (raw instanceof Date) return inRange(raw.getTime(), field, String(raw))
  if (typeof raw === 'number') {
    if (!Number.isSafeInteger(raw) || raw < 0) throw errors.BAD_REQUEST(`${field}: epoch milliseconds are a whole number from 0, got ${clip(raw)}`)
    return inRange(raw, field, String(raw))
  }
  if (typeof raw !== 'string') throw errors.BAD_REQUEST(`${field}: expected a string or a number`)
  const s = raw.trim()
  if (/^\d+$/.test(s)) return inRange(Number(s), field, s)
  if (s === 'now') return inRange(now.getTime(), field, s)
  const rel = /^now\s*-\s*(.+)$/.exec(s)
  if (rel) return inRange(now.getTime() - parseDuration(rel[1] as string, field), field, s)
  const iso = isoTime(s)
  if (typeof iso === 'string') throw errors.BAD_REQUEST(`${field}: ${iso}, got "${clip(s)}"`)
  return inRange(iso, field, s)
}

const ISO_TIME = /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?(?:([Zz])|([+-])(\d{2})(?::?(\d{2}))?)?)?$/

/** Epoch ms of an ISO-8601 date or date-time, or why it is not one. */
function isoTime(s: string): number | string {
  const m = ISO_TIME.exec(s)
  if (!m) return EXPECTED_TIME
  const n = (i: number) => Number(m[i] ?? 0)
  const [year, month, day, hour, minute, second, offsetHours, offsetMinutes] = [n(1), n(2), n(3), n(4), n(5), n(6), n(10), n(11)]
  const fraction = m[7] ?? ''
  // The store and every reply keep milliseconds: finer digits would be dropped unsaid.
  if (fraction.length > 3) return 'times are read to the millisecond, at most 3 digits after the second'
  const days = month >= 1 && month <= 12 ? daysInMonth(year, month) : 0
  if (day < 1 || day > days || hour > 23 || minute > 59 || second > 59 || offsetHours > 23 || offsetMinutes > 59) return 'not a date and time of the calendar'
  const d = new Date(0)
  // setUTCFullYear, not Date.UTC: Date.UTC reads years 0 to 99 as 1900 to 1999.
  d.setUTCFullYear(year, month - 1, day)
  d.setUTCHours(hour, minute, second, Number(fraction.padEnd(3, '0')))
  const offset = (m[9] === '-' ? -1 : 1) * (offsetHours * 60 + offsetMinutes) * 60_000
  return d.getTime() - offset
}

function daysInMonth(year: number, month: number): number {
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0
  return [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1] as number
}

function inRange(ms: number, field: string, raw: string): Date {
  if (Number.isNaN(ms)) throw errors.BAD_REQUEST(`${field}: ${EXPECTED_TIME}, got "${clip(raw)}"`)
  if (ms < MIN_TIME_MS || ms > MAX_TIME_MS) throw errors.BAD_REQUEST(`${field}: ${clip(raw)} is outside ${TIME_RANGE}, the times the store holds`)
  return new Date(ms)
}

const TIME_RANGE = `${new Date(MIN_TIME_MS).toISOString()}..${new Date(MAX_TIME_MS).toISOString()}`

/**
 * `d` moved by `ms` and kept within the times the store holds: a read with slack around
 * the caller's range (an hour before, a day after) must not itself overflow at its ends.
 */
export function shiftedTime(d: Date, ms: number): Date {
  return new Date(Math.min(MAX_TIME_MS, Math.max(MIN_TIME_MS, d.getTime() + ms)))
}

function clip(raw: unknown): string {
  const s = String(raw)
  return s.length > 64 ? `${s.slice(0, 64)}…` : s
}

/** ClickHouse DateTime64 literal text in UTC, for `{p:DateTime64(3, 'UTC')}` parameters. */
export function chTime(d: Date): string {
  return d.toISOString().replace('T', ' ').replace('Z', '')
}

/** Nanoseconds since the epoch (string from ClickHouse) to an ISO string. */
export function nanosToIso(ns: string): string {
  return new Date(Number(BigInt(ns) / 1_000_000n)).toISOString()
}
