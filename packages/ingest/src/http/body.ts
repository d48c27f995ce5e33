import type { IncomingMessage } from 'node:http'
import type { Transform } from 'node:stream'
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib'
import { errors } from '../errors.js'
import type { BufferPool } from '../pipeline/buffer-pool.js'

/**
 * Reads a request body, decompressing on the fly and counting the
 * decompressed bytes: the limit applies after decompression, and a gzip bomb
 * is refused as soon as it crosses it, without inflating the rest.
 * With a pool, the body is joined into one of its buffers; the caller gives it
 * back once nothing reads it (pipeline/buffer-pool.ts says why).
 */
export async function readBody(req: IncomingMessage, limit: number, pool?: BufferPool): Promise<Buffer> {
  const encoding = String(req.headers['content-encoding'] ?? 'identity').trim().toLowerCase()
  const declared = Number(req.headers['content-length'])
  if (Number.isFinite(declared) && declared > limit) {
    req.resume()
    throw errors.BODY_TOO_LARGE(limit)
  }
  let inflater: Transform | undefined
  switch (encoding) {
    case '':
    case 'identity':
      break
    case 'gzip':
    case 'x-gzip':
      inflater = createGunzip()
      break
    case 'deflate':
      inflater = createInflate()
      break
    case 'br':
      inflater = createBrotliDecompress()
      break
    default:
      req.resume()
      throw errors.UNSUPPORTED_ENCODING(encoding)
  }
  const source: NodeJS.ReadableStream = inflater ? req.pipe(inflater) : req
  const chunks: Buffer[] = []
  let total = 0
  let raw = 0
  if (inflater) req.on('data', (c: Buffer) => (raw += c.length))
  try {
    for await (const chunk of source as AsyncIterable<Buffer>) {
      total += chunk.length
      if (total > limit || raw > limit) {
        throw errors.BODY_TOO_LARGE(limit)
      }
      chunks.push(chunk)
    }
  } catch (err) {
    inflater?.destroy()
    req.unpipe()
    req.resume()
    if ((err as { code?: string }).code === 'SPANLENS_BODY_TOO_LARGE') throw err
    if (inflater) throw errors.BAD_OTLP(`could not decompress ${encoding} body: ${(err as Error).message}`)
    throw err
  }
  const pooled = chunks.length > 1 ? pool?.take(total) : undefined
  if (!pooled) return Buffer.concat(chunks, total)
  let offset = 0
  for (const chunk of chunks) offset += chunk.copy(pooled, offset)
  return pooled.subarray(0, total)
}
