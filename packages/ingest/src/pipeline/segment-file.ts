import { crc32 } from 'node:zlib'

/**
 * Spool segment framing: each acknowledged request is one record
 *   [u32 payload length][u32 crc32(payload)][u32 row count][payload]
 * where the payload is the request's rows as JSONEachRow lines. A crash can
 * only tear the last record, which was never acknowledged; readers stop there.
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
  payloads: Buffer[]
  rows: number
  /** Bytes up to the end of the last intact record. */
  validBytes: number
  torn: boolean
}

export function parseSegment(data: Buffer): ParsedSegment {
  const payloads: Buffer[] = []
  let rows = 0
  let offset = 0
  while (offset + HEADER_BYTES <= data.length) {
    const len = data.readUInt32LE(offset)
    const sum = data.readUInt32LE(offset + 4)
    const n = data.readUInt32LE(offset + 8)
    const start = offset + HEADER_BYTES
    if (start + len > data.length) break
    const payload = data.subarray(start, start + len)
    if (crc32(payload) !== sum) break
    payloads.push(payload)
    rows += n
    offset = start + len
  }
  return { payloads, rows, validBytes: offset, torn: offset !== data.length }
}
