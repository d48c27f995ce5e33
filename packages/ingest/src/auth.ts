import { createHash, timingSafeEqual } from 'node:crypto'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { ApiKey } from './config/load.js'
import { errors, isSpanlensError, replyWithError, type SpanlensError } from './errors.js'
import { discardBody } from './http/discard-body.js'
import './types.js'

const DEFAULT_PROJECT = 'default'

/** `full` reads and sends; `ingest` (SPANLENS_INGEST_KEYS) only sends. */
type Access = 'full' | 'ingest'
export interface Grant {
  project: string
  access: Access
}

const digest = (s: string): Buffer => createHash('sha256').update(s).digest()

/**
 * API keys → projects. Keys are compared as SHA-256 digests with
 * timingSafeEqual against every configured key (no early exit), so timing
 * reveals neither a key nor which one matched. The project always comes from
 * the key, never from the payload.
 */
export class KeyRing {
  private readonly entries: Array<{ project: string; access: Access; digest: Buffer }>

  constructor(keys: ApiKey[]) {
    this.entries = keys.map((k) => ({ project: k.project, access: k.access ?? 'full', digest: digest(k.key) }))
  }

  /** No keys configured: a single `default` project, loopback only. */
  get open(): boolean {
    return this.entries.length === 0
  }

  /** A key is given once (config/load.ts refuses it for two projects or accesses), so the first match is the match. */
  keyFor(key: string): Grant | undefined {
    const d = digest(key)
    let found: Grant | undefined
    for (const e of this.entries) {
      if (timingSafeEqual(e.digest, d) && found === undefined) found = { project: e.project, access: e.access }
    }
    return found
  }

  /** `Authorization: Bearer <key>` (or Basic project:key, Langfuse style). */
  authenticate(header: string | undefined): Grant | { error: string } {
    if (this.open) return { project: DEFAULT_PROJECT, access: 'full' }
    if (!header) return { error: 'missing Authorization header; send Authorization: Bearer <api key>' }
    const space = header.indexOf(' ')
    const scheme = header.slice(0, space).toLowerCase()
    const value = header.slice(space + 1).trim()
    if (scheme === 'bearer' && value) return this.keyFor(value) ?? { error: 'invalid API key' }
    if (scheme === 'basic' && value) {
      const decoded = Buffer.from(value, 'base64').toString('utf8')
      const colon = decoded.indexOf(':')
      if (colon <= 0) return { error: 'malformed Basic credentials; expected base64(project:key)' }
      const claimed = decoded.slice(0, colon)
      const grant = this.keyFor(decoded.slice(colon + 1))
      // The public part must name the key's own project: a key never writes elsewhere.
      return grant !== undefined && grant.project === claimed ? grant : { error: 'invalid Basic credentials' }
    }
    return { error: 'unsupported Authorization scheme; use Bearer <api key>' }
  }
}

/**
 * What a route that touches project data makes of the caller's key: the grant, or the
 * refusal (401; 403 for an ingest key on a route that does not take data in).
 */
export function admit(keys: KeyRing, req: FastifyRequest, route: { url: string; ingest: boolean }): Grant | SpanlensError {
  const auth = keys.authenticate(req.headers.authorization)
  if ('error' in auth) return errors.UNAUTHORIZED(auth.error)
  if (auth.access === 'ingest' && !route.ingest) {
    return errors.FORBIDDEN(`an ingest key only sends data (OTLP, POST /api/v1/scores); ${req.method} ${route.url} needs a key from SPANLENS_API_KEYS`)
  }
  return auth
}

/**
 * The onRequest hook of every route that touches project data (server.ts
 * registers it in their scope). `throw` hands the 401 or 403 to the scope's error
 * handler (OTLP answers in the request's encoding); `reply` answers JSON.
 * An ingest key passes only on routes that take data in (route config `ingest`).
 */
export function authenticate(keys: KeyRing, onFailure: 'throw' | 'reply') {
  return async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const grant = admit(keys, req, { url: req.routeOptions.url ?? req.url, ingest: req.routeOptions.config?.ingest === true })
    if (isSpanlensError(grant)) {
      discardBody(req.raw)
      if (onFailure === 'throw') throw grant
      await replyWithError(grant, reply)
      return
    }
    req.spanlensProject = grant.project
  }
}

/**
 * The onRequest hook of the admin routes (routes/admin.ts), which act on the server's spool,
 * every project's rows in it: only `Authorization: Bearer <SPANLENS_ADMIN_KEY>` passes. No key
 * or an unknown one is 401; a project's key (even on a server without keys, whose callers are
 * all `default`) is 403. Compared as a SHA-256 digest with timingSafeEqual, as the project keys are.
 */
export function authenticateAdmin(adminKey: string, keys: KeyRing) {
  const expected = digest(adminKey)
  return async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const header = req.headers.authorization ?? ''
    const space = header.indexOf(' ')
    const given = space > 0 && header.slice(0, space).toLowerCase() === 'bearer' ? header.slice(space + 1).trim() : ''
    if (given !== '' && timingSafeEqual(digest(given), expected)) return
    discardBody(req.raw)
    const refusal =
      given !== '' && keys.keyFor(given) !== undefined
        ? errors.FORBIDDEN(`${req.method} ${req.routeOptions.url ?? req.url} acts on every project's spool: it takes SPANLENS_ADMIN_KEY, not a project's key`)
        : errors.UNAUTHORIZED(header === '' ? 'missing Authorization header; send Authorization: Bearer <SPANLENS_ADMIN_KEY>' : 'invalid admin key')
    await replyWithError(refusal, reply)
  }
}
