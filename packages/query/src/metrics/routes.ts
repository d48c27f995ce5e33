import type { ClickHouseClient } from '@clickhouse/client'
import type { FastifyPluginAsync, FastifyRequest } from 'fastify'
import { queryMetrics } from './query.js'
import { METRICS_PARAMS, parseMetricsQuery } from './schema.js'

export interface MetricsRoutesOptions {
  client: ClickHouseClient
  /** Runs the store work in the caller project's turn (routes/index.ts, admission.ts). */
  admitted: <T>(request: FastifyRequest, work: (project: string) => Promise<T>) => Promise<T>
}

/** GET /metrics under the API prefix: one OTLP metric per group and time bucket (docs/api.md#metrics). */
export const metricsRoutes: FastifyPluginAsync<MetricsRoutesOptions> = async (app, { client, admitted }) => {
  app.get('/metrics', { config: { query: { names: METRICS_PARAMS } } }, async (request) => {
    // Parsed before admission: a bad parameter costs no turn.
    const q = parseMetricsQuery(request.query as Record<string, unknown>)
    return admitted(request, (project) => queryMetrics(client, project, q))
  })
}
