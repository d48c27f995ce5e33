import type { ClickHouseClient } from '@clickhouse/client'
import type { FastifyPluginAsync, FastifyRequest } from 'fastify'
import { z } from 'zod'
import { errors } from '../errors.js'
import { SPAN_ID, traceIdParam } from '../ids.js'
import { FLAG, invalidFields, parseLimit } from '../params.js'
import { traceLogs } from './trace-logs.js'

export interface LogsRoutesOptions {
  client: ClickHouseClient
  /** Runs the store work in the caller project's turn (routes/index.ts, admission.ts). */
  admitted: <T>(request: FastifyRequest, work: (project: string) => Promise<T>) => Promise<T>
}

const query = z
  .object({
    spanId: SPAN_ID.optional(),
    // The records of the trace that name no span (a logger's lines outside any span, a span never exported).
    withoutSpan: FLAG.optional(),
    limit: z.string().optional(),
  })
  .strict()
  .refine((q) => !(q.spanId !== undefined && q.withoutSpan === true), { path: ['withoutSpan'], message: 'withoutSpan=1 asks for the records that name no span; spanId names one: give one of them' })

/** GET /traces/:traceId/logs under the API prefix: the trace's OTLP log records (docs/api.md#logs). */
export const logsRoutes: FastifyPluginAsync<LogsRoutesOptions> = async (app, { client, admitted }) => {
  app.get<{ Params: { traceId: string } }>('/traces/:traceId/logs', { config: { query: { names: Object.keys(query.shape) } } }, async (request) => {
    // Parsed before admission: a bad parameter costs no turn.
    const traceId = traceIdParam(request.params.traceId)
    const parsed = query.safeParse(request.query ?? {})
    if (!parsed.success) throw invalidFields(parsed.error)
    const { spanId, withoutSpan, limit } = parsed.data
    const span = withoutSpan ? { spanId: '' } : spanId ? { spanId } : {}
    return admitted(request, (project) => traceLogs(client, project, traceId, { ...span, limit: parseLimit(limit, 1000, 10_000) }))
  })
}
