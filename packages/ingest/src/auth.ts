import { createHash, timingSafeEqual } from 'node:crypto'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { ApiKey } from './config/load.js'
import { errors } from './errors.js'
import './types.js'

const DEFAULT_PROJECT = 'default'

const digest = (s: string): Buffer => createHash('sha256').update(s).digest()

/**
 * API keys → projects. Keys are compared as SHA-256 digests with
 * timingSafeEqual against every configured key (no early exit), so timing
 * reveals neither a key nor which one matched. The project always comes from
 * the key, never from the payload.
 */
export class KeyRing {
  private readonly entries: Array<{ project: string; digest: Buffer }>

  constructor(keys: ApiKey[]) {
    this.entries = keys.map((k) => ({ project: k.project, digest: digest(k.key) }))
  }

  /** No keys configured: a single `default` project, loopback only. */
  get open(): boolean {
    return this.entries.length === 0
  }

  projectForKey(key: string): string | undefined {
    const d = digest(key)
    let found: string | undefined
    for (const e of this.entries) {
      if (timingSafeEqual(e.digest, d) && found === undefined) found = e.project
    }
    return found
  }

  /** `Authorization: Bearer <key>` (or Basic project:key, Langfuse style). */
  authenticate(header: string | undefined): { project: string } | { error: string } {
    if (this.open) return { project: DEFAULT_PROJECT }
    if (!header) return { error: 'missing Authorization header; send Authorization: Bearer <api key>' }
    const space = header.indexOf(' ')
    const scheme = header.slice(0, space).toLowerCase()
    const value = header.slice(space + 1).trim()
    if (scheme === 'bearer' && value) {
      const project = this.projectForKey(value)
      return project ? { project } : { error: 'invalid API key' }
    }
    if (scheme === 'basic' && value) {
      const decoded = Buffer.from(value, 'base64').toString('utf8')
      const colon = decoded.indexOf(':')
      if (colon <= 0) return { error: 'malformed Basic credentials; expected base64(project:key)' }
      const claimed = decoded.slice(0, colon)
      const project = this.projectForKey(decoded.slice(colon + 1))
      // The public part must name the key's own project: a key never writes elsewhere.
      return project !== undefined && project === claimed ? { project } : { error: 'invalid Basic credentials' }
    }
    return { error: 'unsupported Authorization scheme; use Bearer <api key>' }
  }
}

/**
 * The onRequest hook of every route that touches project data (server.ts
 * registers it in their scope). `throw` hands the 401 to the scope's error
 * handler (OTLP answers in the request's encoding); `reply` answers JSON.
 */
export function authenticate(keys: KeyRing, onFailure: 'throw' | 'reply') {
  return async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const auth = keys.authenticate(req.headers.authorization)
    if ('error' in auth) {
      const err = errors.UNAUTHORIZED(auth.error)
      if (onFailure === 'throw') throw err
      await reply.code(401).send(err.toJSON())
      return
    }
    req.spanlensProject = auth.project
  }
}
