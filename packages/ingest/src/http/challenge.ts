import type { FastifyReply, FastifyRequest } from 'fastify'

/** The protection space of every key (RFC 9110 §11.5): one server, one set of keys. */
const REALM = 'spanlens'

/**
 * What a 401 offers (RFC 9110 §15.5.2: a 401 carries WWW-Authenticate with a challenge that
 * applies to the resource). A route that takes Langfuse's `Basic project:key` says so with route
 * config `authScheme: 'basic'` and offers Basic (RFC 7617); every other route Bearer (RFC 6750),
 * with `error="invalid_token"` when a Bearer key was sent and refused (`authorization`, the
 * request's header). Never Basic on the routes the console calls: browsers answer a Basic
 * challenge with their own login dialog, which knows nothing of the console's sign-in.
 */
export function challenge(scheme: 'basic' | undefined, authorization: string | undefined): string {
  if (scheme === 'basic') return `Basic realm="${REALM}", charset="UTF-8"`
  const bearerRefused = /^bearer\s/i.test(authorization ?? '')
  return `Bearer realm="${REALM}"${bearerRefused ? ', error="invalid_token"' : ''}`
}

/**
 * Root onSend hook: every 401 gets its route's challenge, whoever answered it (a scope's auth
 * hook, the answer to a request no route takes, an error handler), on every route registered
 * after it. The router's own refusals bypass hooks: http/unrouted.ts sets theirs.
 */
export async function challengeEvery401(req: FastifyRequest, reply: FastifyReply, payload: unknown): Promise<unknown> {
  if (reply.statusCode === 401 && !reply.hasHeader('www-authenticate')) {
    void reply.header('www-authenticate', challenge(req.routeOptions.config?.authScheme, req.headers.authorization))
  }
  return payload
}
