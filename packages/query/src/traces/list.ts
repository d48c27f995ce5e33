import { contentOf, withContent } from '../content/span-content.js'
import { type ClickHouseClient, ParamBag, select } from '../db.js'
import { spanConditions, type SpanFilter, timeOf } from '../filters.js'
import { nanosToIso } from '../time.js'
import { type Cursor, encodeCursor } from './cursor.js'
import { type NewestHourBefore, newestFirst } from './newest.js'
import { countTraces, traceConditions } from './listed.js'
import { encodeOrderCursor, orderedTraceIds, type OrderCursor, type TraceOrder } from './order.js'
import { noTokens, type RawSpan, type Span, spanSelect, toSpan } from './span-row.js'
import { LIVE_SCORES, type ScoreBrief } from '../scores/live.js'
import { rootsAround, TRACE_SLACK } from './slack.js'
import { type SpanTotals, TOTALS_SELECT, totalsOf } from './totals.js'

export interface ListOptions {
  filter?: SpanFilter
  limit?: number
  cursor?: Cursor
  /** include input/output text (off by default: they can be large) */
  includeIo?: boolean
}

export interface TraceListOptions extends Omit<ListOptions, 'cursor'> {
  /** keyset cursor of the default order (newest first) */
  cursor?: Cursor
  /** another order (order.ts) and its cursor */
  order?: TraceOrder
  orderCursor?: OrderCursor
  /** also count every trace the filter matches */
  total?: boolean
}

export interface Page<T> {
  items: T[]
  nextCursor: string | null
  /** every item the filter matches, over all pages (traces, when asked with total=1) */
  total?: number
}

function keyset(bag: ParamBag, cursor: Cursor | undefined, idCol: string): string[] {
  if (!cursor) return []
  const t = `fromUnixTimestamp64Nano(${bag.add(cursor.ns, 'Int64')}, 'UTC')`
  // Spelled as two conditions so the primary key's start_time bound still prunes.
  return [`start_time <= ${t}`, `(start_time < ${t} OR ${idCol} < ${bag.add(cursor.id, 'String')})`]
}

/**
 * newestFirst's probe: the project's newest span hour in [from, before), read from the end of
 * the sorting key's (project, hour) range in reverse order, so it reads the last granules of
 * the days in range instead of their spans (3 ms on an empty project, 5–7 ms over a week of
 * 3 M spans, measured embedded). No FINAL: every version of a span has its hour.
 */
function newestHourOf(client: ClickHouseClient, project: string): NewestHourBefore {
  return async (before, from) => {
    const bag = new ParamBag()
    const where = spanConditions(project, { from, to: new Date(before) }, bag)
    const rows = await select<{ hour: string }>(
      client,
      `SELECT toString(toUnixTimestamp(toStartOfHour(start_time))) AS hour FROM spans
       WHERE ${where.join(' AND ')} ORDER BY toStartOfHour(start_time) DESC LIMIT 1`,
      bag.values,
    )
    return rows[0] ? Number(rows[0].hour) * 1000 : undefined
  }
}

/** Spans matching the filter, newest first, keyset-paginated on (start_time, span_id). */
export async function listSpans(client: ClickHouseClient, project: string, opts: ListOptions = {}): Promise<Page<Span>> {
  const limit = opts.limit ?? 50
  const rows = await newestFirst(opts.filter ?? {}, opts.cursor, limit + 1, (filter) => {
    const bag = new ParamBag()
    const where = [...spanConditions(project, filter, bag), ...keyset(bag, opts.cursor, 'span_id')]
    return select<RawSpan>(
      client,
      `SELECT ${spanSelect({ io: opts.includeIo === true })}
       FROM spans FINAL
       WHERE ${where.join(' AND ')}
       ORDER BY start_time DESC, span_id DESC
       LIMIT ${limit + 1}`,
      bag.values,
    )
  }, newestHourOf(client, project))
  const page = rows.slice(0, limit)
  // Content that arrived as log records fills the page's spans (finish reasons always, input/output with io).
  const content = await contentOf(client, project, page.map((r) => r.trace_id))
  const items = withContent(page, content).map(toSpan)
  const last = rows.length > limit ? rows[limit - 1] : undefined
  return { items, nextCursor: last ? encodeCursor({ ns: last.start_ns, id: last.span_id }) : null }
}

/** A trace in the listing: its head (its root), and its totals over every span (SpanTotals). */
export interface TraceSummary extends SpanTotals {
  traceId: string
  /** the span the trace is listed by: its earliest root, else (rootMissing) its earliest span */
  rootSpanId: string
  /** no span of the trace is a root: its root ran where nothing exports here, or has not ended yet */
  rootMissing: boolean
  name: string
  service: string
  startTime: string
  durationMs: number
  status: string
  userId: string
  sessionId: string
  scores: ScoreBrief[]
}

/**
 * Traces, newest first, each by its head: its earliest root span in the time range, or, when
 * the trace has no root within reach of the range (slack.ts, rootsAround), its earliest span there. Time
 * filters apply to the head; any other filter keeps a trace when at least one of its spans
 * matches. A trace with several roots (a parent span that names none, as two services
 * starting the same trace id do) is listed once, as its earliest root in the time range (ties:
 * the lower span id), the root getTrace lists first: its place, its cursor and what it shows.
 */
export async function listTraces(
  client: ClickHouseClient,
  project: string,
  opts: TraceListOptions = {},
): Promise<Page<TraceSummary>> {
  const limit = opts.limit ?? 50
  const filter = opts.filter ?? {}
  let page: Page<TraceSummary>
  if (opts.order) {
    const order = opts.order
    const ids = await orderedTraceIds(client, project, filter, order, opts.orderCursor, limit)
    const heads = await headsOf(client, project, ids.map((r) => r.trace_id), filter)
    const value = new Map(ids.map((r) => [r.trace_id, r.v]))
    page = await tracePage(client, project, heads.slice(0, limit), heads.length > limit, (r) => encodeOrderCursor(order, { value: value.get(r.trace_id) ?? 0, id: r.trace_id }))
  } else {
    const heads = await newestFirst(filter, opts.cursor, limit + 1, (window) => headsPage(client, project, window, filter, opts.cursor, limit), newestHourOf(client, project))
    const described = await describeHeads(client, project, heads.slice(0, limit))
    page = await tracePage(client, project, described, heads.length > limit, (r) => encodeCursor({ ns: r.start_ns, id: r.trace_id }))
  }
  return opts.total ? { ...page, total: await countTraces(client, project, filter) } : page
}

const HEAD_KEY = "trace_id, span_id, parent_span_id, toString(toUnixTimestamp64Nano(start_time)) AS start_ns"
const HEAD_COLUMNS = `${HEAD_KEY}, name, service_name, duration_ms, status_code, user_id, session_id`

/**
 * A page of the default order: each trace at its head in the window. The keyset compares
 * (head start, trace id) row by row, which a trace passes exactly when its head does (a root
 * that fails it while a child passes leaves a child as the window's head, which the check
 * below drops: the trace has a root). The read takes each trace's earliest root in the window,
 * else its earliest span; a head that is no root stands only if its trace has no root within
 * reach of the listing's range, which is asked for the page's traces alone. Rows dropped so
 * make the page short, so the read is repeated with room for more until the page is full or
 * the window is done.
 */
async function headsPage(client: ClickHouseClient, project: string, window: SpanFilter, listed: SpanFilter, cursor: Cursor | undefined, limit: number): Promise<HeadKey[]> {
  for (let take = limit + 1; ; take *= 4) {
    const bag = new ParamBag()
    const where = [...traceConditions(project, window, bag, listed), ...keyset(bag, cursor, 'trace_id')]
    // The window's spans are sorted by trace to find each one's head: with the key's columns only,
    // that read is lighter than the roots' with every column (bench/README.md, "session 23"); the
    // page's heads are described after (describeHeads).
    const rows = await select<HeadKey>(
      client,
      `SELECT * EXCEPT (start_time) FROM (
         SELECT ${HEAD_KEY}, start_time
         FROM spans FINAL
         WHERE ${where.join(' AND ')}
         ORDER BY trace_id, parent_span_id != '', start_time, span_id
         LIMIT 1 BY trace_id)
       ORDER BY start_time DESC, trace_id DESC
       LIMIT ${take}`,
      bag.values,
    )
    const kept = await listedHeads(client, project, rows, window, listed)
    if (kept.length > limit || rows.length < take) return kept.slice(0, limit + 1)
  }
}

/**
 * The window's heads that head their trace in the listing: a head that is no root only when
 * the trace has no root within reach of the listing's range; and, when the window starts after
 * the listing's own start (traces/newest.ts), only when the trace has no earlier head between
 * the two (a root before the window, or any span of a trace without roots): such a trace
 * belongs further down the listing, so the window answers without it, short of a full page,
 * and the next, wider window places it.
 */
async function listedHeads(client: ClickHouseClient, project: string, rows: HeadKey[], window: SpanFilter, listed: SpanFilter): Promise<HeadKey[]> {
  const orphans = rows.filter((r) => r.parent_span_id !== '').map((r) => r.trace_id)
  let kept = rows
  if (orphans.length > 0) {
    const bag = new ParamBag()
    const where = [...spanConditions(project, rootsAround(listed), bag), "parent_span_id = ''", `trace_id IN ${bag.add(orphans, 'Array(String)')}`]
    const rooted = await select<{ trace_id: string }>(client, `SELECT DISTINCT trace_id FROM spans WHERE ${where.join(' AND ')}`, bag.values)
    const drop = new Set(rooted.map((r) => r.trace_id))
    if (drop.size > 0) kept = kept.filter((r) => !drop.has(r.trace_id))
  }
  const narrowed = window.from !== undefined && window.from.getTime() !== listed.from?.getTime()
  if (!narrowed || kept.length === 0) return kept
  const earlier = await headsBetween(client, project, kept, listed.from, window.from)
  return earlier.size === 0 ? kept : kept.filter((r) => !earlier.has(r.trace_id))
}

/** Which of these heads' traces have an earlier head starting in [from, to): a root, or any span when the head is no root. */
async function headsBetween(client: ClickHouseClient, project: string, heads: HeadKey[], from: Date | undefined, to: Date | undefined): Promise<Set<string>> {
  const bag = new ParamBag()
  const where = [...spanConditions(project, { ...(from ? { from } : {}), ...(to ? { to } : {}) }, bag), `trace_id IN ${bag.add(heads.map((r) => r.trace_id), 'Array(String)')}`]
  const rows = await select<{ trace_id: string; roots: number }>(
    client,
    `SELECT trace_id, countIf(parent_span_id = '') AS roots FROM spans FINAL WHERE ${where.join(' AND ')} GROUP BY trace_id`,
    bag.values,
  )
  const rooted = new Map(heads.map((r) => [r.trace_id, r.parent_span_id === '']))
  return new Set(rows.filter((r) => !rooted.get(r.trace_id) || Number(r.roots) > 0).map((r) => r.trace_id))
}

/** The head (in the time filter) of each of these listed traces, in the order of `ids`. */
async function headsOf(client: ClickHouseClient, project: string, ids: string[], filter: SpanFilter): Promise<HeadRow[]> {
  if (ids.length === 0) return []
  const bag = new ParamBag()
  const where = [...spanConditions(project, timeOf(filter), bag), `trace_id IN ${bag.add(ids, 'Array(String)')}`]
  // A listed trace has a root in the range, or none within reach of it (listed.ts): its earliest root, else its earliest span.
  const rows = await select<HeadRow>(client, `SELECT ${HEAD_COLUMNS} FROM spans FINAL WHERE ${where.join(' AND ')} ORDER BY parent_span_id != '', start_time, span_id LIMIT 1 BY trace_id`, bag.values)
  const byId = new Map(rows.map((r) => [r.trace_id, r]))
  return ids.flatMap((id) => byId.get(id) ?? [])
}

/** The page's heads with what the listing shows of them, in the order given. */
async function describeHeads(client: ClickHouseClient, project: string, heads: HeadKey[]): Promise<HeadRow[]> {
  if (heads.length === 0) return []
  const bag = new ParamBag()
  const range = nsRange(heads.map((h) => h.start_ns))
  const where = [
    `project_id = ${bag.add(project, 'String')}`,
    `trace_id IN ${bag.add(heads.map((h) => h.trace_id), 'Array(String)')}`,
    // Each id set on its own: a row of another head's trace with a head's span id is read and not used.
    `span_id IN ${bag.add(heads.map((h) => h.span_id), 'Array(String)')}`,
    // The heads' own hours only (the table's order starts with the hour).
    `start_time >= fromUnixTimestamp64Nano(${bag.add(String(range.min), 'Int64')}, 'UTC')`,
    `start_time <= fromUnixTimestamp64Nano(${bag.add(String(range.max), 'Int64')}, 'UTC')`,
  ]
  const rows = await select<HeadRow>(client, `SELECT ${HEAD_COLUMNS} FROM spans FINAL WHERE ${where.join(' AND ')}`, bag.values)
  const byKey = new Map(rows.map((r) => [`${r.trace_id}/${r.span_id}`, r]))
  // A head the store no longer holds (retention dropped its part in between) is shown by its key.
  return heads.map((h) => byKey.get(`${h.trace_id}/${h.span_id}`) ?? undescribed(h))
}

/** The earliest and latest of some start times (ns, as text; at least one). */
function nsRange(startNs: string[]): { min: bigint; max: bigint } {
  const ns = startNs.map((s) => BigInt(s))
  return { min: ns.reduce((a, b) => (a < b ? a : b)), max: ns.reduce((a, b) => (a > b ? a : b)) }
}

function undescribed(h: HeadKey): HeadRow {
  return { ...h, name: '', service_name: '', duration_ms: 0, status_code: 'unset', user_id: '', session_id: '' }
}

/** A trace's head as the default page's read finds it: enough to place, check and page it. */
interface HeadKey {
  trace_id: string
  span_id: string
  parent_span_id: string
  start_ns: string
}

interface HeadRow extends HeadKey {
  name: string
  service_name: string
  duration_ms: number
  status_code: string
  user_id: string
  session_id: string
}

/** A page of the listing from its heads; `more`: another page follows. */
async function tracePage(client: ClickHouseClient, project: string, page: HeadRow[], more: boolean, cursorOf: (last: HeadRow) => string): Promise<Page<TraceSummary>> {
  if (page.length === 0) return { items: [], nextCursor: null }
  const totals = await traceTotals(client, project, page.map((r) => r.trace_id), page.map((r) => r.start_ns))
  const items = page.map((r): TraceSummary => {
    const t = totals.get(r.trace_id)
    return {
      traceId: r.trace_id,
      rootSpanId: r.span_id,
      rootMissing: r.parent_span_id !== '',
      name: r.name,
      service: r.service_name,
      startTime: nanosToIso(r.start_ns),
      durationMs: t?.durationMs ?? Number(r.duration_ms),
      status: t && t.errors > 0 ? 'error' : r.status_code,
      userId: r.user_id,
      sessionId: r.session_id,
      spans: t?.spans ?? 1,
      errors: t?.errors ?? 0,
      llmCalls: t?.llmCalls ?? 0,
      tokens: t?.tokens ?? noTokens(),
      costUsd: t?.costUsd ?? 0,
      costIncomplete: t?.costIncomplete ?? false,
      scores: t?.scores ?? [],
    }
  })
  const last = more ? page[page.length - 1] : undefined
  return { items, nextCursor: last ? cursorOf(last) : null }
}

interface Totals extends SpanTotals {
  durationMs: number
  scores: ScoreBrief[]
}

async function traceTotals(
  client: ClickHouseClient,
  project: string,
  traceIds: string[],
  startNs: string[],
): Promise<Map<string, Totals>> {
  const bag = new ParamBag()
  const { min, max } = nsRange(startNs)
  const p = bag.add(project, 'String')
  const ids = bag.add(traceIds, 'Array(String)')
  // Around the heads' starts, as far as a trace's spans may start from its root's (slack.ts).
  const lo = bag.add(String(min - BigInt(TRACE_SLACK.beforeRootMs) * 1_000_000n), 'Int64')
  const hi = bag.add(String(max + BigInt(TRACE_SLACK.afterRootMs) * 1_000_000n), 'Int64')
  const rows = await select<{ trace_id: string; scores: Array<[string, number | null, string, string]> | null } & Record<string, unknown>>(
    client,
    `SELECT t.*, s.scores FROM (
       SELECT trace_id, ${TOTALS_SELECT}
       FROM spans FINAL
       WHERE project_id = ${p} AND trace_id IN ${ids}
         AND start_time >= fromUnixTimestamp64Nano(${lo}, 'UTC') AND start_time <= fromUnixTimestamp64Nano(${hi}, 'UTC')
       GROUP BY trace_id) AS t
     LEFT JOIN (
       SELECT trace_id, arrayMap(x -> (x.2, x.3, x.4, x.5), arraySort(groupArray((timestamp, name, value, string_value, data_type, score_id)))) AS scores
       FROM ${LIVE_SCORES} AND project_id = ${p} AND trace_id IN ${ids} GROUP BY trace_id) AS s
     ON t.trace_id = s.trace_id`,
    bag.values,
  )
  return new Map(
    rows.map((r) => {
      const { totals, durationMs } = totalsOf(r)
      const scores = (r.scores ?? []).map(([name, value, stringValue, dataType]) => ({ name, value, stringValue, dataType }))
      return [r.trace_id, { ...totals, durationMs, scores }]
    }),
  )
}
