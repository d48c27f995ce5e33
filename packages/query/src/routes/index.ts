import type { ClickHouseClient } from '@clickhouse/client'
import type { FastifyError, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import { z } from 'zod'
import { bias } from '../bias/report.js'
import { counterfactual } from '../bias/counterfactual.js'
import { drift } from '../drift/report.js'
import { errors, isQueryError } from '../errors.js'
import { filterFromQuery } from '../filters.js'
import { recordScore } from '../scores/record.js'
import { loadSloFile } from '../slo/file.js'
import { sloStatus } from '../slo/status.js'
import { runSandboxedSql } from '../sql/sandbox.js'
import { clampLimit, decodeCursor } from '../traces/cursor.js'
import { getTrace } from '../traces/get-trace.js'
import { listSpans, listTraces } from '../traces/list.js'
import { SUMMARY_DIMENSIONS, type SummaryDimension, summary } from '../traces/summary.js'
import { parseTime } from '../time.js'

declare module 'fastify' {
  interface FastifyRequest {
    spanlensProject?: string
  }
}

export interface QueryRoutesOptions {
  client: ClickHouseClient
  database: string
  mode: 'embedded' | 'remote'
  sloFile?: string
  sql: { maxExecutionSeconds: number; maxMemoryBytes: number; maxResultRows: number }
}

function project(request: FastifyRequest): string {
  const p = request.spanlensProject
  if (typeof p !== 'string' || p === '') throw errors.UNAUTHORIZED()
  return p
}

type Query = Record<string, unknown>

function listOptions(q: Query) {
  return {
    filter: filterFromQuery(q),
    limit: clampLimit(q.limit),
    cursor: decodeCursor(typeof q.cursor === 'string' ? q.cursor : undefined),
    includeIo: q.io === 'true' || q.io === '1',
  }
}

/**
 * Analyst routes, relative to the prefix the server mounts them under (/api/v1).
 * Every handler scopes to request.spanlensProject (set by the server's auth hook).
 */
export const queryRoutes: FastifyPluginAsync<QueryRoutesOptions> = async (app, opts) => {
  const { client } = opts

  app.setErrorHandler((err: FastifyError, _request, reply: FastifyReply) => {
    if (isQueryError(err)) return reply.code(err.statusCode).send({ error: { code: err.code, message: err.message } })
    if (err.validation || err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' || err.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' || (err.statusCode ?? 500) < 500) {
      return reply.code(err.statusCode ?? 400).send({ error: { code: 'SPANLENS_BAD_REQUEST', message: err.message } })
    }
    reply.log.error({ err }, 'query route failed')
    return reply.code(502).send({ error: { code: 'SPANLENS_QUERY_FAILED', message: 'ClickHouse query failed' } })
  })

  app.get('/spans', async (request) => listSpans(client, project(request), listOptions(request.query as Query)))
  app.get('/traces', async (request) => listTraces(client, project(request), listOptions(request.query as Query)))
  app.get<{ Params: { traceId: string } }>('/traces/:traceId', async (request) => getTrace(client, project(request), request.params.traceId))

  app.get('/summary', async (request) => {
    const q = request.query as Query
    const groupBy = typeof q.groupBy === 'string' && q.groupBy !== '' ? q.groupBy.split(',').map((s) => s.trim()) : []
    for (const g of groupBy) {
      if (!(SUMMARY_DIMENSIONS as readonly string[]).includes(g)) throw errors.BAD_REQUEST(`groupBy: expected some of ${SUMMARY_DIMENSIONS.join(', ')}`)
    }
    return summary(client, project(request), {
      filter: filterFromQuery(q),
      groupBy: groupBy as SummaryDimension[],
      ...(typeof q.bucket === 'string' && q.bucket !== '' ? { bucket: q.bucket } : {}),
    })
  })

  app.post('/scores', async (request, reply) => {
    const result = await recordScore(client, project(request), request.body)
    return reply.code(result.idempotent ? 200 : 201).send(result)
  })

  app.post('/drift', async (request) => drift(client, project(request), (request.body ?? {}) as never))
  app.post('/bias', async (request) => bias(client, project(request), (request.body ?? {}) as never))
  app.post('/bias/counterfactual', async (request) => counterfactual(client, project(request), (request.body ?? {}) as never))

  const slos = () => {
    if (!opts.sloFile) throw errors.SLO_FILE_MISSING()
    return loadSloFile(opts.sloFile)
  }
  const at = (q: Query) => (typeof q.at === 'string' && q.at !== '' ? { at: parseTime(q.at, 'at') } : {})
  app.get('/slo', async (request) => sloStatus(client, project(request), slos(), at(request.query as Query)))
  app.get('/slo/check', async (request) => {
    const report = await sloStatus(client, project(request), slos(), at(request.query as Query))
    return {
      at: report.at,
      firing: report.firing,
      alerts: report.slos.flatMap((s) => s.alerts.filter((a) => a.firing).map((a) => ({ slo: s.name, ...a }))),
    }
  })

  const sqlBody = z.object({ query: z.string() }).strict()
  app.post('/sql', async (request) => {
    const body = sqlBody.safeParse(request.body)
    if (!body.success) throw errors.BAD_REQUEST('expected a JSON body {"query": "SELECT ..."}')
    return runSandboxedSql(client, project(request), body.data.query, { database: opts.database, limits: opts.sql })
  })
}
