import type { Store } from '../store/index.js'
import { describeInsertFailure, failureText, type InsertFailure } from './insert-errors.js'
import { groupByDays, joinRows, rowProject, type RowTarget } from './segment-rows.js'

/** ClickHouse's default max_partitions_per_insert_block: kept, so one insert never creates more parts than that. */
const MAX_PARTITIONS_PER_INSERT = 100

export interface DeadRow {
  row: Buffer
  project: string
  /** ClickHouse's reason, e.g. `CANNOT_PARSE_DATETIME (41): Cannot read DateTime…`. */
  reason: string
}

export interface IsolatedResult {
  inserted: number
  dead: DeadRow[]
}

/** Settings of every insert of spool rows, with its deduplication token. */
export function insertSettings(store: Store, token: string): Record<string, string | number> {
  return {
    insert_deduplication_token: token,
    // Without this a deduplicated retry of spans still feeds spans_minute: counts would double.
    deduplicate_blocks_in_dependent_materialized_views: 1,
    // On a cluster, confirm only once the shards have the rows: the spool
    // deletes a segment on this confirmation.
    ...(store.cluster ? { distributed_foreground_insert: 1 } : {}),
  }
}

/**
 * Inserts rows so that a bad row never costs a good one. A range ClickHouse
 * refuses as data is halved until the refused rows stand alone; they come back
 * as dead rows with ClickHouse's reason, and every other row is inserted once.
 * A range over more daily partitions than one insert may touch is split by day.
 * Ranges are derived from the rows alone and each has its own deduplication
 * token under `token`, so running this again on the same rows (a replay after a
 * crash) inserts nothing twice. A failure of the store itself (down, busy,
 * schema) is thrown: the caller retries the whole thing later.
 */
export async function insertIsolated(
  store: Store,
  target: RowTarget,
  rows: readonly Buffer[],
  token: string,
  /** The failure of inserting exactly these rows under `token`, when the caller just saw it. */
  known?: InsertFailure,
): Promise<IsolatedResult> {
  const result: IsolatedResult = { inserted: 0, dead: [] }
  await attempt(store, target, rows, token, known, result)
  return result
}

async function attempt(
  store: Store,
  target: RowTarget,
  rows: readonly Buffer[],
  token: string,
  known: InsertFailure | undefined,
  out: IsolatedResult,
): Promise<void> {
  if (rows.length === 0) return
  let failure = known
  let thrown: unknown
  if (!failure) {
    try {
      const { table, columns, format } = target
      await store.insertRaw({ table, columns, format, body: [joinRows(rows)], settings: insertSettings(store, token) })
      out.inserted += rows.length
      return
    } catch (err) {
      thrown = err
      failure = describeInsertFailure(err)
    }
  }
  // The store's own error, as it came (its type, code and stack): the caller classifies it again.
  if (failure.kind === 'transient' || failure.kind === 'store') throw thrown ?? Object.assign(new Error(failure.message), failure)
  if (failure.kind === 'partitions') {
    const groups = groupByDays(rows, target, MAX_PARTITIONS_PER_INSERT)
    // One day's rows are one partition: a group that cannot shrink is halved instead.
    if (groups.length > 1) {
      for (let i = 0; i < groups.length; i++) await attempt(store, target, groups[i] as Buffer[], `${token}.d${i}`, undefined, out)
      return
    }
  }
  if (rows.length === 1) {
    const row = rows[0] as Buffer
    out.dead.push({ row, project: rowProject(row, target), reason: failureText(failure) })
    return
  }
  const half = Math.ceil(rows.length / 2)
  await attempt(store, target, rows.slice(0, half), `${token}.0`, undefined, out)
  await attempt(store, target, rows.slice(half), `${token}.1`, undefined, out)
}
