import type { FastifyReply, FastifyRequest } from 'fastify'
import { errors, PRIVATE_REPLY_HEADERS, replyWithError } from '../errors.js'
import { originAllowed, type OriginRule } from './cors-origins.js'

export interface CorsOptions {
  /** SPANLENS_CORS_ORIGINS; empty: no browser may send. */
  origins: readonly OriginRule[]
  /** SPANLENS_CORS_HEADERS: request headers allowed besides BASE_HEADERS, lower case (config/schema.ts). */
  headers: readonly string[]
}

/**
 * What an OTLP exporter or a feedback widget sends: its key, the body's type and
 * encoding, and the request id the server logs by. Content-Type is named although
 * CORS safelists it, because OTLP's types (`application/json`, `application/x-protobuf`)
 * are not among the safelisted values.
 */
const BASE_HEADERS = ['authorization', 'content-type', 'content-encoding', 'x-request-id']
/** Browsers cap how long they keep a preflight (Chromium two hours, Firefox one day); two hours then. */
const MAX_AGE_SECONDS = 7200

/**
 * CORS for the routes that take data in (route config `ingest`: OTLP/HTTP and
 * POST /api/v1/scores), as the OpenTelemetry Collector's `cors` receiver setting:
 * a browser on a listed origin may send spans, logs, metrics and scores, and read
 * the reply (partial success, the error, `Retry-After`, a 401's `WWW-Authenticate`). Nothing else is opened:
 * the routes that read data stay same-origin.
 */
export function cors(options: CorsOptions) {
  const allowHeaders = [...new Set([...BASE_HEADERS, ...options.headers])].join(', ')
  const enabled = options.origins.length > 0

  /** Root onRequest hook: runs before the scopes' auth, so a 401 or 429 reaches the page too. */
  async function onRequest(req: FastifyRequest, reply: FastifyReply): Promise<void> {
    if (!enabled || req.routeOptions.config?.ingest !== true || req.method === 'OPTIONS') return
    // The reply differs by Origin: a shared cache must not give one origin's answer to another.
    void reply.header('vary', 'Origin')
    const origin = req.headers.origin
    if (typeof origin === 'string' && originAllowed(options.origins, origin)) {
      void reply.header('access-control-allow-origin', origin)
      // What a page may read of a reply besides the safelisted headers: when to try again, and a
      // 401's challenge (http/challenge.ts), which says whether the key was missing or refused.
      void reply.header('access-control-expose-headers', 'retry-after, www-authenticate')
    }
  }

  /**
   * OPTIONS on those routes. A browser's preflight gets the grant, or a 403 saying
   * why (browsers do not show it, but the server's log and a curl do); an OPTIONS
   * without `Origin` is plain HTTP's question of which methods the path takes.
   */
  async function preflight(req: FastifyRequest, reply: FastifyReply): Promise<unknown> {
    // Under /api/v1 too (POST /api/v1/scores), whose every reply carries them (docs/security.md).
    void reply.headers(PRIVATE_REPLY_HEADERS)
    const origin = req.headers.origin
    if (typeof origin !== 'string') return reply.code(204).header('allow', 'OPTIONS, POST').send()
    void reply.header('vary', 'Origin')
    if (!enabled) return replyWithError(errors.ORIGIN_NOT_ALLOWED(origin, 'SPANLENS_CORS_ORIGINS is not set, so no browser may send here'), reply)
    if (!originAllowed(options.origins, origin)) return replyWithError(errors.ORIGIN_NOT_ALLOWED(origin, 'it is not in SPANLENS_CORS_ORIGINS'), reply)
    return reply
      .code(204)
      .header('access-control-allow-origin', origin)
      .header('access-control-allow-methods', 'POST')
      .header('access-control-allow-headers', allowHeaders)
      .header('access-control-max-age', String(MAX_AGE_SECONDS))
      .send()
  }

  return { onRequest, preflight }
}
