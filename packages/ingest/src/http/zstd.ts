import { Decompress } from 'fzstd'
import { errors } from '../errors.js'

/**
 * The largest window a frame may ask for. A decoder allocates the window a frame's
 * header declares before reading any of its blocks, so a 20-byte body could make it
 * allocate 2 GiB. RFC 8878 lets a decoder refuse windows beyond what it supports and
 * recommends supporting at least 8 MB, which every level but `--ultra` and `--long`
 * stays within (zstd 1.5; the Go encoder the OpenTelemetry Collector uses defaults to 8 MB).
 */
const MAX_ZSTD_WINDOW = 8 * 1024 * 1024

/** RFC 8878: a block holds at most the smaller of the window and 128 KiB. */
const MAX_BLOCK = 128 * 1024
const ZSTD_MAGIC = 0xfd2fb528
/** Skippable frames: 0x184D2A50 to 0x184D2A5F. */
const SKIPPABLE_MASK = 0xfffffff0
const SKIPPABLE_MAGIC = 0x184d2a50

/**
 * Decompresses a `Content-Encoding: zstd` body (one or more frames, skippable ones
 * included) into at most `limit` bytes. Node 20's zlib has no zstd, so fzstd (pure
 * JavaScript, MIT) decodes; every frame's header and block headers are walked first
 * (checkFrames), and decoding stops at the first block that crosses the limit, so a
 * bomb costs at most one block past it.
 */
export function decompressZstd(body: Buffer, limit: number): Buffer {
  checkFrames(body)
  const chunks: Uint8Array[] = []
  let total = 0
  const decoder = new Decompress((chunk) => {
    total += chunk.length
    if (total > limit) throw errors.BODY_TOO_LARGE(limit)
    if (chunk.length > 0) chunks.push(chunk)
  })
  try {
    decoder.push(body, true)
  } catch (err) {
    if ((err as { code?: string }).code === errors.BODY_TOO_LARGE.code) throw err
    throw errors.BAD_OTLP(`could not decompress zstd body: ${(err as Error).message}`, { cause: err })
  }
  return Buffer.concat(chunks, total)
}

/** Walks every frame's header and block headers; throws SPANLENS_BAD_OTLP naming what is wrong. */
function checkFrames(body: Buffer): void {
  const bad = (why: string) => errors.BAD_OTLP(`could not decompress zstd body: ${why}`)
  if (body.length === 0) throw bad('empty body')
  let at = 0
  while (at < body.length) {
    if (body.length - at < 8) throw bad(`truncated frame at byte ${at}`)
    const magic = body.readUInt32LE(at)
    if ((magic & SKIPPABLE_MASK) >>> 0 === SKIPPABLE_MAGIC) {
      at += 8 + body.readUInt32LE(at + 4)
      if (at > body.length) throw bad('truncated skippable frame')
      continue
    }
    if (magic !== ZSTD_MAGIC) throw bad(at === 0 ? 'not a zstd frame' : `bytes after the last frame at byte ${at}`)
    const descriptor = body[at + 4] as number
    const fcsFlag = descriptor >> 6
    const singleSegment = (descriptor >> 5) & 1
    if (descriptor & 8) throw bad('reserved bit set in a frame header')
    const checksum = (descriptor >> 2) & 1
    const dictBytes = [0, 1, 2, 4][descriptor & 3] as number
    let p = at + 5
    let window = 0
    if (!singleSegment) {
      const w = body[p++] as number
      const base = 2 ** (10 + (w >> 3))
      window = base + (base / 8) * (w & 7)
    }
    if (dictBytes > 0) {
      if (p + dictBytes > body.length) throw bad('truncated frame header')
      let dict = 0
      for (let i = 0; i < dictBytes; i++) dict += (body[p + i] as number) * 2 ** (8 * i)
      if (dict !== 0) throw bad('frames compressed with a dictionary are not supported')
      p += dictBytes
    }
    const fcsBytes = fcsFlag === 0 ? singleSegment : 1 << fcsFlag
    if (p + fcsBytes > body.length) throw bad('truncated frame header')
    let contentSize = 0
    for (let i = 0; i < fcsBytes; i++) contentSize += (body[p + i] as number) * 2 ** (8 * i)
    if (fcsBytes === 2) contentSize += 256
    p += fcsBytes
    if (singleSegment) window = contentSize
    if (window > MAX_ZSTD_WINDOW) throw bad(`a frame asks for a ${window}-byte window; at most ${MAX_ZSTD_WINDOW} is supported`)
    for (let last = 0; !last; ) {
      if (p + 3 > body.length) throw bad('truncated block')
      const header = body.readUIntLE(p, 3)
      last = header & 1
      const type = (header >> 1) & 3
      const size = header >> 3
      if (type === 3) throw bad('reserved block type')
      if (size > Math.min(window, MAX_BLOCK)) throw bad(`a ${size}-byte block in a frame whose blocks hold at most ${Math.min(window, MAX_BLOCK)}`)
      p += 3 + (type === 1 ? 1 : size)
      if (p > body.length) throw bad('truncated block')
    }
    at = p + 4 * checksum
    if (at > body.length) throw bad('truncated checksum')
  }
}
