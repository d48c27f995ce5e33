import type { ParamBag } from '../db.js'
import { spanConditions, type SpanFilter } from '../filters.js'
import { rootsAround } from './slack.js'

const ROOT = "parent_span_id = ''"

interface HeadOptions {
  /** an expression over a span: each trace's `head_value` is its heads' (below) */
  value?: string
  /** more conditions on every span read (a trace-level filter such as `trace_id IN (…)`) */
  where?: string[]
  /** read the spans' last versions (FINAL): for a value that a re-delivered span may change */
  final?: boolean
}

/**
 * Which span stands for a trace among the spans `heads` selects (SQL on spans, in `range`'s
 * time): its roots there or, when the trace has no root within reach of the range (rootsAround,
 * slack.ts: its root ran in a service that does not export here, or has not ended yet), its
 * earliest span there (ties: the lower span id). A trace whose root is within reach but not
 * among `heads` has no head. The trace listing lists a trace by its head in its time range
 * (listed.ts, list.ts); drift sides a trace's scores and bias groups them by it.
 *
 * SQL of one row per trace with a head: `trace_id` and, with `value`, `head_value`: the least
 * of its roots' values among `heads`, else its earliest head's value. One pass over the range's
 * spans that `heads` selects and every root within reach, grouped by trace.
 */
export function headedTraces(project: string, range: SpanFilter, heads: string, bag: ParamBag, opts: HeadOptions = {}): string {
  const reach = spanConditions(project, rootsAround(range), bag)
  // Outside `heads` only roots count: the rows grouped are the heads' spans and the reach's roots.
  const where = [...reach, ...(opts.where ?? []), `(${ROOT} OR (${heads}))`]
  const rootHeads = `${ROOT} AND (${heads})`
  const value =
    opts.value === undefined ? '' : `, if(countIf(${rootHeads}) > 0, minIf(${opts.value}, ${rootHeads}), argMinIf(${opts.value}, (start_time, span_id), ${heads})) AS head_value`
  return `SELECT trace_id${value} FROM spans${opts.final === true ? ' FINAL' : ''} WHERE ${where.join(' AND ')} GROUP BY trace_id
    HAVING countIf(${rootHeads}) > 0 OR (countIf(${ROOT}) = 0 AND countIf(${heads}) > 0)`
}
