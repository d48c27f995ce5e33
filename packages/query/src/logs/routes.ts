import type { ClickHouseClient } from '@clickhouse/client'
import type { FastifyPluginAsync, FastifyRequest } from 'fastify'
import { z } from 'zod'
import { errors } from '../errors.js'
import { SPAN_ID, traceIdParam } from '../ids.js'
import { invalidFields, parseLimit } from '../params.js'
import { traceLogs } from './trace-logs.js'

export interface LogsRoutesOptions {
  client: ClickHouseClient
  /** Runs the store work in the caller project's turn (routes/index.ts, admission.ts). */
  admitted: <T>(request: FastifyRequest, work: (project: string) => Promise<T>) => Promise<T>
}

const query = z
  .object({
    spanId: SPAN_ID.optional(),
    limit: z.string().optional(),
  })
  .strict()

/** GET /traces/:traceId/logs under the API prefix: the trace's OTLP log records (docs/api.md#logs). */
export const logsRoutes: FastifyPluginAsync<LogsRoutesOptions> = async (app, { client, admitted }) => {
  app.get<{ Params: { traceId: string } }>('/traces/:traceId/logs', { config: { query: { names: Object.keys(query.shape) } } }, async (request) => {
    // Parsed before admission: a bad parameter costs no turn.
    const traceId = traceIdParam(request.params.traceId)
    const parsed = query.safeParse(request.query ?? {})
    if (!parsed.success) throw invalidFields(parsed.error)
    const { spanId, limit } = parsed.data
    return admitted(request, (project) => traceLogs(client, project, traceId, { ...(spanId ? { spanId } : {}), limit: parseLimit(limit, 1000, 10_000) }))
  })
}
