import { createClient, type ClickHouseClient } from '@clickhouse/client'
import { describe, expect, it } from 'vitest'
import { routesOver } from './helpers/routes-over.js'

describe('query route errors', () => {
  it('an unreachable ClickHouse server is 503 SPANLENS_STORE_UNREACHABLE with Retry-After, for SQL too', async () => {
    // Port 9 (discard) on localhost: nothing listens in the test environment, so the connection is refused.
    const client = createClient({ url: 'http://127.0.0.1:9', request_timeout: 2000 })
    const a = await routesOver(client)
    for (const res of [
      await a.inject({ method: 'GET', url: '/api/v1/spans' }),
      await a.inject({ method: 'POST', url: '/api/v1/sql', payload: { query: 'SELECT 1' } }),
    ]) {
      expect({ status: res.statusCode, code: res.json().error.code, retryAfter: res.headers['retry-after'] }).toEqual({ status: 503, code: 'SPANLENS_STORE_UNREACHABLE', retryAfter: '5' })
      expect(res.json().error.message).not.toContain('127.0.0.1')
    }
    await client.close()
  })
})
