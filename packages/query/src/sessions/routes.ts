import type { ClickHouseClient } from '@clickhouse/client'
import type { FastifyPluginAsync, FastifyRequest } from 'fastify'
import { z } from 'zod'
import { errors } from '../errors.js'
import { labelParam } from '../ids.js'
import { invalidFields, parseLimit } from '../params.js'
import { getSession } from './session.js'

export interface SessionsRoutesOptions {
  client: ClickHouseClient
  /** Runs the store work in the caller project's turn (routes/index.ts, admission.ts). */
  admitted: <T>(request: FastifyRequest, work: (project: string) => Promise<T>) => Promise<T>
}

const query = z.object({ limit: z.string().optional() }).strict()

/** GET /sessions/:sessionId under the API prefix: a conversation's traces in order, with totals (docs/api.md#sessions-and-users). */
export const sessionsRoutes: FastifyPluginAsync<SessionsRoutesOptions> = async (app, { client, admitted }) => {
  app.get<{ Params: { sessionId: string } }>('/sessions/:sessionId', { config: { query: { names: Object.keys(query.shape) } } }, async (request) => {
    const sessionId = labelParam('sessionId', request.params.sessionId)
    const parsed = query.safeParse(request.query ?? {})
    if (!parsed.success) throw invalidFields(parsed.error)
    const limit = parseLimit(parsed.data.limit, 200, 1000)
    return admitted(request, (project) => getSession(client, project, sessionId, { limit }))
  })
}
