import { type ClickHouseClient, ParamBag, select } from '../db.js'
import type { SpanFilter } from '../filters.js'
import { chTime } from '../time.js'
import { rootsAround } from './slack.js'

/** SQL selecting the listed traces' ids, and how many when known without another read. */
export interface Listed {
  sql: string
  count?: number
}

const HOUR_MS = 3_600_000
const TIME = "DateTime64(9, 'UTC')"
/** The last whole hour a DateTime holds (2106-02-07 06:00:00 UTC), in seconds. */
const LAST_HOUR_S = 4_294_965_600

/**
 * The start of `d`'s UTC hour in seconds since the epoch, computed here: ClickHouse's
 * toStartOfHour of a DateTime64 is a DateTime, which wraps outside 1970–2106 (2200 becomes
 * 2063, 1910 becomes 2046), and a range's reach starts a day before a range from the epoch.
 */
function hourOf(d: Date): number {
  return Math.floor(d.getTime() / HOUR_MS) * 3600
}

/**
 * What a row of trace_hours (clickhouse/013) says of a time range: one row holds a trace's
 * spans of one hour, with the earliest and latest start of its roots and of all its spans.
 * `root`: a root of the row starts in the range; `span`: a span of it does; `hours`: the
 * rows of the range's hours.
 *
 * Each is exact when the range's two ends are in different hours: a row of the hour that
 * holds `from` has every start before `to`, so it has a root in the range exactly when its
 * latest root starts at `from` or after; the hour that holds `to` likewise with its earliest
 * root; an hour between holds only starts in the range. Rows of one hour not merged yet hold
 * the least and greatest of their own spans, and the greatest over them is the hour's.
 */
function rangeOf(range: SpanFilter, bag: ParamBag): { root: string; span: string; hours: string[] } {
  const root = ['first_root IS NOT NULL']
  const span: string[] = []
  const hours: string[] = []
  if (range.from) {
    const from = bag.add(chTime(range.from), TIME)
    root.push(`assumeNotNull(last_root) >= ${from}`)
    span.push(`last_start >= ${from}`)
    const h = hourOf(range.from)
    if (h > 0) hours.push(`hour >= toDateTime(${bag.add(Math.min(h, LAST_HOUR_S), 'UInt32')}, 'UTC')`)
  }
  if (range.to) {
    const to = bag.add(chTime(range.to), TIME)
    root.push(`assumeNotNull(first_root) < ${to}`)
    span.push(`first_start < ${to}`)
    const h = hourOf(range.to)
    if (h <= LAST_HOUR_S) hours.push(`hour <= toDateTime(${bag.add(Math.max(h, 0), 'UInt32')}, 'UTC')`)
  }
  return { root: `(${root.join(' AND ')})`, span: span.length > 0 ? `(${span.join(' AND ')})` : '1', hours }
}

/**
 * The listing's set for `filter` from trace_hours (listed.ts says which traces it holds), with
 * the same answer as the spans' pass; undefined when the range is under an hour long (both
 * ends may fall in one hour, where a row cannot say whether a root starts between them), or
 * ends before it starts: the spans' pass reads one or two hours then.
 *
 * `matching(bag)`: `trace_id IN (…)` of the traces with a span matching the filter's fields
 * other than time (read from spans: the table keeps no span's fields), or undefined.
 *
 * The traces with a root in the range are the rows that say so. The rows with spans in the
 * range and no root are few when traces carry their roots (those that cross an hour, and a
 * trace's spans in parts not merged yet): their traces are checked by id for a root within
 * reach of the range (rootsAround). Past `candidatesMax` of them the set is one pass over the
 * reach's hours grouped by trace. No count: counting the set's distinct ids is the one read
 * that needs them all (countTraces), and the orders never do.
 */
export async function listedFromHours(
  client: ClickHouseClient,
  project: string,
  filter: SpanFilter,
  matching: (bag: ParamBag) => string | undefined,
  bag: ParamBag,
  candidatesMax: number,
): Promise<Listed | undefined> {
  if (filter.from && filter.to && filter.to.getTime() - filter.from.getTime() < HOUR_MS) return undefined
  const first = new ParamBag()
  const r = rangeOf(filter, first)
  const m = matching(first)
  // An aggregate capped at one past the most, not a LIMIT: on a cluster a LIMIT met cancels the
  // shards' reads, and a cancelled Distributed query resets connections (docs/clickhouse.md).
  const rows = await select<{ candidates: string[] }>(
    client,
    `SELECT groupUniqArray(${candidatesMax + 1})(trace_id) AS candidates FROM trace_hours
     WHERE ${[`project_id = ${first.add(project, 'String')}`, ...r.hours, ...(m ? [m] : []), 'first_root IS NULL', r.span].join(' AND ')}`,
    first.values,
  )
  const candidates = rows[0]?.candidates ?? []
  if (candidates.length > candidatesMax) return { sql: groupedFromHours(project, filter, matching, bag) }
  const range = rangeOf(filter, bag)
  const mm = matching(bag)
  const roots = `SELECT trace_id FROM trace_hours WHERE ${[`project_id = ${bag.add(project, 'String')}`, ...range.hours, ...(mm ? [mm] : []), range.root].join(' AND ')}`
  if (candidates.length === 0) return { sql: roots }
  const check = new ParamBag()
  const reach = rangeOf(rootsAround(filter), check)
  const reached = await select<{ trace_id: string }>(
    client,
    `SELECT DISTINCT trace_id FROM trace_hours
     WHERE ${[`project_id = ${check.add(project, 'String')}`, ...reach.hours, `trace_id IN ${check.add(candidates, 'Array(String)')}`, reach.root].join(' AND ')}`,
    check.values,
  )
  const hasRoot = new Set(reached.map((x) => x.trace_id))
  const rootless = candidates.filter((id) => !hasRoot.has(id))
  return rootless.length === 0 ? { sql: roots } : { sql: `${roots} UNION ALL SELECT arrayJoin(${bag.add(rootless, 'Array(String)')})` }
}

/** The listed set in one pass over the reach's hours grouped by trace: for stores where most traces have no root in the range. */
function groupedFromHours(project: string, filter: SpanFilter, matching: (bag: ParamBag) => string | undefined, bag: ParamBag): string {
  const range = rangeOf(filter, bag)
  const reach = rangeOf(rootsAround(filter), bag)
  const m = matching(bag)
  return `SELECT trace_id FROM trace_hours
    WHERE ${[`project_id = ${bag.add(project, 'String')}`, ...reach.hours, ...(m ? [m] : [])].join(' AND ')}
    GROUP BY trace_id
    HAVING max(${range.root}) OR (max(${range.span}) AND NOT max(${reach.root}))`
}
