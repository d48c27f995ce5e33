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
 */
/** An entry is the record header of a framed segment, kept in the index instead of inline. */
export const INDEX_ENTRY_BYTES = HEADER_BYTES
export const indexEntry: (payload: Buffer, rows: number) => Buffer = frame
/** The row count of the entry at `at` (an entry alone, or an index). */
export const entryRows = (entries: Buffer, at = 0): number => entries.readUInt32LE(at + 8)

export interface CheckedSegment {
  rows: number
  /** Bytes of rows to keep; the rest is a torn write. */
  validBytes: number
  /** Bytes of index entries to keep. */
  validIndexBytes: number
  /** Something was cut off (torn write or damage). */
  torn: boolean
  /** Rows kept past the end of the index (its tail was lost, the rows were not). */
  unindexedRows: number
}

/** Verifies a plain segment's rows, from byte `start` (after its column line), against its index, after a crash. */
export function checkSegment(data: Buffer, index: Buffer, start = 0): CheckedSegment {
  let offset = start
  let rows = 0
  let entry = 0
  for (; entry + INDEX_ENTRY_BYTES <= index.length; entry += INDEX_ENTRY_BYTES) {
    const len = index.readUInt32LE(entry)
    const end = offset + len
    // An entry whose rows are missing or damaged: the write in flight at the
    // crash (or damage). Nothing after it is trusted.
    if (end > data.length || crc32(data.subarray(offset, end)) !== index.readUInt32LE(entry + 4)) {
      return { rows, validBytes: offset, validIndexBytes: entry, torn: true, unindexedRows: 0 }
    }
    rows += entryRows(index, entry)
    offset = end
  }
  let unindexedRows = 0
  let validBytes = offset
  if (offset < data.length) {
    const lastLine = data.lastIndexOf(0x0a)
    if (lastLine >= offset) {
      validBytes = lastLine + 1
      for (let i = offset; i < validBytes; i++) if (data[i] === 0x0a) unindexedRows++
    }
  }
  return {
    rows: rows + unindexedRows,
    validBytes,
    validIndexBytes: entry,
    torn: validBytes !== data.length || entry !== index.length,
    unindexedRows,
  }
}
