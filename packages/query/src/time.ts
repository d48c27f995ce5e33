import { errors } from './errors.js'

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }

/**
 * The latest instant spans.start_time, a DateTime64(9), holds: Int64 nanoseconds end at
 * 2262-04-11T23:47:16.854775807Z, and a later bound fails the whole query with
 * DECIMAL_OVERFLOW (a 502). The earliest is DateTime64's own, 1900-01-01. A time outside
 * them is a 400 naming the parameter.
 */
export const MAX_TIME_NS = 2n ** 63n - 1n
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

/**
 * Accepts an ISO-8601 time, epoch milliseconds, `now`, or `now-<duration>`
 * (e.g. now-24h) and returns a Date from MIN_TIME_MS to MAX_TIME_MS.
 */
export function parseTime(raw: string | number | Date, field = 'time', now = new Date()): Date {
  if (raw instanceof Date) return checkDate(raw, field, String(raw))
  if (typeof raw === 'number') return checkDate(new Date(raw), field, String(raw))
  if (typeof raw !== 'string') throw errors.BAD_REQUEST(`${field}: expected a string or a number`)
  const s = raw.trim()
  if (s === 'now') return checkDate(now, field, s)
  const rel = /^now\s*-\s*(.+)$/.exec(s)
  if (rel) return checkDate(new Date(now.getTime() - parseDuration(rel[1] as string, field)), field, s)
  if (/^\d{10,}$/.test(s)) return checkDate(new Date(Number(s)), field, s)
  return checkDate(new Date(s), field, s)
}

function checkDate(d: Date, field: string, raw: string): Date {
  const ms = d.getTime()
  if (Number.isNaN(ms)) throw errors.BAD_REQUEST(`${field}: expected an ISO-8601 time, epoch ms or now-<duration>, got "${clip(raw)}"`)
  if (ms < MIN_TIME_MS || ms > MAX_TIME_MS) throw errors.BAD_REQUEST(`${field}: ${clip(raw)} is outside ${TIME_RANGE}, the times the store holds`)
  return d
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
