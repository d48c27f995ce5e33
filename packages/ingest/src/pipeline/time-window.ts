import { aheadOfClock, MAX_FUTURE_MS, olderThanRetention } from '@spanlens/query/time-window'
import { compareNs } from '../otlp/values.js'

export interface TimeWindow {
  earliestNs: string
  latestNs: string
  retentionDays: number
}

/**
 * The times a span may start at, or a log record be timestamped at, and still be
 * kept. Older than the retention, the TTL would drop it at the next merge:
 * acknowledged, never queryable. Much later than now, it lands past what the
 * TTL's toDateTime (2106) and the daily partition's toDate (2149) represent, and
 * both wrap around: such a row could be expired at once too. Each day in the
 * window is a partition, so the window also bounds how many partitions one insert
 * can touch (inserter.ts).
 */
export function timeWindow(retentionDays: number, nowMs = Date.now()): TimeWindow {
  const ms = (t: number) => (BigInt(Math.max(0, Math.trunc(t))) * 1_000_000n).toString()
  return {
    earliestNs: retentionDays > 0 ? ms(nowMs - retentionDays * 86_400_000) : '0',
    latestNs: ms(nowMs + MAX_FUTURE_MS),
    retentionDays,
  }
}

/** Why a time (`field`, e.g. start_time_unix_nano) is outside the window, or undefined. */
export function outsideWindow(ns: string, w: TimeWindow, field: string): string | undefined {
  if (compareNs(ns, w.earliestNs) < 0) return olderThanRetention(field, w.retentionDays)
  if (compareNs(ns, w.latestNs) > 0) return aheadOfClock(field)
  return undefined
}
