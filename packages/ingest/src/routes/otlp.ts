import type { FastifyPluginAsync, FastifyReply, FastifyRequest, LogLevel } from 'fastify'
import { errors, PRIVATE_REPLY_HEADERS } from '../errors.js'
import { readBody } from '../http/body.js'
import { isDiscardingBody } from '../http/discard-body.js'
import type { IngestPipeline } from '../pipeline/ingest.js'
import { encodeExportResponse, encodeRpcStatus } from '../otlp/encode-response.js'
import { SIGNAL_NAMES, SIGNALS, type Signal } from '../pipeline/signals.js'
import { admit, exportSignal, refuse } from '../receiver/export.js'

type Format = 'protobuf' | 'json'
interface OtlpBody {
  format: Format
  data: Buffer
}

export interface OtlpRoutesOptions {
  pipeline: IngestPipeline
  bodyLimit: number
  /** A body still arriving after this long is refused with 408. */
  bodyTimeoutMs: number
}

function formatOf(contentType: string | undefined): Format | undefined {
  const type = (contentType ?? '').split(';')[0]?.trim().toLowerCase()
  if (type === 'application/x-protobuf' || type === 'application/protobuf') return 'protobuf'
  if (type === 'application/json') return 'json'
  return undefined
}

/**
 * OTLP/HTTP receiver: POST /v1/<signal> for each signal (pipeline/signals.ts)
 * (Bearer), and Langfuse's /api/public/otel/v1/traces (Basic project:key).
 * Replies in the request's encoding, with partial_success for items that were invalid.
 */
export const otlpRoutes: FastifyPluginAsync<OtlpRoutesOptions> = async (app, opts) => {
  const { pipeline } = opts
  // This plugin owns its parsers: bodies are read raw so the size limit can be
  // enforced after decompression.
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', (req, payload, done) => {
    const format = formatOf(req.headers['content-type'])
    if (!format) {
      payload.resume()
      done(errors.UNSUPPORTED_MEDIA_TYPE(String(req.headers['content-type'] ?? '')), undefined)
      return
    }
    readBody(payload, opts.bodyLimit, pipeline.bodyPool, opts.bodyTimeoutMs).then(
      (data) => done(null, { format, data } satisfies OtlpBody),
      (err: Error) => done(err, undefined),
    )
  })

  // After the scope's auth hook: the project is known, so admission is per project.
  app.addHook('onRequest', async (req, reply) => {
    if (!formatOf(req.headers['content-type']) && req.method === 'POST') {
      throw errors.UNSUPPORTED_MEDIA_TYPE(String(req.headers['content-type'] ?? ''))
    }
    // 'close' fires once however the exchange ends: response sent, client gone
    // mid-body, body timeout, error. Releasing only in onResponse leaked the slot
    // of every upload whose client disconnected, until all were gone.
    reply.raw.once('close', admit(pipeline, req.spanlensProject as string))
  })

  app.setErrorHandler((err, req, reply) => {
    const { error: e, rpcCode, retryAfterSeconds, unexpected } = refuse(pipeline.metrics, routeOf(req), err)
    if (retryAfterSeconds !== undefined) void reply.header('retry-after', String(retryAfterSeconds))
    if (unexpected) req.log.error({ err }, 'ingest failed')
    // As every error reply of the server (errors.ts says why).
    void reply.headers(PRIVATE_REPLY_HEADERS)
    // Fastify closes the connection after a body it could not read; one being dropped to its end
    // (http/body.ts says why) stays open, so that its client reads this reply before it is reset.
    if (isDiscardingBody(req.raw.socket)) void reply.removeHeader('connection')
    const format = formatOf(req.headers['content-type']) ?? 'json'
    void reply.code(e.statusCode)
    if (format === 'protobuf') {
      return reply.type('application/x-protobuf').send(encodeRpcStatus(rpcCode, `${e.code}: ${e.message}`, retryAfterSeconds))
    }
    return reply.type('application/json').send({ code: rpcCode, message: e.message, error: { code: e.code, message: e.message } })
  })

  const handler = (signal: Signal) => async (req: FastifyRequest, reply: FastifyReply) => {
    const started = process.hrtime.bigint()
    const body = req.body as OtlpBody | undefined
    const format: Format = body?.format ?? formatOf(req.headers['content-type']) ?? 'json'
    const partial = await exportSignal(pipeline, signal, req.spanlensProject as string, format, body?.data ?? Buffer.alloc(0), routeOf(req), started)
    if (format === 'protobuf') {
      return reply.type('application/x-protobuf').send(encodeExportResponse(partial))
    }
    const rejectedField = SIGNALS[signal].rejectedField
    return reply
      .type('application/json')
      .send(partial ? { partialSuccess: { [rejectedField]: String(partial.rejected), errorMessage: partial.errorMessage } } : {})
  }

  // Per-request info logs cost real throughput at thousands of exports a second;
  // failures are still logged, and /metrics counts every request. A route's level
  // replaces the server's: one configured quieter (error, silent) keeps its own.
  const quieter: readonly string[] = ['error', 'fatal', 'silent'] satisfies LogLevel[]
  const logLevel = (quieter.includes(app.log.level) ? app.log.level : 'warn') as LogLevel
  for (const signal of SIGNAL_NAMES) app.post(`/v1/${signal}`, { logLevel, config: { ingest: true } }, handler(signal))
  app.post('/api/public/otel/v1/traces', { logLevel, config: { ingest: true, authScheme: 'basic' } }, handler('traces'))
}

function routeOf(req: FastifyRequest): string {
  return req.routeOptions.url ?? req.url.split('?')[0] ?? ''
}
