import { type ClickHouseClient, ParamBag, select } from '../db.js'
import { spanConditions, type SpanFilter, timeOf } from '../filters.js'
import { shiftedTime } from '../time.js'
import { headedTraces } from './heads.js'
import { rootsAround, TRACE_SLACK } from './slack.js'
import { type Listed, listedFromHours } from './trace-hours.js'

/**
 * Which traces the trace listing holds for a filter. A trace is listed by its head: its
 * earliest root span in the time range or, when it has no root within reach of the range
 * (rootsAround, slack.ts: a day before the range to an hour after it; its root ran in a service that does not export here, or has not ended yet),
 * its earliest span there. Time filters apply to the head; any other filter keeps a trace
 * when at least one of its spans in the range matches.
 */

/**
 * The range and the filter's other fields, on the spans of listed traces. `listed` is the
 * listing's own range when `filter.from` narrows it to a window (traces/newest.ts): the
 * matching spans are then looked for from an hour before the window (a child whose clock
 * runs behind its root's may start before it: TRACE_SLACK, slack.ts), never before the
 * listing's start.
 */
export function traceConditions(project: string, filter: SpanFilter, bag: ParamBag, listed?: SpanFilter): string[] {
  const where = spanConditions(project, timeOf(filter), bag)
  const matching = matchingTraces(project, filter, bag, listed)
  return matching === undefined ? where : [...where, matching]
}

/** `trace_id IN (…)`: the traces with a span in the range that matches the filter's other fields; undefined when it has none. */
function matchingTraces(project: string, filter: SpanFilter, bag: ParamBag, listed?: SpanFilter): string | undefined {
  const { from, to: _to, ...spanLevel } = filter
  if (!Object.values(spanLevel).some((v) => v !== undefined)) return undefined
  const narrowed = listed !== undefined && from !== undefined && from.getTime() !== listed.from?.getTime()
  const spansFrom = narrowed ? new Date(Math.max(shiftedTime(from, -TRACE_SLACK.beforeRootMs).getTime(), listed.from?.getTime() ?? -Infinity)) : from
  return `trace_id IN (SELECT trace_id FROM spans WHERE ${spanConditions(project, spansFrom ? { ...filter, from: spansFrom } : filter, bag).join(' AND ')})`
}

/**
 * Most traces without a root in the range that are checked by id. Past it (a store where most
 * traces have no root: every trace continues one started elsewhere) the listed set is read in
 * one pass grouped by trace instead (groupedListed).
 */
const CANDIDATES_MAX = 10_000

/**
 * The listed traces for `filter`, from trace_hours (trace-hours.ts: a row per trace and hour,
 * kept at insert) for a range of an hour or more, else from the spans: one pass in the store's
 * order (hour, then trace) finds the traces with a root in the range (counted) and the traces
 * with spans in an hour of the range but no root in it: few when traces carry their roots
 * (those that cross an hour), so they are checked by id for a root within reach, and the rest
 * are listed without one. A filter on the spans' other fields reads the spans that match it
 * either way (matchingTraces): the table keeps no span's fields.
 */
async function listed(client: ClickHouseClient, project: string, filter: SpanFilter, bag: ParamBag): Promise<Listed> {
  const fromHours = await listedFromHours(client, project, filter, (b) => matchingTraces(project, filter, b), bag, CANDIDATES_MAX)
  if (fromHours) return fromHours
  const first = new ParamBag()
  const rows = await select<{ rooted: number; candidates: string[] }>(
    client,
    `SELECT uniqExactIf(trace_id, roots > 0) AS rooted, groupUniqArrayIf(${CANDIDATES_MAX + 1})(trace_id, roots = 0) AS candidates
     FROM (SELECT trace_id, countIf(parent_span_id = '') AS roots FROM spans
           WHERE ${traceConditions(project, filter, first).join(' AND ')}
           GROUP BY project_id, toStartOfHour(start_time), trace_id)
     SETTINGS optimize_aggregation_in_order = 1`,
    first.values,
  )
  const rooted = Number(rows[0]?.rooted ?? 0)
  const candidates = rows[0]?.candidates ?? []
  if (candidates.length > CANDIDATES_MAX) return { sql: groupedListed(project, filter, bag) }
  const roots = `SELECT trace_id FROM spans WHERE ${[...traceConditions(project, filter, bag), "parent_span_id = ''"].join(' AND ')}`
  if (candidates.length === 0) return { sql: roots, count: rooted }
  const check = new ParamBag()
  const reached = await select<{ trace_id: string }>(
    client,
    `SELECT DISTINCT trace_id FROM spans WHERE ${[...spanConditions(project, rootsAround(filter), check), "parent_span_id = ''", `trace_id IN ${check.add(candidates, 'Array(String)')}`].join(' AND ')}`,
    check.values,
  )
  const hasRoot = new Set(reached.map((r) => r.trace_id))
  const rootless = candidates.filter((id) => !hasRoot.has(id))
  if (rootless.length === 0) return { sql: roots, count: rooted }
  return { sql: `${roots} UNION ALL SELECT arrayJoin(${bag.add(rootless, 'Array(String)')})`, count: rooted + rootless.length }
}

/**
 * The listed traces' ids in one pass over the range's spans and the reach's roots, grouped by
 * trace (heads.ts): for stores where most traces have no root in the range.
 */
export function groupedListed(project: string, filter: SpanFilter, bag: ParamBag): string {
  const matching = matchingTraces(project, filter, bag)
  const inRange = spanConditions(project, timeOf(filter), bag).slice(1)
  return headedTraces(project, filter, inRange.length > 0 ? inRange.join(' AND ') : '1', bag, matching === undefined ? {} : { where: [matching] })
}

/** SQL selecting the ids of the traces the listing holds for `filter` (reads the store to build it). */
export async function listedTraces(client: ClickHouseClient, project: string, filter: SpanFilter, bag: ParamBag): Promise<string> {
  return (await listed(client, project, filter, bag)).sql
}

/** How many traces the listing would walk through for this filter. */
export async function countTraces(client: ClickHouseClient, project: string, filter: SpanFilter): Promise<number> {
  const bag = new ParamBag()
  const set = await listed(client, project, filter, bag)
  if (set.count !== undefined) return set.count
  // DISTINCT, then count: half the time of uniqExact over 2.4 million ids (bench/README.md, "session 25").
  const rows = await select<{ n: number }>(client, `SELECT count() AS n FROM (SELECT DISTINCT trace_id FROM (${set.sql}))`, bag.values)
  return Number(rows[0]?.n ?? 0)
}
