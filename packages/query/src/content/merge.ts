import { type ClickHouseClient, select } from '../db.js'
import { storeFailure } from '../errors.js'
import { contentSql, FILLABLE_NOW, fillable } from './span-content.js'

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
 * Keys are found and joined inside ClickHouse (IN subqueries), never passed as parameters:
 * a backfill's window can hold millions. On a cluster, with distributed_product_mode = 'local'
 * (the store's), each shard merges its own spans with its own content: both tables are sharded
 * by trace, and the new version goes back through `spans`, to the same shard.
 */

/** At most this many keys of each kind per statement: a run over a bigger window takes it in batches. */
const BATCH = 50_000

/** The window's time condition on a table's ingested_at, over the parameters `after` and `upTo`. */
const ARRIVED = 'ingested_at > fromUnixTimestamp64Milli({after:Int64}) AND ingested_at <= fromUnixTimestamp64Milli({upTo:Int64})'

/** Spans that may take content, as sent: the merge's own versions (content_filled set) are not. */
const SPANS_LACKING = `content_filled = 0 AND (${FILLABLE_NOW})`

/**
 * How long after its ingested_at a row may still become visible: an insert's rows take their
 * ingested_at as its blocks are read and are seen when it commits. A run merges up to now, but
 * the next run starts this far back (content_merges keeps that point), so a slow insert's rows
 * are still taken; merging a span again writes nothing. Spool inserts take well under a second
 * (bench/README.md, "Ingest"); with runs every 5 s, each arrival is looked at about 3 times.
 */
export const MERGE_SETTLE_MS = 15_000

/** How far an idle store's mark may lag before a run that found nothing moves it. */
const IDLE_MARK_MS = 10 * 60_000

export interface MergeRun {
  /** The window merged: (from, to], milliseconds since the epoch on ClickHouse's clock. */
  from: number
  to: number
  /** Keys (content rows and spans lacking content) found in it. */
  keys: number
}

/**
 * Merges everything that arrived since the last run up to now, every project at once, in
 * batches; then records where the next run starts (now less MERGE_SETTLE_MS). The first run
 * on a store takes everything ever ingested.
 */
export async function mergeContent(client: ClickHouseClient, options: { batch?: number } = {}): Promise<MergeRun> {
  const batch = options.batch ?? BATCH
  const [row] = await select<{ now: number; merged_to: number }>(
    client,
    'SELECT toUnixTimestamp64Milli(now64(3)) AS now, (SELECT max(merged_to) FROM content_merges) AS merged_to',
  )
  const now = Number(row?.now)
  const from = Number(row?.merged_to ?? 0)
  let after = from
  let keys = 0
  while (after < now) {
    const step = await mergeContentStep(client, after, now, batch)
    keys += step.keys
    after = step.reached
  }
  // A run that found nothing leaves the mark where it is for a while: an idle server does not
  // write a row every few seconds, and the next run reads the same few minutes again, finding nothing.
  const next = now - MERGE_SETTLE_MS
  if (next > from && (keys > 0 || next - from > IDLE_MARK_MS)) await command(client, 'INSERT INTO content_merges (merged_to) VALUES ({next:Int64})', { next })
  return { from, to: now, keys }
}

/** One batch of the window (after, upTo]: how far it got (`upTo`, or less when the window held more than a batch). */
async function mergeContentStep(client: ClickHouseClient, after: number, upTo: number, batch: number): Promise<{ reached: number; keys: number }> {
  const content = await batchEnd(client, 'span_content', '1', after, upTo, batch)
  const spans = await batchEnd(client, 'spans', SPANS_LACKING, after, upTo, batch)
  const reached = Math.min(content.end, spans.end)
  const found = content.n + spans.n
  if (found === 0) return { reached, keys: 0 }
  // Content rows that arrived, and the content rows of spans that arrived lacking what content fills.
  const keys = `SELECT project_id, trace_id, span_id FROM span_content WHERE ${ARRIVED}
    UNION ALL SELECT project_id, trace_id, span_id FROM span_content
      WHERE (project_id, trace_id, span_id) IN (SELECT project_id, trace_id, span_id FROM spans WHERE ${ARRIVED} AND ${SPANS_LACKING})`
  const traces = `SELECT trace_id FROM (${keys})`
  // The keys as PREWHERE: under FINAL, ClickHouse does not move conditions there by itself, and
  // every column of each granule holding a key was read (at 1 million spans, 1,577 keys spread
  // over a week: 2.2 s, 1.1 s with PREWHERE). They are sorting key columns, so every version of
  // a selected span passes, as FINAL needs. The bloom filter on trace_id skips granules without
  // any of the traces: fresh content belongs to fresh spans, in the newest granules.
  // fill: which of the three the content fills (fillable() as shown, and the content has one).
  const fill = `toUInt8(((${fillable('s.', 'input')}) AND c.input != '') + 2 * ((${fillable('s.', 'output')}) AND c.output != '') + 4 * ((${fillable('s.', 'finish_reason')}) AND c.finish_reason != ''))`
  const changed = `(bitTest(fill, 0) AND c.input != s.input) OR (bitTest(fill, 1) AND c.output != s.output) OR (bitTest(fill, 2) AND c.finish_reason != s.finish_reason)`
  await command(
    client,
    `INSERT INTO spans
    SELECT * EXCEPT (fill, changed, c_input, c_output, c_finish) REPLACE (
      if(bitTest(fill, 0), c_input, input) AS input,
      if(bitTest(fill, 1), c_output, output) AS output,
      if(bitTest(fill, 2), c_finish, finish_reason) AS finish_reason,
      now64(3) AS ingested_at,
      bitOr(content_filled, fill) AS content_filled)
    FROM (
      SELECT s.*, c.input AS c_input, c.output AS c_output, c.finish_reason AS c_finish, ${fill} AS fill, ${changed} AS changed
      FROM spans AS s FINAL
      INNER JOIN (${contentSql(`(project_id, trace_id, span_id) IN (${keys})`, 'project_id, ')}) AS c
        ON s.project_id = c.project_id AND s.trace_id = c.trace_id AND s.span_id = c.span_id
      PREWHERE s.trace_id IN (${traces}) AND (s.project_id, s.trace_id, s.span_id) IN (${keys}))
    WHERE changed`,
    { after, upTo: reached },
  )
  return { reached, keys: found }
}

/**
 * The ingested_at of the `batch`-th row `where` selects in the window, when it has that many
 * (a batch then ends there; rows sharing that millisecond go with it), else `upTo`. The LIMIT
 * follows an ORDER BY, so every shard of a cluster reads its part to the end before it.
 */
async function batchEnd(client: ClickHouseClient, table: 'spans' | 'span_content', where: string, after: number, upTo: number, batch: number): Promise<{ end: number; n: number }> {
  const [row] = await select<{ n: number; last: number }>(
    client,
    `SELECT count() AS n, toUnixTimestamp64Milli(max(at)) AS last
      FROM (SELECT ingested_at AS at FROM ${table} WHERE ${ARRIVED} AND (${where}) ORDER BY at LIMIT {batch:UInt32})`,
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
