import type { FastifyPluginAsync } from 'fastify'
import { invalidFields, onlyParams } from '@spanlens/query'
import { z } from 'zod'
import { errors, PRIVATE_REPLY_HEADERS } from '../errors.js'
import { secondsFailing } from '../pipeline/failing-segments.js'
import type { IngestPipeline } from '../pipeline/ingest.js'

export interface AdminRoutesOptions {
  pipeline: IngestPipeline
}

/** A segment's name, as /readyz and `spanlens dead-letter stuck` show it: well under a kilobyte. */
const BODY_LIMIT = 4096
const SEGMENT_NAME = "expected a segment's name, as /readyz or `spanlens dead-letter stuck` shows it"
const setAsideBody = z
  .object(
    { segment: z.string({ error: (issue) => (issue.input === undefined ? undefined : SEGMENT_NAME) }).min(1) },
    { error: (issue) => (issue.code === 'invalid_type' ? 'expected a JSON object {"segment": "<name>"}' : undefined) },
  )
  .strict()

/**
 * The operator's routes on this server's spool, registered by server.ts only with
 * SPANLENS_ADMIN_KEY and inside the scope whose hook checks it (auth.ts, authenticateAdmin).
 * - GET /api/v1/admin/spool/failing: every segment whose inserts are failing (since when,
 *   attempts, the last error), as /readyz lists the oldest ten.
 * - POST /api/v1/admin/spool/set-aside {"segment": name}: moves one into the dead letters, for a
 *   segment no retry inserts, the server running (Inserter.setAside); `spanlens dead-letter
 *   replay` inserts it later. 404 for a segment this server does not hold, 409 for one that
 *   was inserted while the request waited for its insert in flight.
 */
export const adminRoutes: FastifyPluginAsync<AdminRoutesOptions> = async (app, opts) => {
  const { inserter } = opts.pipeline
  app.addHook('onRequest', async (_request, reply) => {
    reply.headers(PRIVATE_REPLY_HEADERS)
  })
  // Neither route reads a query parameter: one given is refused, as on every query route.
  app.addHook('preValidation', async (request) => {
    onlyParams(request.query as Record<string, unknown>, request.routeOptions.url ?? request.url, { names: [] })
  })
  app.get('/api/v1/admin/spool/failing', async () => {
    const now = Date.now()
    return {
      segments: inserter.failingSegments().map(({ firstFailedAt, lastFailedAt, lastErrorShown: _, ...rest }) => ({
        ...rest,
        failingForSeconds: secondsFailing(firstFailedAt, now),
        lastFailedAt: new Date(lastFailedAt).toISOString(),
      })),
    }
  })
  app.post('/api/v1/admin/spool/set-aside', { bodyLimit: BODY_LIMIT }, async (request) => {
    const body = setAsideBody.safeParse(request.body)
    if (!body.success) throw invalidFields(body.error)
    const name = body.data.segment
    const done = await inserter.setAside(name)
    if (done.state !== 'set-aside') throw done.state === 'left' ? errors.SPOOL_SEGMENT_LEFT(name) : errors.SPOOL_SEGMENT_UNKNOWN(name)
    return { segment: name, rows: done.rows, reason: done.reason, deadLetter: name }
  })
}
