import { readFile } from 'node:fs/promises'
import type { Store } from '../store/index.js'
import { describeInsertFailure } from './insert-errors.js'
import { insertIsolated, insertSettings, type IsolatedResult } from './isolating-insert.js'
import { segmentBody } from './segment-file.js'
import { readSegmentRows } from './segment-rows.js'
import type { SealedSegment } from './spool.js'
import { spoolTableNamed } from './tables.js'

/**
 * An error of a type we do not know is retried this often whole before its rows are isolated
 * (a passing failure then costs no isolation); isolation blames rows only if they differ.
 */
const UNKNOWN_ATTEMPTS = 3

export interface SegmentInsertOptions {
  /** Whether segments wait behind this one when it ends, passed to the store (call-gate.ts). */
  followedBy: () => boolean
  /** Failures of an error of a type we do not know, by segment name: this insert counts its own. */
  unknownAttempts: Map<string, number>
}

/** The insert_deduplication_token of a segment's insert: its name, the same in every retry and replay. */
export const segmentToken = (name: string): string => `spanlens:${name}`

/**
 * The whole segment in one insert, with the segment name as insert_deduplication_token; its
 * rows one by one (isolating-insert.ts) only when ClickHouse refuses that. Throws a failure to
 * retry: the store's, or one of a type we do not know before its UNKNOWN_ATTEMPTS-th.
 */
export async function insertSegment(store: Store, segment: SealedSegment, { followedBy, unknownAttempts }: SegmentInsertOptions): Promise<IsolatedResult> {
  const token = segmentToken(segment.name)
  const settings = insertSettings(store, token)
  const { table, columns, format } = segment
  try {
    let rows = segment.rows
    if (segment.layout === 'plain') {
      // The file is nothing but rows (after its column line): ClickHouse reads it, JS never holds it.
      await store.insertFile({ table, columns, format, path: segment.path, settings, followedBy })
    } else {
      // A segment from before plain segments: its records are framed, so join them in memory.
      const parsed = await segmentBody(await readFile(segment.path))
      rows = parsed.rows
      await store.insertRaw({ table, columns, format, body: [parsed.body], settings, followedBy })
    }
    return { inserted: rows, dead: [] }
  } catch (err) {
    const failure = describeInsertFailure(err)
    if (failure.kind === 'transient' || failure.kind === 'store') throw err
    if (failure.kind === 'unknown') {
      const attempts = (unknownAttempts.get(segment.name) ?? 0) + 1
      unknownAttempts.set(segment.name, attempts)
      if (attempts < UNKNOWN_ATTEMPTS) throw err
    }
    const { rows, ...target } = await readSegmentRows(segment)
    return insertIsolated(store, target, rows, token, failure)
  }
}

/**
 * A failure classified as the store's (schema, permissions) is retried for as
 * long as it takes, and holds up every segment behind it. It is the segment's
 * own when its column line (from format t3, written before its rows) names a
 * column that neither its table has nor this version writes: a damaged column
 * line, or a column dropped since. No retry inserts that segment, so it is set
 * aside whole in dead/ for an operator, and the rest go on. A column this version
 * writes and the table lacks is the store's: a migration is missing, and every
 * segment waits for it.
 *
 * The columns of the segment's column line that make it its own failure; none when the
 * failure is the store's.
 */
export async function unknownColumns(store: Store, segment: SealedSegment): Promise<string[]> {
  const written = new Set(spoolTableNamed(segment.table)?.columns ?? [])
  const unwritten = segment.columns.filter((c) => !written.has(c))
  if (unwritten.length === 0) return []
  let columns: Set<string>
  try {
    const rs = await store.client.query({
      query: 'SELECT name FROM system.columns WHERE database = {db:String} AND table = {table:String}',
      query_params: { db: store.database, table: segment.table },
      format: 'JSONEachRow',
    })
    columns = new Set((await rs.json<{ name: string }>()).map((r) => r.name))
  } catch {
    // The store cannot say: retried as a failure of the store.
    return []
  }
  if (columns.size === 0) return []
  return unwritten.filter((c) => !columns.has(c))
}
