import { crc32 } from 'node:zlib'

/**
 * Spool segment framing: each acknowledged request is one record
 *   [u32 payload length][u32 crc32(payload)][u32 row count][payload]
 * where the payload is the request's rows in the segment's row format
 * (row-format.ts, named by the tag in the file name). A crash can
 * only tear the last record, which was never acknowledged: one cut short. A
 * record of its full length whose payload fails its checksum was damaged after it
 * was written (a bad sector): it is skipped by its length, and the records after
 * it, acknowledged, are kept (segment-recovery.ts).
 */
export const HEADER_BYTES = 12

export function frame(payload: Buffer, rows: number): Buffer {
  const header = Buffer.allocUnsafe(HEADER_BYTES)
  header.writeUInt32LE(payload.length, 0)
  header.writeUInt32LE(crc32(payload), 4)
  header.writeUInt32LE(rows, 8)
  return header
}

export interface ParsedSegment {
  /** Intact records, header included: [start, end) of the segment. */
  records: Array<{ start: number; end: number }>
  rows: number
  /** Records of their full length whose payload fails its checksum, and the rows their headers give. */
  lost: { records: number; rows: number }
  /** Bytes at the end that make no whole record: the write in flight at a crash. */
  tornBytes: number
}

export function parseSegment(data: Buffer): ParsedSegment {
  const records: ParsedSegment['records'] = []
  const lost = { records: 0, rows: 0 }
  let rows = 0
  let offset = 0
  while (offset + HEADER_BYTES <= data.length) {
    const len = data.readUInt32LE(offset)
    const n = data.readUInt32LE(offset + 8)
    const start = offset + HEADER_BYTES
    if (start + len > data.length) break
    if (crc32(data.subarray(start, start + len)) === data.readUInt32LE(offset + 4)) {
      records.push({ start: offset, end: start + len })
      rows += n
    } else {
      lost.records++
      lost.rows += n
    }
    offset = start + len
  }
  return { records, rows, lost, tornBytes: data.length - offset }
}

const YIELD_EVERY_BYTES = 2 * 1024 * 1024

/**
 * Checks a segment and joins its payloads into one contiguous body, yielding to
 * the event loop every few MiB: done in one go, a 40 MB segment blocked it for
 * ~45 ms (crc + copy), which showed up directly in acknowledgement latency.
 * The payloads move down over the record headers inside `data` itself (which it
 * therefore changes): a second segment-sized buffer per insert was external
 * memory the GC had to answer for.
 */
export async function segmentBody(data: Buffer): Promise<{ body: Buffer; rows: number }> {
  let size = 0
  let rows = 0
  let offset = 0
  let sinceYield = 0
  while (offset + HEADER_BYTES <= data.length) {
    const len = data.readUInt32LE(offset)
    const start = offset + HEADER_BYTES
    if (start + len > data.length) break
    if (crc32(data.subarray(start, start + len)) !== data.readUInt32LE(offset + 4)) break
    // Read before the move, which may overwrite this record's header; it never
    // writes past `start + len`, so the next record is still intact.
    rows += data.readUInt32LE(offset + 8)
    data.copyWithin(size, start, start + len)
    size += len
    offset = start + len
    sinceYield += len
    if (sinceYield >= YIELD_EVERY_BYTES) {
      sinceYield = 0
      await new Promise((resolve) => setImmediate(resolve))
    }
  }
  return { body: data.subarray(0, size), rows }
}
