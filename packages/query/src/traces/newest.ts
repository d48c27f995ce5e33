import type { SpanFilter } from '../filters.js'
import type { Cursor } from './cursor.js'

const HOUR_MS = 3_600_000
/** Windows of the newest 1, 2, 6, 24 and 168 whole hours. */
const WINDOW_HOURS = [1, 2, 6, 24, 168]

/**
 * The starts (ms) of the windows a newest-first page tries, newest first: whole hours
 * ending at the page's upper bound (the cursor, else the filter's end, else now).
 *
 * Spans are stored by (project, hour, trace, span): a read skips whole hours and nothing
 * finer, so a window that starts mid-hour costs the whole hour (a window of the last 60
 * minutes reads two hours, 1.5 on average), and FINAL keeps a read from stopping early in
 * start order. An hour's boundary is also one every version of a span is on the same side
 * of (the hour is in the span's key), so FINAL over a window of whole hours keeps or drops
 * whole spans.
 */
function windowStarts(filter: SpanFilter, cursor: Cursor | undefined, now: number): number[] {
  const upper = cursor ? Number(BigInt(cursor.ns) / 1_000_000n) + 1 : (filter.to?.getTime() ?? now + 60_000)
  const hour = Math.floor((upper - 1) / HOUR_MS) * HOUR_MS
  const from = filter.from?.getTime()
  const starts: number[] = []
  for (const h of WINDOW_HOURS) {
    const start = hour - (h - 1) * HOUR_MS
    if (from !== undefined && start <= from) break
    starts.push(start)
  }
  return starts
}

/**
 * The first `want` rows of a newest-first listing: `run` (the listing's one FINAL read,
 * newest first, at most `want` rows) on growing windows of the newest whole hours, then on
 * the whole filter. A window holding `want` rows holds the first `want` of the whole filter
 * (every row outside it starts earlier), so each page is exactly the plain read's, while it
 * reads the newest hours that hold it rather than the filter's whole range.
 */
export async function newestFirst<R>(filter: SpanFilter, cursor: Cursor | undefined, want: number, run: (window: SpanFilter) => Promise<R[]>, now = Date.now()): Promise<R[]> {
  for (const start of windowStarts(filter, cursor, now)) {
    const rows = await run({ ...filter, from: new Date(start) })
    if (rows.length >= want) return rows
  }
  return run(filter)
}
