import { errors } from './errors.js'

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }

/** Parses `30d`, `1h`, `5m` into milliseconds. */
export function parseDuration(raw: string, field = 'duration'): number {
  const m = /^(\d+(?:\.\d+)?)\s*([smhdw])$/.exec(raw.trim())
  if (!m) throw errors.BAD_REQUEST(`${field}: expected a duration such as 5m, 1h or 30d, got "${raw}"`)
  return Number(m[1]) * (UNITS[m[2] as string] as number)
}

/**
 * Accepts an ISO-8601 time, epoch milliseconds, `now`, or `now-<duration>`
 * (e.g. now-24h) and returns a Date.
 */
export function parseTime(raw: string | number | Date, field = 'time', now = new Date()): Date {
  if (raw instanceof Date) return raw
  if (typeof raw === 'number') return checkDate(new Date(raw), field, String(raw))
  const s = raw.trim()
  if (s === 'now') return now
  const rel = /^now\s*-\s*(.+)$/.exec(s)
  if (rel) return new Date(now.getTime() - parseDuration(rel[1] as string, field))
  if (/^\d{10,}$/.test(s)) return checkDate(new Date(Number(s)), field, s)
  return checkDate(new Date(s), field, s)
}

function checkDate(d: Date, field: string, raw: string): Date {
  if (Number.isNaN(d.getTime())) throw errors.BAD_REQUEST(`${field}: expected an ISO-8601 time, epoch ms or now-<duration>, got "${raw}"`)
  return d
}

/** ClickHouse DateTime64 literal text in UTC, for `{p:DateTime64(3, 'UTC')}` parameters. */
export function chTime(d: Date): string {
  return d.toISOString().replace('T', ' ').replace('Z', '')
}

/** Nanoseconds since the epoch (string from ClickHouse) to an ISO string. */
export function nanosToIso(ns: string): string {
  return new Date(Number(BigInt(ns) / 1_000_000n)).toISOString()
}
