import { crc32 } from 'node:zlib'
import { frame, HEADER_BYTES } from './segment-file.js'

/**
 * Plain spool segments: `<name>.seg` holds nothing but rows (after its column
 * line, from format `t3`), exactly what ClickHouse reads (`INSERT ... FROM INFILE` in embedded mode, a file stream
 * over HTTP in remote mode), and `<name>.idx` beside it holds one entry per
 * acknowledged request:
 *   [u32 payload bytes][u32 crc32(payload)][u32 row count]
 *
 * Reading a segment back into memory and joining its records cost the event
 * loop a CRC and a copy per insert, and each insert's buffer was external
 * memory that paced V8's mark-compacts; chDB also parses a file faster than
 * inline data (bench/README.md, 2026-11-23). The index is checked only on
 * recovery, when a crash may have torn the last write.
 *
 * The index entry is written (to the page cache) before its rows, so after a
 * process crash every row in the segment has an entry. The index is not synced
 * with each write, only at seal: after a power loss it may be shorter than the
 * rows, which were synced (and maybe acknowledged). Rows past the index are then
 * kept up to the last complete line.
 *
 * A sealed segment's index ends with SEAL_ENTRY. Only a segment without it can
 * end in a torn write; in a sealed one, and before the last record written in
 * any, a record whose rows are missing or fail their checksum is damage, and the
 * records around it are kept (segment-recovery.ts reports the loss).
 */
/** An entry is the record header of a framed segment, kept in the index instead of inline. */
export const INDEX_ENTRY_BYTES = HEADER_BYTES
export const indexEntry: (payload: Buffer, rows: number) => Buffer = frame
/** The row count of the entry at `at` (an entry alone, or an index). */
export const entryRows = (entries: Buffer, at = 0): number => entries.readUInt32LE(at + 8)

/**
 * The last entry of a segment that takes no more rows (closed, or checked after a
 * crash): nothing in it was in flight, so a record missing or damaged later is
 * acknowledged rows lost, not a torn write. No rows, no bytes, and a checksum that
 * is not the CRC-32 of nothing (0): a version that does not know it reads it as a
 * torn last entry and drops it, losing nothing.
 */
export const SEAL_ENTRY: Buffer = (() => {
  const entry = Buffer.alloc(INDEX_ENTRY_BYTES)
  entry.write('SEAL', 4, 'latin1')
  return entry
})()

/** A record the index names, as found in the segment. */
interface IndexedRecord {
  /** Its bytes, [start, end) of the segment. */
  start: number
  end: number
  rows: number
  /** Its index entry. */
  entry: Buffer
}

export interface CheckedSegment {
  /** Intact records, in order: what is kept. */
  kept: IndexedRecord[]
  /** Complete lines past the end of the index (its tail was lost, the rows were not): kept too. */
  unindexed: IndexedRecord | undefined
  /** Rows kept, in `kept` and `unindexed`. */
  rows: number
  /** The index ended with SEAL_ENTRY. */
  sealed: boolean
  /**
   * Missing or damaged records at the end of a segment that was not sealed: the
   * group commit in flight at a crash. Its requests were never acknowledged (they
   * are answered once all of its rows are written), so they are dropped silently.
   */
  tornRecords: number
  /**
   * Where the bytes that belong to no record kept or lost begin: the torn records' rows and
   * a partial line past the index (a row cut mid-write) run from here to the end of the segment.
   */
  tornFrom: number
  /**
   * Missing or damaged records otherwise (damage, truncation): acknowledged rows
   * lost. While there are none, `kept` and `unindexed` are all the segment holds
   * up to their end, and the files can be cut there.
   */
  lost: { records: number; rows: number }
}

/**
 * Verifies a plain segment's rows, from byte `start` (after its column line),
 * against its index, after a crash. Each entry holds its record's length, so a
 * damaged record is skipped and the records after it are kept.
 */
export function checkSegment(data: Buffer, index: Buffer, start = 0): CheckedSegment {
  let entries = Math.floor(index.length / INDEX_ENTRY_BYTES)
  const sealed = entries > 0 && index.subarray((entries - 1) * INDEX_ENTRY_BYTES, entries * INDEX_ENTRY_BYTES).equals(SEAL_ENTRY)
  if (sealed) entries--
  const records: IndexedRecord[] = []
  const intact: boolean[] = []
  let offset = start
  for (let i = 0; i < entries; i++) {
    const at = i * INDEX_ENTRY_BYTES
    const end = offset + index.readUInt32LE(at)
    records.push({ start: offset, end, rows: entryRows(index, at), entry: index.subarray(at, at + INDEX_ENTRY_BYTES) })
    intact.push(end <= data.length && crc32(data.subarray(offset, end)) === index.readUInt32LE(at + 4))
    offset = end
  }
  let unindexed: IndexedRecord | undefined
  if (offset < data.length) {
    const lastLine = data.lastIndexOf(0x0a)
    if (lastLine >= offset) {
      let rows = 0
      for (let i = offset; i <= lastLine; i++) if (data[i] === 0x0a) rows++
      unindexed = { start: offset, end: lastLine + 1, rows, entry: indexEntry(data.subarray(offset, lastLine + 1), rows) }
    }
  }
  // The last record whose rows were written; a bad record before it was not the write in flight.
  let lastWritten = unindexed ? records.length : -1
  for (let i = 0; i < records.length && !unindexed; i++) {
    const r = records[i] as IndexedRecord
    if (intact[i] && r.end > r.start) lastWritten = i
  }
  const kept: IndexedRecord[] = []
  const lost = { records: 0, rows: 0 }
  let tornRecords = 0
  let tornFrom = start
  records.forEach((record, i) => {
    if (intact[i]) kept.push(record)
    else if (i > lastWritten && !sealed) {
      tornRecords++
      return
    } else {
      lost.records++
      lost.rows += record.rows
    }
    tornFrom = Math.max(tornFrom, Math.min(record.end, data.length))
  })
  if (unindexed) tornFrom = Math.max(tornFrom, unindexed.end)
  const rows = kept.reduce((n, r) => n + r.rows, 0) + (unindexed?.rows ?? 0)
  return { kept, unindexed, rows, sealed, tornRecords, tornFrom, lost }
}
