import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, truncateSync } from 'node:fs'
import { basename, join } from 'node:path'
import { writeDurably } from './durable-write.js'
import { parseSegment } from './segment-file.js'
import { checkSegment, SEAL_ENTRY } from './segment-index.js'

/**
 * A plain segment (segment-index.ts) left by an earlier run, made whole before it
 * is replayed. A torn last write (a segment that was not sealed) is cut off, as it
 * was never acknowledged. Damage (a record whose rows fail their checksum, or are
 * missing from a sealed segment) costs only its own rows: the records after it are
 * kept. The original files are copied to `dead/` first, as `<file>.damaged`, with
 * `<segment>.damaged.json` saying what was lost, and the segment is rewritten
 * without the bad records. A crash during the rewrite is recovered from that copy
 * at the next start, so the rewrite is done again from the same original.
 * Either way the segment's index ends with SEAL_ENTRY: it takes no more rows.
 */

const DAMAGED = '.damaged'
const NOTE = '.damaged.json'

export interface SegmentDamage {
  segment: string
  table: string
  /** Records whose rows were missing or failed their checksum, and their rows: acknowledged, lost. */
  lostRecords: number
  lostRows: number
  /** Rows kept around them, which are inserted. */
  keptRows: number
  createdAt: string
}

/**
 * The unfinished end of a segment that was not sealed, cut when it is checked: records
 * whose rows were not all written, and a partial last line. That is the write in flight
 * when the process stopped, or one that failed and could not be cut back (Spool.sealBroken);
 * its requests were never answered. After a power loss with SPANLENS_SPOOL_FSYNC=interval
 * or never it may also hold rows acknowledged since the last sync, which that setting does not keep.
 */
export interface TornTail {
  segment: string
  table: string
  /** Records (requests) cut; undefined for a framed segment, whose cut bytes hold an unknown number. */
  records: number | undefined
  /** Bytes of rows cut from the segment. */
  bytes: number
}

export interface PlainSegmentFiles {
  name: string
  table: string
  path: string
  indexPath: string
  /** Format t3: the first line names the columns. */
  columnLine: boolean
}

export interface RecoveredSegment {
  rows: number
  /** Bytes of the segment and its index as left on disk. */
  bytes: number
  headerBytes: number
  /** The column line's names (format t3). */
  columns: string[] | undefined
  /** Complete lines past the end of the index, kept (the index is synced only at seal). */
  unindexedRows: number
  damage: SegmentDamage | undefined
  torn: TornTail | undefined
}

export function recoverPlainSegment(seg: PlainSegmentFiles, deadDir: string): RecoveredSegment {
  const original = (path: string) => join(deadDir, `${basename(path)}${DAMAGED}`)
  const fromOriginal = existsSync(original(seg.path))
  const data = readFileSync(fromOriginal ? original(seg.path) : seg.path)
  const indexSource = fromOriginal ? original(seg.indexPath) : seg.indexPath
  const index = existsSync(indexSource) ? readFileSync(indexSource) : Buffer.alloc(0)
  // The column line is written before any record: without all of it, no row was acknowledged.
  const headerBytes = seg.columnLine ? data.indexOf(0x0a) + 1 : 0
  const columns = seg.columnLine && headerBytes > 0 ? data.subarray(0, headerBytes - 1).toString('utf8').split('\t') : undefined
  if (seg.columnLine && headerBytes === 0) {
    // A column line cut short: the segment took no record yet.
    return { rows: 0, bytes: 0, headerBytes, columns, unindexedRows: 0, damage: undefined, torn: undefined }
  }

  const checked = checkSegment(data, index, headerBytes)
  const unindexed = checked.unindexed ? [checked.unindexed] : []
  const kept = [...checked.kept, ...unindexed]
  const entries = Buffer.concat([...kept.map((r) => r.entry), SEAL_ENTRY])
  const tornBytes = data.length - checked.tornFrom
  // Reported once: a rewrite redone from the original in dead/ was reported at the start that began it.
  const torn = !fromOriginal && (checked.tornRecords > 0 || tornBytes > 0) ? { segment: seg.name, table: seg.table, records: checked.tornRecords, bytes: tornBytes } : undefined
  const result = { rows: checked.rows, headerBytes, columns, unindexedRows: checked.unindexed?.rows ?? 0, torn }

  if (checked.lost.records === 0 && !fromOriginal) {
    // What is kept is all the file holds up to its end: cut the rest in place.
    const end = kept.at(-1)?.end ?? headerBytes
    if (end < data.length) cut(seg.path, end)
    const whole = checked.sealed && end === data.length && checked.unindexed === undefined
    if (!whole) writeDurably(seg.indexPath, entries)
    return { ...result, bytes: end + (whole ? index.length : entries.length), damage: undefined }
  }

  const damage = damageNote(seg, checked)
  if (!fromOriginal) {
    mkdirSync(deadDir, { recursive: true })
    writeDurably(original(seg.path), data)
    writeDurably(original(seg.indexPath), index)
  }
  writeDurably(join(deadDir, `${seg.name}${NOTE}`), Buffer.from(`${JSON.stringify(damage, null, 1)}\n`))
  const rows = Buffer.concat([data.subarray(0, headerBytes), ...kept.map((r) => data.subarray(r.start, r.end))])
  writeDurably(seg.path, rows)
  writeDurably(seg.indexPath, entries)
  return { ...result, bytes: rows.length + entries.length, damage }
}

/**
 * A framed segment (segment-file.ts, formats t1 and c1, written by older versions) made
 * whole the same way: an unfinished last record is cut, a damaged one costs only its own
 * rows. Its original goes to `dead/` first, with its note, as for a plain segment.
 */
export function recoverFramedSegment(seg: { name: string; table: string; path: string }, deadDir: string): Omit<RecoveredSegment, 'headerBytes' | 'columns' | 'unindexedRows'> {
  const original = join(deadDir, `${basename(seg.path)}${DAMAGED}`)
  const fromOriginal = existsSync(original)
  const data = readFileSync(fromOriginal ? original : seg.path)
  const parsed = parseSegment(data)
  const torn = !fromOriginal && parsed.tornBytes > 0 ? { segment: seg.name, table: seg.table, records: undefined, bytes: parsed.tornBytes } : undefined
  if (parsed.lost.records === 0 && !fromOriginal) {
    const end = data.length - parsed.tornBytes
    if (end < data.length) cut(seg.path, end)
    return { rows: parsed.rows, bytes: end, damage: undefined, torn }
  }
  const damage = damageNote(seg, parsed)
  if (!fromOriginal) {
    mkdirSync(deadDir, { recursive: true })
    writeDurably(original, data)
  }
  writeDurably(join(deadDir, `${seg.name}${NOTE}`), Buffer.from(`${JSON.stringify(damage, null, 1)}\n`))
  const kept = Buffer.concat(parsed.records.map((r) => data.subarray(r.start, r.end)))
  writeDurably(seg.path, kept)
  return { rows: parsed.rows, bytes: kept.length, damage, torn }
}

/** Truncates a file and syncs the cut before the index is sealed: rows past a sealed index would be kept at the next start. */
function cut(path: string, length: number): void {
  truncateSync(path, length)
  const fd = openSync(path, 'r+')
  try {
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
}

/** The damage notes in `dir` (a spool's dead/), among `files`, its listing. */
export function damageNotes(dir: string, files: readonly string[]): SegmentDamage[] {
  return files.filter((f) => f.endsWith(NOTE)).map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as SegmentDamage)
}

/** The note a damaged segment leaves in `dead/` beside its original: what it lost and kept. */
function damageNote(seg: { name: string; table: string }, read: { lost: { records: number; rows: number }; rows: number }): SegmentDamage {
  return { segment: seg.name, table: seg.table, lostRecords: read.lost.records, lostRows: read.lost.rows, keptRows: read.rows, createdAt: new Date().toISOString() }
}
