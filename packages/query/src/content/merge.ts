import { type ClickHouseClient, select } from '../db.js'
import { storeFailure } from '../errors.js'
import { CONTENT_BITS, type ContentColumn, contentSql, FILLABLE_NOW, fills } from './span-content.js'

/**
 * Content from GenAI log records merged onto its spans in storage (clickhouse/010_content_merge.sql):
 * analytics then read spans as stored, with no join (drift's text signals, bias refusals).
 *
 * A run takes what arrived in a window of ingested_at, (after, upTo] in milliseconds since the
 * epoch on ClickHouse's clock: every span with a content row that arrived then, and every span
 * that arrived then lacking what content fills. For each that has content, it writes a newer
 * version of the span with its input, output and finish reason filled by span-content.ts's rule
 * (a newer ingested_at: ReplacingMergeTree keeps it), and `content_filled` saying which. A
 * span whose shown columns would not change is not written again, so a window can be run twice.
 *
 * Finding a span by its ids alone reads the key columns of the whole table: `spans` is ordered by
 * hour first, and the bloom filter on trace_id prunes nothing for thousands of ids (each granule
 * passes with a false positive for one of them). So a run comes in two kinds:
 * - `near` (the server's runs every few seconds): a span that arrived is looked up in its own hour;
 *   a content row's span in the hours from 2 hours before the row's time to 1 hour after (GenAI log
 *   records are written during their span). The read is pruned by the sorting key: at 1 million
 *   spans, 3,000 fresh keys read 3 of 130 granules, 40 ms instead of 162.
 * - `full` (hourly, at start and on flush()): the same, then the content rows whose span is not in
 *   those hours looked up wherever it is. They are few (a span not arrived yet, one that started
 *   hours before its logs), so the bloom filter on trace_id prunes for them.
 * Each kind keeps its own mark in content_merges; a near run starts at the later of the two.
 *
 * Keys are found and joined inside ClickHouse (IN subqueries), never passed as parameters:
 * a backfill's window can hold millions. On a cluster, with distributed_product_mode = 'local'
 * (the store's), each shard merges its own spans with its own content: both tables are sharded
 * by trace, and the new version goes back through `spans`, to the same shard.
 */

/** At most this many keys of each kind per statement: a run over a bigger window takes it in batches. */
const BATCH = 50_000

/** The window's time condition on a table's ingested_at, over the parameters `after` and `upTo`. */
const ARRIVED = 'ingested_at > fromUnixTimestamp64Milli({after:Int64}) AND ingested_at <= fromUnixTimestamp64Milli({upTo:Int64})'

/**
 * The spans that arrived in the window and may take content, as sent (the merge's own versions,
 * content_filled set, are not): the two small columns as PREWHERE, so that sizes and attributes
 * are read only from granules holding such a span. The merge's versions of a backfill lie in every
 * granule once ClickHouse has merged them into their parts, and are in the window for a while
 * after: at 10 million spans, a run over 5 s of traffic read every granule's attributes (7.6 s).
 */
const SPANS_ARRIVED = `spans PREWHERE ${ARRIVED} AND content_filled = 0 WHERE (${FILLABLE_NOW})`

/**
 * How long after its ingested_at a row may still become visible: an insert's rows take their
 * ingested_at as its blocks are read and are seen when it commits. A run merges up to now, but
 * the next run starts this far back (content_merges keeps that point), so a slow insert's rows
 * are still taken; merging a span again writes nothing. Spool inserts take well under a second
 * (bench/README.md, "Ingest"); with runs every 5 s, each arrival is looked at about 3 times.
 */
const MERGE_SETTLE_MS = 15_000

/** How far an idle store's mark may lag before a run that found nothing moves it. */
const IDLE_MARK_MS = 10 * 60_000

export interface MergeRun {
  /** The window merged: (from, to], milliseconds since the epoch on ClickHouse's clock; `to` is now unless the run was stopped. */
  from: number
  to: number
  /** Keys (content rows and spans lacking content) found in it. */
  keys: number
}

/** A run's kind (see above). */
export type MergeKind = 'near' | 'full'

/**
 * Merges everything that arrived since the last run of `kind` up to now, every project at once,
 * in batches; then records where the next run of that kind starts (now less MERGE_SETTLE_MS).
 * The first full run on a store takes everything ever ingested (35 s at 10 M spans with content
 * rows, session 25): `stop`, asked before each batch, ends a run early (a server shutting down),
 * recording how far it got, so that the next run takes the rest.
 */
export async function mergeContent(client: ClickHouseClient, options: { kind?: MergeKind; batch?: number; stop?: () => boolean } = {}): Promise<MergeRun> {
  const kind = options.kind ?? 'full'
  const batch = options.batch ?? BATCH
  const [row] = await select<{ now: number; near: number; full: number }>(
    client,
    `SELECT toUnixTimestamp64Milli(now64(3)) AS now, maxIf(merged_to, kind = 'near') AS near, maxIf(merged_to, kind = 'full') AS full
      FROM content_merges`,
  )
  const now = Number(row?.now)
  const own = Number(row?.[kind] ?? 0)
  // What a full run has taken, a near run need not take again.
  const from = kind === 'near' ? Math.max(own, Number(row?.full ?? 0)) : own
  let after = from
  let keys = 0
  while (after < now) {
    if (options.stop?.()) break
    const step = await mergeContentStep(client, kind, after, now, batch)
    keys += step.keys
    after = step.reached
  }
  // A run that found nothing leaves the mark where it is for a while: an idle server does not
  // write a row every few seconds, and the next run reads the same few minutes again, finding nothing.
  // One stopped early marks where it got to, as settled as the end of a whole run.
  const to = Math.min(after, now)
  const next = to - MERGE_SETTLE_MS
  if (next > own && (keys > 0 || next - own > IDLE_MARK_MS)) {
    await command(client, 'INSERT INTO content_merges (kind, merged_to) VALUES ({kind:String}, {next:Int64})', { kind, next })
  }
  return { from, to, keys }
}

/** One batch of the window (after, upTo]: how far it got (`upTo`, or less when the window held more than a batch). */
async function mergeContentStep(client: ClickHouseClient, kind: MergeKind, after: number, upTo: number, batch: number): Promise<{ reached: number; keys: number }> {
  const content = await batchEnd(client, `span_content WHERE ${ARRIVED}`, after, upTo, batch)
  const spans = await batchEnd(client, SPANS_ARRIVED, after, upTo, batch)
  const reached = Math.min(content.end, spans.end)
  const found = content.n + spans.n
  if (found === 0) return { reached, keys: 0 }
  const params = { after, upTo: reached }
  // Spans that arrived lacking what content fills, and have content rows.
  const lacking = `SELECT project_id, trace_id, span_id FROM ${SPANS_ARRIVED}`
  const withContent = `SELECT project_id, trace_id, span_id FROM span_content WHERE (project_id, trace_id, span_id) IN (${lacking})`
  // Nothing to fill when no content arrived and no span that arrived has any (most windows of a
  // project that sends no GenAI logs): one lookup by the content table's key instead of the writes.
  if (content.n === 0) {
    const [has] = await select<{ n: number }>(client, `SELECT count() AS n FROM (${withContent})`, params)
    if (Number(has?.n ?? 0) === 0) return { reached, keys: found }
  }
  // Each key with the hours its span may start in: a content row's, around its time; a span's, its own.
  const near = `SELECT project_id, toStartOfHour(time - toIntervalHour(h)) AS hour, trace_id, span_id FROM span_content ARRAY JOIN [-1, 0, 1, 2] AS h WHERE ${ARRIVED}
    UNION ALL SELECT project_id, toStartOfHour(start_time) AS hour, trace_id, span_id FROM ${SPANS_ARRIVED}
      AND (project_id, trace_id, span_id) IN (${withContent})`
  await insertMerged(client, `(s.project_id, toStartOfHour(s.start_time), s.trace_id, s.span_id) IN (${near})`, `SELECT project_id, trace_id, span_id FROM (${near})`, params)
  if (kind === 'full') {
    // Content rows whose span is not in those hours, looked up wherever it is: few (a span that has not
    // arrived yet, or started long before its logs), so the bloom filter on trace_id prunes for them.
    const far = `SELECT project_id, trace_id, span_id FROM span_content WHERE ${ARRIVED} AND (project_id, trace_id, span_id) NOT IN (
      SELECT project_id, trace_id, span_id FROM spans WHERE (project_id, toStartOfHour(start_time), trace_id, span_id) IN (${near}))`
    await insertMerged(client, `s.trace_id IN (SELECT trace_id FROM (${far})) AND (s.project_id, s.trace_id, s.span_id) IN (${far})`, far, params)
  }
  return { reached, keys: found }
}

/**
 * Writes the new version of every span `selected` picks (conditions on `s`'s sorting key columns)
 * whose shown columns change with the content of the keys `ids` gives.
 *
 * The keys are a PREWHERE: under FINAL, ClickHouse does not move conditions there by itself, and
 * every column of each granule holding a key was read (at 1 million spans, 1,577 keys spread over
 * a week: 2.2 s, 1.1 s with PREWHERE). They are sorting key columns, so every version of a
 * selected span passes, as FINAL needs.
 */
async function insertMerged(client: ClickHouseClient, selected: string, ids: string, params: Record<string, unknown>): Promise<void> {
  const columns = Object.keys(CONTENT_BITS) as ContentColumn[]
  const filled = (column: ContentColumn) => `bitTest(fill, ${CONTENT_BITS[column]})`
  // fill: content_filled's bits of the columns the content fills (span-content.ts's rule).
  const fill = `toUInt8(${columns.map((col) => `${1 << CONTENT_BITS[col]} * (${fills(col)})`).join(' + ')})`
  const changed = columns.map((col) => `(${filled(col)} AND c.${col} != s.${col})`).join(' OR ')
  await command(
    client,
    `INSERT INTO spans
    SELECT * EXCEPT (fill, changed, ${columns.map((col) => `c_${col}`).join(', ')}) REPLACE (
      ${columns.map((col) => `if(${filled(col)}, c_${col}, ${col}) AS ${col}`).join(',\n      ')},
      now64(3) AS ingested_at,
      bitOr(content_filled, fill) AS content_filled)
    FROM (
      SELECT s.*, ${columns.map((col) => `c.${col} AS c_${col}`).join(', ')}, ${fill} AS fill, ${changed} AS changed
      FROM spans AS s FINAL
      INNER JOIN (${contentSql(`(project_id, trace_id, span_id) IN (${ids})`, 'project_id, ')}) AS c
        ON s.project_id = c.project_id AND s.trace_id = c.trace_id AND s.span_id = c.span_id
      PREWHERE ${selected})
    WHERE changed`,
    params,
  )
}

/**
 * The ingested_at of the `batch`-th row of `from` (a table and its window's conditions), when it has that many
 * (a batch then ends there; rows sharing that millisecond go with it), else `upTo`. The LIMIT
 * follows an ORDER BY, so every shard of a cluster reads its part to the end before it.
 */
async function batchEnd(client: ClickHouseClient, from: string, after: number, upTo: number, batch: number): Promise<{ end: number; n: number }> {
  const [row] = await select<{ n: number; last: number }>(
    client,
    `SELECT count() AS n, toUnixTimestamp64Milli(max(at)) AS last FROM (SELECT ingested_at AS at FROM ${from} ORDER BY at LIMIT {batch:UInt32})`,
    { after, upTo, batch },
  )
  const n = Number(row?.n ?? 0)
  return { end: n >= batch ? Number(row?.last) : upTo, n }
}

async function command(client: ClickHouseClient, query: string, params: Record<string, unknown>): Promise<void> {
  try {
    await client.command({ query, query_params: params })
  } catch (err) {
    throw storeFailure(err)
  }
}
