import type { ClickHouseClient } from '@clickhouse/client'
import Fastify, { type FastifyInstance } from 'fastify'
import { afterEach } from 'vitest'
import { queryRoutes } from '../../src/index.js'

let app: FastifyInstance | undefined
afterEach(async () => {
  await app?.close()
  app = undefined
})

/** The query routes over `client`, as project p1, with small SQL limits; closed after each test. `routes` receives each route registered. */
export async function routesOver(client: ClickHouseClient, routes?: Array<{ method: string; url: string }>): Promise<FastifyInstance> {
  app = Fastify()
  if (routes) app.addHook('onRoute', (r) => void routes.push(...[r.method].flat().map((method) => ({ method: String(method), url: r.url }))))
  app.addHook('onRequest', async (request) => {
    request.spanlensProject = 'p1'
  })
  await app.register(queryRoutes, {
    prefix: '/api/v1',
    client,
    database: 'spanlens',
    mode: 'remote',
    sql: { maxExecutionSeconds: 1, maxMemoryBytes: 64 * 1024 * 1024, maxResultRows: 10, maxResultBytes: 64 * 1024 * 1024 },
    queryLimits: { maxExecutionSeconds: 30, maxMemoryBytes: 1024 * 1024 * 1024 },
  })
  return app
}
