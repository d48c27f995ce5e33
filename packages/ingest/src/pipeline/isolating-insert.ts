import type { Store } from '../store/index.js'
import { describeInsertFailure, failureText, StoreWideFailure, type InsertFailure } from './insert-errors.js'
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
 * Disjoint slices an error of a type we do not know is tried in before any row is blamed
 * for it: halves, then quarters, then eighths, at most 2 + 4 + 8 = 14 inserts. One bad
 * span, or the spans of one bad request, sit in one slice or two adjacent ones, so the
 * others insert and show that the rows differ. A store-wide failure fails them all alike;
 * so does a segment whose every slice holds a bad row, which is then kept for an operator
 * rather than dead-lettered. Isolating every row of a failing segment would cost 2n - 1
 * inserts against a store that may be struggling.
 */
const PROBE_SLICES = 8

/**
 * Inserts rows so that a bad row never costs a good one. A range ClickHouse
 * refuses as data is halved until the refused rows stand alone; they come back
 * as dead rows with ClickHouse's reason, and every other row is inserted once.
 * A range over more daily partitions than one insert may touch is split by day.
 * Ranges are derived from the rows alone and each has its own deduplication
 * token under `token`, so running this again on the same rows (a replay after a
 * crash) inserts nothing twice. A failure of the store itself (down, busy,
 * schema) is thrown: the caller retries the whole thing later. So is an error of
 * a type we do not know that every slice of the rows fails alike (PROBE_SLICES):
 * nothing shows it is the rows'.
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
  const failure = known ?? (await tryInsert(store, target, rows, token, result))
  if (failure === undefined) return result
  if (failure.kind !== 'unknown') {
    await attempt(store, target, rows, token, failure, result)
    return result
  }
  for (const slice of await probe(store, target, { rows, token, failure }, result)) await attempt(store, target, slice.rows, slice.token, slice.failure, result)
  return result
}

interface Slice {
  rows: readonly Buffer[]
  token: string
  failure: InsertFailure
}

/**
 * Tries `whole`, which failed with an error of a type we do not know, in ever smaller
 * slices, as attempt() would halve it (same ranges, same tokens), breadth first. Returns
 * the slices that failed once the rows are seen to differ: a slice inserted, or failed
 * otherwise. Throws the store's failure when up to PROBE_SLICES slices (or every row
 * alone) all failed alike.
 */
async function probe(store: Store, target: RowTarget, whole: Slice, out: IsolatedResult): Promise<Slice[]> {
  let failed: Slice[] = [whole]
  // What the slices fail with, the first one's: compared among slices, which are all inserted
  // alike (insertRaw), not with the whole, which a segment inserts from its file.
  let alike: InsertFailure | undefined
  while (failed.length < PROBE_SLICES && failed.some((s) => s.rows.length > 1)) {
    const next: Slice[] = []
    let differ = false
    for (const slice of failed) {
      // A row alone that failed alike is not tried again.
      if (slice.rows.length === 1) {
        next.push(slice)
        continue
      }
      for (const half of halves(slice)) {
        const failure = await tryInsert(store, target, half.rows, half.token, out)
        alike ??= failure
        if (failure === undefined || failure.kind !== 'unknown' || failure.type !== alike?.type) differ = true
        if (failure !== undefined) next.push({ ...half, failure })
      }
    }
    if (differ) return next
    failed = next
  }
  throw new StoreWideFailure(alike ?? whole.failure, failed.length)
}

/** Inserts rows under `token`: undefined once inserted, else why not; a failure of the store itself is thrown. */
async function tryInsert(store: Store, target: RowTarget, rows: readonly Buffer[], token: string, out: IsolatedResult): Promise<InsertFailure | undefined> {
  try {
    const { table, columns, format } = target
    await store.insertRaw({ table, columns, format, body: [joinRows(rows)], settings: insertSettings(store, token) })
    out.inserted += rows.length
    return undefined
  } catch (err) {
    const failure = describeInsertFailure(err)
    // The store's own error, as it came (its type, code and stack): the caller classifies it again.
    if (failure.kind === 'transient' || failure.kind === 'store') throw err
    return failure
  }
}

/** The two ranges attempt() halves `rows` into, with their tokens. */
function halves({ rows, token }: { rows: readonly Buffer[]; token: string }): Array<{ rows: readonly Buffer[]; token: string }> {
  const half = Math.ceil(rows.length / 2)
  return [
    { rows: rows.slice(0, half), token: `${token}.0` },
    { rows: rows.slice(half), token: `${token}.1` },
  ]
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
  const failure = known ?? (await tryInsert(store, target, rows, token, out))
  if (failure === undefined) return
  if (failure.kind === 'transient' || failure.kind === 'store') throw Object.assign(new Error(failure.message), failure)
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
  for (const half of halves({ rows, token })) await attempt(store, target, half.rows, half.token, undefined, out)
}
