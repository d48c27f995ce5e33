/**
 * How Spanlens writes money, durations, times and counts for people: the CLI's
 * tables and the console use these same functions (`@spanlens/query/format`, no
 * dependencies, safe in a browser bundle), so a figure reads the same everywhere.
 */

/**
 * Dollars: cents from $1, four decimals from one cent, and below that two
 * significant digits written out in full ($0.000077, $0.00000034): an LLM call
 * costs fractions of a cent, and 3.4e-7 reads as noise. Null is `unknown`.
 */
export function usd(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return 'unknown'
  const sign = value < 0 ? '-' : ''
  const v = Math.abs(value)
  if (v === 0) return '$0'
  if (v >= 1) return `${sign}$${v.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`
  if (v >= 0.01) return `${sign}$${trimZeros(v.toFixed(4))}`
  // Two significant digits: the position of the first one, plus one.
  const decimals = Math.min(20, -Math.floor(Math.log10(v)) + 1)
  return `${sign}$${trimZeros(v.toFixed(decimals))}`
}

/**
 * A total cost of LLM calls: `≥ $…` when some of the calls had no price (`incomplete`), a lower
 * bound. `unknown` when there is no total, or when it is 0 with some calls unpriced: the priced
 * calls (if any) cost nothing, and `≥ $0` would say nothing of the rest.
 */
export function costTotal(value: number | null | undefined, incomplete = false): string {
  if (!incomplete) return usd(value)
  return value === null || value === undefined || !Number.isFinite(value) || value === 0 ? 'unknown' : `≥ ${usd(value)}`
}

/**
 * A duration given in milliseconds, in one style with its unit: `87 ms`,
 * `165.4 ms`, `3.04 s`, `2 min 05 s`, `1 h 02 min`.
 */
export function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '-'
  const sign = ms < 0 ? '-' : ''
  const v = Math.abs(ms)
  if (v < 1000) return `${sign}${trimZeros(v.toFixed(v < 10 ? 2 : 1))} ms`
  if (v < 60_000) return `${sign}${(v / 1000).toFixed(2)} s`
  const s = Math.round(v / 1000)
  if (s < 3600) return `${sign}${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`
  return `${sign}${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} min`
}

/** A time in one format with its zone, UTC unless told otherwise: `2026-12-04 09:00:00 UTC`. */
export function timestamp(value: string | number | Date | null | undefined, timeZone = 'UTC'): string {
  if (value === null || value === undefined || value === '') return '-'
  const d = value instanceof Date ? value : new Date(value)
  if (Number.isNaN(d.getTime())) return String(value)
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23', timeZoneName: 'short' })
      .formatToParts(d)
      .map((p) => [p.type, p.value]),
  )
  return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute}:${parts.second} ${parts.timeZoneName}`
}

/** A count with thousands separators: 1,975,374. */
export function count(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '-'
  return Math.round(value).toLocaleString('en-US')
}

/** A measured quantity (statistic, ratio, rate) with four significant digits, never in exponent form above 1e-4. */
export function decimal(value: number | null | undefined): string {
  if (value === null || value === undefined) return '-'
  if (!Number.isFinite(value)) return String(value)
  if (Number.isInteger(value)) return count(value)
  const v = Math.abs(value)
  if (v !== 0 && v < 1e-4) return value.toExponential(2)
  if (v >= 1000) return value.toLocaleString('en-US', { maximumFractionDigits: 1 })
  return trimZeros(value.toPrecision(4))
}

function trimZeros(text: string): string {
  return text.includes('.') ? text.replace(/\.?0+$/, '') : text
}
