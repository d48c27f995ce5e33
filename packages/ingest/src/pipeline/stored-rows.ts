import { TupleParam } from '@clickhouse/client'
import { MAX_PARAM_BYTES, paramBytes, paramGroups } from '@spanlens/query/query-params'
import type { Store } from '../store/index.js'
import { insertIsolated, type DeadRow, type IsolatedResult } from './isolating-insert.js'
import { segmentToken } from './segment-insert.js'
import { readSegmentRows, rowField, rowProject, type SegmentRows } from './segment-rows.js'
import type { SealedSegment } from './spool.js'
import { spoolTableNamed, type IdentityColumn } from './tables.js'

/**
 * Rows of the table in the time range of the rows looked up, at most, per row looked up, for
 * the whole range to be read in one query instead of asking about the keys a chunk at a time
 * (~30 queries for a 40,000-row segment of late spans; bench/ingest/restore-lookup.ts).
 */
const RANGE_READ_FACTOR = 4

/**
 * The rows of a segment that the table does not hold, compared by the table's identity
 * columns (tables.ts) within the projects and the time range of the rows. Used after an
 * insert answered as a success when an earlier attempt at the same rows may have reached
 * ClickHouse: a non-replicated MergeTree records a block's deduplication id before it
 * renames the block's part into place, so an engine killed between the two answers the
 * retry under the same token as a duplicate and holds none of its rows (docs/ingest.md,
 * "Durability"). A table of no identity (none this version writes) has none missing.
 * Throws the store's failure: the caller retries the segment.
 */
export async function missingRows(store: Store, segment: SegmentRows): Promise<Buffer[]> {
  const table = spoolTableNamed(segment.table)
  if (table === undefined || segment.rows.length === 0) return []
  const identity = table.identity
  const indexes = identity.map((c) => segment.columns.indexOf(c.column))
  const timeIndex = segment.columns.indexOf(table.dayColumn)
  // A column line without the identity: nothing to compare by, so nothing is said to be missing.
  if (indexes.some((i) => i < 0) || timeIndex < 0) return []

  // Each key (its fields as text) by its JSON, which is how the table's answers are matched.
  const byKey = new Map<string, { key: string[]; rows: Buffer[] }>()
  const projects = new Set<string>()
  let lo: bigint | undefined
  let hi: bigint | undefined
  for (const row of segment.rows) {
    const key = identity.map((c, i) => canonical(c, rowField(row, segment, indexes[i] as number)))
    const joined = JSON.stringify(key)
    const same = byKey.get(joined)
    if (same) same.rows.push(row)
    else byKey.set(joined, { key, rows: [row] })
    projects.add(rowProject(row, segment))
    const t = nanos(rowField(row, segment, timeIndex))
    if (t !== undefined) {
      if (lo === undefined || t < lo) lo = t
      if (hi === undefined || t > hi) hi = t
    }
  }
  if (lo === undefined || hi === undefined) return []

  const expressions = identity.map((c) => sqlText(c)).join(', ')
  const where = `project_id IN {projects:Array(String)} AND ${table.dayColumn} BETWEEN fromUnixTimestamp64Nano({lo:Int64}) AND fromUnixTimestamp64Nano({hi:Int64})`
  const params = { projects: [...projects], lo: lo.toString(), hi: hi.toString() }
  const read = async (query: string, extra: Record<string, unknown> = {}) =>
    (await store.client.query({ query, query_params: { ...params, ...extra }, format: 'JSONCompactEachRow' })).json<string[]>()

  const present = new Set<string>()
  const [[inRange] = []] = await read(`SELECT toString(count()) FROM ${table.name} WHERE ${where}`)
  if (Number(inRange) <= byKey.size * RANGE_READ_FACTOR) {
    // The rows' time range holds little but them: every key in it, in one read.
    for (const found of await read(`SELECT DISTINCT ${expressions} FROM ${table.name} WHERE ${where}`)) present.add(JSON.stringify(found))
  } else {
    // The keys asked about a group at a time (a served engine refused 2,000 span keys, ~150 KB
    // in the URL, in one parameter).
    const tupleType = `Tuple(${identity.map(() => 'String').join(', ')})`
    const query = `SELECT DISTINCT ${expressions} FROM ${table.name} WHERE ${where} AND tuple(${expressions}) IN (SELECT arrayJoin({keys:Array(${tupleType})}))`
    for (const group of paramGroups([...byKey.values()].map(({ key }) => new TupleParam(key)))) {
      // A key too long to ask about alone (a metric name of a hundred KB) is not asked about: the
      // engine would refuse the query every time, and the segment would never leave the spool.
      if (group.length === 1 && paramBytes(group) > MAX_PARAM_BYTES) present.add(JSON.stringify((group[0] as TupleParam).values))
      else for (const found of await read(query, { keys: group })) present.add(JSON.stringify(found))
    }
  }
  return [...byKey].flatMap(([joined, { rows }]) => (present.has(joined) ? [] : rows))
}

/** The column as the query reads it back, in the text canonical() gives the row's field. */
function sqlText({ column, kind }: IdentityColumn): string {
  if (kind === 'time') return `toString(toUnixTimestamp64Nano(${column}))`
  if (kind === 'uint') return `toString(${column})`
  return column
}

/** A field of a spool row in the text the table's value reads back as (sqlText). */
function canonical({ kind }: IdentityColumn, field: string): string {
  if (kind === 'time') return nanos(field)?.toString() ?? field
  if (kind === 'uint') return /^\d+$/.test(field) ? BigInt(field).toString() : field
  return field
}

/** A spool time (`seconds.nanoseconds`, normalize.ts's nsToSeconds) in nanoseconds since the epoch. */
function nanos(field: string): bigint | undefined {
  const m = /^(\d*)(?:\.(\d{1,9}))?$/.exec(field)
  if (!m || field === '') return undefined
  return BigInt(m[1] || '0') * 1_000_000_000n + BigInt((m[2] ?? '').padEnd(9, '0'))
}

/** What restoreMissing found missing, and what inserting it again did. */
export interface RestoreResult {
  missing: number
  result: IsolatedResult
}

/**
 * After rows were inserted under `token` and the insert was answered as a success, when an
 * earlier attempt at the same rows may have reached ClickHouse (a failed insert whose
 * request was sent, a segment replayed from a run that stopped, a set-aside segment's
 * letter): the rows the table does not hold, other than those refused (`dead`), are
 * inserted again under a token no attempt used, so nothing acknowledged is lost to a
 * deduplication id that outlived its part. Replicated tables are not asked: ClickHouse
 * commits a block's id to Keeper with its part, and a replica that has not fetched the
 * part yet would show rows missing that are stored. Throws the store's failure.
 */
export async function restoreMissing(store: Store, inserted: SegmentRows, dead: readonly DeadRow[], token: string): Promise<RestoreResult> {
  const none: RestoreResult = { missing: 0, result: { inserted: 0, dead: [] } }
  // Replicated: a cluster whose DDL runs ON CLUSTER, not node by node (migration-template.ts).
  if (store.cluster !== undefined && store.nodes === undefined) return none
  const refused = new Set(dead.map((d) => d.row.toString('latin1')))
  const rows = refused.size === 0 ? inserted.rows : inserted.rows.filter((r) => !refused.has(r.toString('latin1')))
  const missing = await missingRows(store, { ...inserted, rows })
  if (missing.length === 0) return none
  return { missing: missing.length, result: await insertIsolated(store, inserted, missing, `${token}:restore:${Date.now().toString(36)}`) }
}

/** restoreMissing of a segment's rows, inserted under the segment's own token. */
export async function restoreMissingOfSegment(store: Store, segment: SealedSegment, dead: readonly DeadRow[]): Promise<RestoreResult> {
  return restoreMissing(store, await readSegmentRows(segment), dead, segmentToken(segment.name))
}
