import type { SpanFilter } from '../filters.js'
import { shiftedTime } from '../time.js'

/**
 * How far a trace's spans may start from its root's start: what every read allows that finds
 * a trace's spans from its root (a trace's totals, the listing's orders, a session's turns, a
 * user's traces) or its root from its spans (the listing's and the analyses' traces without a
 * root, heads.ts). The table is ordered by hour first, so a read finds a trace's spans
 * only within a time range it names, and these bound that range.
 * - After the root, a day: an agent run keeps starting spans for as long as it runs (tool
 *   calls, retries, waits for a human), and a day covers runs that outlast a working session.
 * - Before the root, an hour: a child on another host whose clock runs behind its root's
 *   starts "before" it by that clock's skew: milliseconds between hosts kept by NTP, and a
 *   quartz clock left to itself drifts by tens of parts per million, a second or two a day.
 */
export const TRACE_SLACK = { beforeRootMs: 3_600_000, afterRootMs: 86_400_000 } as const

/** Where the spans of traces whose roots start in `range` may start. */
export function spansAround(range: SpanFilter): SpanFilter {
  return {
    ...(range.from ? { from: shiftedTime(range.from, -TRACE_SLACK.beforeRootMs) } : {}),
    ...(range.to ? { to: shiftedTime(range.to, TRACE_SLACK.afterRootMs) } : {}),
  }
}

/** Where the roots of traces with spans starting in `range` may start: the mirror of spansAround. */
export function rootsAround(range: SpanFilter): SpanFilter {
  return {
    ...(range.from ? { from: shiftedTime(range.from, -TRACE_SLACK.afterRootMs) } : {}),
    ...(range.to ? { to: shiftedTime(range.to, TRACE_SLACK.beforeRootMs) } : {}),
  }
}
