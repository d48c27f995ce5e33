import type { FastifyRequest } from 'fastify'
import { errors } from '../errors.js'

/**
 * RFC 9112 §3.2: a server answers 400 to an HTTP/1.1 request without a Host header. Node does
 * so itself, before any route or hook, with an empty reply outside the catalogue's shape; its
 * check is turned off (`requireHostHeader`, server.ts) for this root onRequest hook, which
 * refuses such a request as every other refusal is made.
 */
export async function requireHostHeader(req: FastifyRequest): Promise<void> {
  if (req.raw.httpVersion === '1.1' && req.headers.host === undefined) {
    throw errors.BAD_REQUEST('an HTTP/1.1 request must have a Host header (RFC 9112 §3.2)')
  }
}
