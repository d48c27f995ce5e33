import { createClient, type ClickHouseClient } from '@clickhouse/client'
import Fastify, { type FastifyInstance } from 'fastify'
import { afterEach, describe, expect, it } from 'vitest'
import { queryRoutes } from '../src/index.js'

let app: FastifyInstance | undefined
afterEach(async () => {
  await app?.close()
  app = undefined
})

/** The query routes over `client`. */
async function routesOver(client: ClickHouseClient): Promise<FastifyInstance> {
  app = Fastify()
  app.addHook('onRequest', async (request) => {
    request.spanlensProject = 'p1'
  })
  await app.register(queryRoutes, {
    prefix: '/api/v1',
    client,
    database: 'spanlens',
    mode: 'remote',
    sql: { maxExecutionSeconds: 1, maxMemoryBytes: 64 * 1024 * 1024, maxResultRows: 10 },
  })
  return app
}

describe('query route errors', () => {
  it('an unreachable ClickHouse server is 502 SPANLENS_QUERY_FAILED, for SQL too', async () => {
    // Port 9 (discard) on localhost: nothing listens in the test environment, so the connection is refused.
    const client = createClient({ url: 'http://127.0.0.1:9', request_timeout: 2000 })
    const a = await routesOver(client)
    for (const res of [
      await a.inject({ method: 'GET', url: '/api/v1/spans' }),
      await a.inject({ method: 'POST', url: '/api/v1/sql', payload: { query: 'SELECT 1' } }),
    ]) {
      expect(res.statusCode).toBe(502)
      expect(res.json().error.code).toBe('SPANLENS_QUERY_FAILED')
    }
    await client.close()
  })
})
