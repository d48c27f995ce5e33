import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import { errors, type SpanlensError, toSpanlensError } from '../errors.js'
import { readBody } from '../http/body.js'
import type { IngestPipeline } from '../pipeline/ingest.js'
import { encodeExportResponse, encodeRpcStatus } from '../otlp/encode-response.js'

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

// OTLP/HTTP error bodies are google.rpc.Status; the gRPC codes that match our statuses.
const GRPC_CODE: Record<number, number> = { 400: 3, 401: 16, 408: 4, 413: 8, 415: 3, 429: 8, 503: 14, 500: 13 }
const RETRY_AFTER_SECONDS = { 429: 1, 503: 5 } as Record<number, number>

function formatOf(contentType: string | undefined): Format | undefined {
  const type = (contentType ?? '').split(';')[0]?.trim().toLowerCase()
  if (type === 'application/x-protobuf' || type === 'application/protobuf') return 'protobuf'
  if (type === 'application/json') return 'json'
  return undefined
}

/**
 * OTLP/HTTP trace receiver: POST /v1/traces (Bearer) and Langfuse's
 * /api/public/otel/v1/traces (Basic project:key). Replies in the request's
 * encoding, with partial_success for spans that were invalid.
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
    const project = req.spanlensProject as string
    const admission = pipeline.admit(project)
    if (admission) throw admission
    // 'close' fires once however the exchange ends: response sent, client gone
    // mid-body, body timeout, error. Releasing only in onResponse leaked the slot
    // of every upload whose client disconnected, until all were gone.
    let released = false
    reply.raw.once('close', () => {
      if (released) return
      released = true
      pipeline.release(project)
    })
  })

  app.setErrorHandler((err, req, reply) => {
    const e = toSpanlensError(err)
    pipeline.metrics.requestsRejected.inc({ reason: reasonOf(e) })
    pipeline.metrics.requests.inc({ route: routeOf(req), status: e.statusCode })
    if (e.statusCode === 429 || e.statusCode === 503) {
      pipeline.metrics.backpressure.inc({ status: e.statusCode })
      void reply.header('retry-after', String(RETRY_AFTER_SECONDS[e.statusCode]))
    }
    if (e.statusCode >= 500 && e.statusCode !== 503) req.log.error({ err }, 'ingest failed')
    const format = formatOf(req.headers['content-type']) ?? 'json'
    const grpc = GRPC_CODE[e.statusCode] ?? 2
    void reply.code(e.statusCode)
    if (format === 'protobuf') {
      return reply.type('application/x-protobuf').send(encodeRpcStatus(grpc, `${e.code}: ${e.message}`))
    }
    return reply.type('application/json').send({ code: grpc, message: e.message, error: { code: e.code, message: e.message } })
  })

  const handler = async (req: FastifyRequest, reply: FastifyReply) => {
    const started = process.hrtime.bigint()
    const body = req.body as OtlpBody | undefined
    const format: Format = body?.format ?? formatOf(req.headers['content-type']) ?? 'json'
    const project = req.spanlensProject as string
    const result = await pipeline.accept(project, format, body?.data ?? Buffer.alloc(0))
    const route = routeOf(req)
    pipeline.metrics.requests.inc({ route, status: 200 })
    pipeline.metrics.ackDuration.observe(Number(process.hrtime.bigint() - started) / 1e9)

    const partial =
      result.rejected > 0
        ? { rejectedSpans: result.rejected, errorMessage: `${result.rejected} span(s) rejected: ${result.problems.join('; ')}` }
        : undefined
    if (format === 'protobuf') {
      return reply.type('application/x-protobuf').send(encodeExportResponse(partial))
    }
    return reply
      .type('application/json')
      .send(partial ? { partialSuccess: { rejectedSpans: String(partial.rejectedSpans), errorMessage: partial.errorMessage } } : {})
  }

  // Per-request info logs cost real throughput at thousands of exports a second;
  // failures are still logged, and /metrics counts every request.
  app.post('/v1/traces', { logLevel: 'warn' }, handler)
  app.post('/api/public/otel/v1/traces', { logLevel: 'warn' }, handler)
}

function routeOf(req: FastifyRequest): string {
  return req.routeOptions.url ?? req.url.split('?')[0] ?? ''
}

/** The `reason` label of spanlens_ingest_requests_rejected_total for each code. */
const REASON: Record<string, string> = {
  [errors.UNAUTHORIZED.code]: 'unauthorized',
  [errors.BODY_TOO_LARGE.code]: 'body_too_large',
  [errors.BODY_TIMEOUT.code]: 'body_timeout',
  [errors.ROWS_TOO_LARGE.code]: 'rows_too_large',
  [errors.UNSUPPORTED_MEDIA_TYPE.code]: 'unsupported_media_type',
  [errors.UNSUPPORTED_ENCODING.code]: 'unsupported_media_type',
  [errors.SPOOL_FULL.code]: 'spool_full',
  [errors.OVERLOADED.code]: 'overloaded',
  [errors.SPOOL_IO.code]: 'spool_io',
  [errors.SHUTTING_DOWN.code]: 'shutting_down',
}

function reasonOf(e: SpanlensError): string {
  return REASON[e.code] ?? (e.statusCode < 500 ? 'bad_request' : 'internal')
}
