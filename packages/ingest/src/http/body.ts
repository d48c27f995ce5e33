import type { IncomingMessage } from 'node:http'
import type { Transform } from 'node:stream'
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib'
import { errors } from '../errors.js'
import type { BufferPool } from '../pipeline/buffer-pool.js'
import { discardBody } from './discard-body.js'
import { decompressZstd } from './zstd.js'

/** The content encodings OTLP/HTTP takes, as the refusal of another one names them. */
const HTTP_ENCODINGS = 'gzip, deflate, br, zstd or identity'

/**
 * A body refused while it still arrives (over the limit, in an encoding not taken, one that does
 * not decompress) is read and dropped up to this many times the limit in all, the connection kept
 * open for it, so that its client reads the refusal. Closed with bytes unread, the connection is
 * reset, and a client that reads its reply only once it has sent the whole body (Node's http and
 * fetch, Go's net/http) sees a broken pipe instead: OpenTelemetry's JS exporter retries that as a
 * network fault, a body that can never fit, where a 413 is final. Twice the limit takes a body
 * just over it whole (a batch one span too large); one announced past that is not read, and the
 * connection closes after the refusal. Dropping costs ~1.5 ms of CPU a MiB (128 MiB: ~0.2 s,
 * measured on 2 cores with loopback clients); Node's request time-out bounds how long it takes.
 */
const DRAINED_LIMITS = 2

/** Reads and drops what is left of a body refused for what it is (DRAINED_LIMITS), `received` bytes of it read. */
function dropRest(req: IncomingMessage, limit: number, received: number): void {
  const most = DRAINED_LIMITS * limit
  const declared = Number(req.headers['content-length'])
  if (Number.isFinite(declared) && declared > most) req.resume()
  else discardBody(req, most - received)
}

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
    dropRest(req, limit, 0)
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
      dropRest(req, limit, 0)
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
    const received = inflater ? raw : total
    const code = (err as { code?: string }).code
    // Whatever is still coming is read and dropped, so the refusal can be answered: a body too
    // large, or that does not decompress, while its client still sends it (dropRest); one too
    // slow, or cut short, until the connection closes after the refusal.
    if (code === errors.BODY_TOO_LARGE.code) {
      dropRest(req, limit, received)
      throw err
    }
    req.resume()
    if (code === errors.BODY_TIMEOUT.code || code === errors.BAD_OTLP.code) throw err
    // A decompressor fails on a body cut short before the request's own end says so.
    if (req.readableAborted || (req.readableEnded && !req.complete)) throw clientGone(req, received)
    if (inflater) {
      dropRest(req, limit, received)
      throw errors.BAD_OTLP(`could not decompress ${encoding} body: ${(err as Error).message}`, { cause: err })
    }
    throw err
  }
  if (encoding === 'zstd') return decompressZstd(Buffer.concat(chunks, total), limit)
  const pooled = chunks.length > 1 ? pool?.take(total) : undefined
  if (!pooled) return Buffer.concat(chunks, total)
  let offset = 0
  for (const chunk of chunks) offset += chunk.copy(pooled, offset)
  return pooled.subarray(0, total)
}
