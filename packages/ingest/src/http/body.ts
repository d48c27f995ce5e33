import type { IncomingMessage } from 'node:http'
import type { Transform } from 'node:stream'
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib'
import { errors } from '../errors.js'
import type { BufferPool } from '../pipeline/buffer-pool.js'
import { decompressZstd } from './zstd.js'

/** The content encodings OTLP/HTTP takes, as the refusal of another one names them. */
const HTTP_ENCODINGS = 'gzip, deflate, br, zstd or identity'

/** The body ended short: the client closed its connection, or ended its side of it, mid-body. */
function clientGone(req: IncomingMessage, received: number) {
  const declared = Number(req.headers['content-length'])
  return errors.BAD_OTLP(
    Number.isFinite(declared)
      ? `the client closed the connection after ${received} of the ${declared} bytes its Content-Length announced`
      : 'the client closed the connection before the body was complete',
  )
}

/**
 * Reads a request body, decompressing on the fly and counting the
 * decompressed bytes: the limit applies after decompression, and a gzip bomb
 * is refused as soon as it crosses it, without inflating the rest (zstd: once
 * read, block by block).
 * With a pool, the body is joined into one of its buffers; the caller gives it
 * back once nothing reads it (pipeline/buffer-pool.ts says why).
 */
export async function readBody(req: IncomingMessage, limit: number, pool?: BufferPool, timeoutMs?: number): Promise<Buffer> {
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
    case 'zstd':
      // Read as sent (at most `limit` bytes), then decoded whole: zstd.ts says why.
      break
    default:
      req.resume()
      throw errors.UNSUPPORTED_ENCODING(encoding, HTTP_ENCODINGS)
  }
  const source: NodeJS.ReadableStream = inflater ? req.pipe(inflater) : req
  const chunks: Buffer[] = []
  let total = 0
  let raw = 0
  const countRaw = (c: Buffer) => (raw += c.length)
  if (inflater) req.on('data', countRaw)
  try {
    await new Promise<void>((resolve, reject) => {
      // Every way the upload can end settles this promise once: the end, a
      // stream error, the client going away mid-body, too many bytes, or too
      // much time (a slow or stalled upload would hold its ingest slot for as
      // long as it trickles). The socket is not destroyed here, so the refusal
      // can still be answered.
      let settled = false
      const finish = (err?: unknown) => {
        if (settled) return
        settled = true
        clearTimeout(timer)
        source.removeListener('data', onData)
        source.removeListener('end', onEnd)
        source.removeListener('error', finish)
        req.removeListener('close', onClose)
        if (err === undefined) resolve()
        else reject(err)
      }
      const onData = (chunk: Buffer) => {
        total += chunk.length
        if (total > limit || raw > limit) finish(errors.BODY_TOO_LARGE(limit))
        else chunks.push(chunk)
      }
      // An end before the request is complete is a body cut short (http/client-error.ts ends it so).
      const onEnd = () => finish(req.complete ? undefined : clientGone(req, inflater ? raw : total))
      const onClose = () => {
        if (!req.complete) finish(clientGone(req, inflater ? raw : total))
      }
      const timer =
        timeoutMs === undefined ? undefined : setTimeout(() => finish(errors.BODY_TIMEOUT(timeoutMs)), timeoutMs)
      source.on('data', onData)
      source.once('end', onEnd)
      source.once('error', finish)
      req.once('close', onClose)
    })
  } catch (err) {
    inflater?.destroy()
    req.unpipe()
    req.removeListener('data', countRaw)
    // Whatever is still coming is read and dropped, so the refusal can be answered.
    req.resume()
    const code = (err as { code?: string }).code
    if (code === errors.BODY_TOO_LARGE.code || code === errors.BODY_TIMEOUT.code || code === errors.BAD_OTLP.code) throw err
    // A decompressor fails on a body cut short before the request's own end says so.
    if (req.readableAborted || (req.readableEnded && !req.complete)) throw clientGone(req, inflater ? raw : total)
    if (inflater) throw errors.BAD_OTLP(`could not decompress ${encoding} body: ${(err as Error).message}`, { cause: err })
    throw err
  }
  if (encoding === 'zstd') return decompressZstd(Buffer.concat(chunks, total), limit)
  const pooled = chunks.length > 1 ? pool?.take(total) : undefined
  if (!pooled) return Buffer.concat(chunks, total)
  let offset = 0
  for (const chunk of chunks) offset += chunk.copy(pooled, offset)
  return pooled.subarray(0, total)
}
