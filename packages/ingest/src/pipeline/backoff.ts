/**
 * How long the inserter waits before retrying a failed insert (the store opener too, and the
 * content merge over a range of its own). The ceiling doubles from 200 ms with each failure in
 * a row, up to 10 s; the wait is drawn uniformly below it
 * ("full jitter", AWS Architecture Blog, "Exponential Backoff And Jitter", 2015). Many
 * servers behind one ClickHouse all fail at once when it goes down; without jitter they
 * retried in lock-step at 200, 400, 800 ms… after it came back. Full rather than
 * decorrelated jitter: in that post's simulation it made the fewest calls of the
 * variants, it needs no state but the failure count the inserter keeps anyway, and it
 * stays under the ceiling, so never past 10 s, by construction.
 */
export const MAX_BACKOFF_MS = 10_000

/** Where the ceiling starts and where it stops doubling. */
export interface BackoffRange {
  firstMs: number
  maxMs: number
}

/** The inserter's and the store opener's: 200 ms to 10 s. */
const INSERTS: BackoffRange = { firstMs: 200, maxMs: MAX_BACKOFF_MS }

/** The ceiling after `failures` failures in a row (1 for the first). */
export function backoffCeilingMs(failures: number, range: BackoffRange = INSERTS): number {
  if (failures <= 0) return 0
  // Past 2^16 times the first the ceiling is at the cap for any range used here; the exponent is bounded so it never overflows.
  return Math.min(range.maxMs, range.firstMs * 2 ** Math.min(failures - 1, 16))
}

/** The wait after `failures` failures in a row: `random` (uniform in [0, 1)) of the ceiling. */
export function backoffMs(failures: number, random: () => number, range: BackoffRange = INSERTS): number {
  return Math.floor(backoffCeilingMs(failures, range) * Math.min(Math.max(random(), 0), 1))
}
