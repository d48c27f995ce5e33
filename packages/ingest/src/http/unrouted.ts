import type { FastifyReply, FastifyRequest } from 'fastify'
import { admit, type KeyRing } from '../auth.js'
import { errors, isSpanlensError, replyWithError } from '../errors.js'
import { pathRoutes } from './allowed-methods.js'
import { challenge } from './challenge.js'
import { discardBody } from './discard-body.js'

/** A route whose scope checks the caller's key (server.ts collects them as they are registered). */
export interface KeyedRoute {
  method: string
  url: string
  /** an ingest key may call it (route config `ingest`) */
  ingest: boolean
  /** the scheme its 401 offers (route config `authScheme`; http/challenge.ts) */
  authScheme?: 'basic' | undefined
}

export interface UnroutedOptions {
  keys: KeyRing
  /** every route registered, filled in as they are */
  routes: ReadonlyArray<{ method: string; url: string }>
  /** the routes among them that need a key, filled in as they are */
  keyed: readonly KeyedRoute[]
  /** the router's `maxParamLength` */
  maxParamLength: number
  /** answers a path the router cannot read that is a console page (GET or HEAD outside the API's prefixes) */
  consolePage: (req: FastifyRequest, reply: FastifyReply) => unknown
  isConsolePath: (path: string) => boolean
}

/**
 * Requests no route takes: a path no route has (404), one whose routes take other methods
 * (405), a parameter longer than the router takes, a percent-escape that does not decode
 * (400). Each is answered from its headers alone, in an onRequest hook, before Fastify would
 * read and parse its body (up to the server's body limit) for the not-found handler; so an
 * unauthenticated client cannot make the server buffer and parse bodies it never uses.
 *
 * A request that a route of its own method would take but for the router (the last two
 * cases) is first refused as that route refuses a caller: without a valid key 401, with an
 * ingest key on a route that reads 403. A path no route has, or a method none of its routes
 * takes, is answered the same with or without a key: the routes are public (docs/api.md).
 */
export function unroutedRequests(opts: UnroutedOptions) {
  const routesOf = pathRoutes(opts.routes, opts.maxParamLength)
  const keyedOf = pathRoutes(opts.keyed, opts.maxParamLength)
  // Ids are stored up to the router's limit, so a longer one names nothing; said so, naming it.
  const overLongParam = (p: { name: string; length: number }) =>
    errors.BAD_REQUEST(`${p.name}: ${p.length} characters, over the ${opts.maxParamLength} a path parameter takes (the longest id stored)`)

  /** `malformed`: the router's own refusal of the path, which it could not decode. */
  function answer(req: FastifyRequest, reply: FastifyReply, malformed?: Error): unknown {
    const path = req.url.split('?')[0] ?? '/'
    discardBody(req.raw)
    // OPTIONS is a CORS preflight, which carries no key by design: not a use of the route.
    const keyed = req.method === 'OPTIONS' ? [] : keyedOf(req.method, path).own
    if (keyed[0]) {
      const grant = admit(opts.keys, req, { url: keyed[0].url, ingest: keyed.some((r) => r.ingest) })
      if (isSpanlensError(grant)) {
        // Set here: the router's own refusals (frameworkErrors) pass no hook, the onSend that sets it elsewhere included.
        if (grant.statusCode === 401) reply.header('www-authenticate', challenge(keyed[0].authScheme, req.headers.authorization))
        return replyWithError(grant, reply)
      }
    }
    if (malformed) {
      if ((req.method === 'GET' || req.method === 'HEAD') && opts.isConsolePath(path)) return opts.consolePage(req, reply)
      return replyWithError(errors.BAD_REQUEST(`malformed URL: ${malformed.message}`), reply)
    }
    const { methods, overLong } = routesOf(req.method, path)
    if (overLong) return replyWithError(overLongParam(overLong), reply)
    // HEAD is Fastify's own twin of each GET: named by the GET. OPTIONS is the CORS preflight, not a use of the path.
    const allowed = methods.filter((m) => m !== 'HEAD' && m !== 'OPTIONS')
    // A route of this very method has the path, yet the router missed it: no 405 could say why.
    if (allowed.length > 0 && !methods.includes(req.method)) {
      reply.header('allow', allowed.join(', '))
      return replyWithError(errors.METHOD_NOT_ALLOWED(req.method, path, allowed), reply)
    }
    return replyWithError(errors.NOT_FOUND(`route ${req.method} ${path}`), reply)
  }

  return {
    /**
     * Root onRequest hook, after CORS's: a request the router found no route for (Fastify's
     * 404 context) is answered here, before its body is read.
     */
    onRequest: async (req: FastifyRequest, reply: FastifyReply): Promise<unknown> => {
      if (!req.is404) return undefined
      await answer(req, reply)
      return reply
    },
    /** The not-found handler: what reaches it has passed the hook (reply.callNotFound from the console's `/*`). */
    notFound: (req: FastifyRequest, reply: FastifyReply) => answer(req, reply),
    /** Fastify's frameworkErrors: the router refused the path before any hook. */
    frameworkErrors: (err: Error, req: FastifyRequest, reply: FastifyReply) => void answer(req, reply, err),
  }
}
