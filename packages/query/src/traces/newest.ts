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
function windowStarts(filter: SpanFilter, hour: number): number[] {
  const from = filter.from?.getTime()
  const starts: number[] = []
  for (const h of WINDOW_HOURS) {
    const start = hour - (h - 1) * HOUR_MS
    if (from !== undefined && start <= from) break
    starts.push(start)
  }
  return starts
}

/** The start of the hour the page's upper bound (the cursor, else the filter's end, else now) falls in. */
function upperHour(filter: SpanFilter, cursor: Cursor | undefined, now: number): number {
  const upper = cursor ? Number(BigInt(cursor.ns) / 1_000_000n) + 1 : (filter.to?.getTime() ?? now + 60_000)
  return Math.floor((upper - 1) / HOUR_MS) * HOUR_MS
}

/**
 * The newest hour before `before` (ms, an hour's start) that holds any span of the project at
 * or after `from`, whatever the listing's other filters; undefined when none does.
 */
export type NewestHourBefore = (before: number, from: Date) => Promise<number | undefined>

/**
 * The first `want` rows of a newest-first listing: `run` (the listing's one FINAL read,
 * newest first, at most `want` rows) on growing windows of the newest whole hours, then on
 * the whole filter. A window holding `want` rows holds the first `want` of the whole filter
 * (every row outside it starts earlier), so each page is exactly the plain read's, while it
 * reads the newest hours that hold it rather than the filter's whole range.
 *
 * When the newest hour holds nothing, `newestHour` says where the project's spans resume
 * before it, within the largest window's reach, and the windows grow from there: a project
 * whose spans stopped a day ago reads one or two windows instead of all five, and one with
 * nothing in reach (an empty project, a quiet week) goes straight to the whole filter. Any
 * window start keeps the pages exact (the argument above holds for every window); the probe
 * only chooses better ones. A newest hour holding some rows, or spans resuming the hour
 * before it (a filter matching few of a busy project's spans), keeps the usual windows.
 */
export async function newestFirst<R>(
  filter: SpanFilter,
  cursor: Cursor | undefined,
  want: number,
  run: (window: SpanFilter) => Promise<R[]>,
  newestHour: NewestHourBefore,
  now = Date.now(),
): Promise<R[]> {
  const usual = windowStarts(filter, upperHour(filter, cursor, now))
  const first = usual[0]
  if (first === undefined) return run(filter)
  const rows = await run({ ...filter, from: new Date(first) })
  if (rows.length >= want) return rows
  let rest = usual.slice(1)
  if (rows.length === 0) {
    const reach = first - ((WINDOW_HOURS.at(-1) as number) - 1) * HOUR_MS
    const resume = await newestHour(first, new Date(Math.max(reach, filter.from?.getTime() ?? reach)))
    if (resume === undefined) return run(filter)
    if (resume < first - HOUR_MS) rest = windowStarts(filter, resume)
  }
  for (const start of rest) {
    const rows = await run({ ...filter, from: new Date(start) })
    if (rows.length >= want) return rows
  }
  return run(filter)
}
