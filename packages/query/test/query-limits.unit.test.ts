// Every query route's store calls run under SPANLENS_QUERY_MAX_EXECUTION_SECONDS and
// SPANLENS_QUERY_MAX_MEMORY_BYTES; a query stopped by either is 503 SPANLENS_QUERY_LIMIT.
import { type ClickHouseClient, parseError } from '@clickhouse/client'
import { describe, expect, it } from 'vitest'
import { routesOver } from './helpers/routes-over.js'

type Settings = Record<string, unknown>

/** A store that answers no rows and keeps the settings of every call. */
function recordingStore(fail?: Error): { client: ClickHouseClient; settings: Settings[] } {
  const settings: Settings[] = []
  const answer = async (p: { clickhouse_settings?: Settings }) => {
    settings.push(p.clickhouse_settings ?? {})
    if (fail) throw fail
    return { json: async () => [] }
  }
  return { client: { query: answer, exec: answer, command: answer, insert: answer } as unknown as ClickHouseClient, settings }
}

const TRACE = '0af7651916cd43dd8448eb211c80319c'
const READS: Array<[string, string, unknown?]> = [
  ['GET', '/api/v1/traces?from=now-30d&q=zzzznotfound'],
  ['GET', '/api/v1/spans?from=now-1d'],
  ['GET', `/api/v1/traces/${TRACE}`],
  ['GET', '/api/v1/summary?groupBy=model&bucket=1h&from=now-1d'],
  ['GET', '/api/v1/attributes'],
  ['GET', '/api/v1/sessions/s1'],
  ['GET', '/api/v1/users/u1'],
  ['GET', '/api/v1/metrics?name=gen_ai.client.token.usage&from=now-1h'],
  ['POST', '/api/v1/bias', { groupBy: 'model', outcome: 'error_rate' }],
  ['POST', '/api/v1/drift', { reference: { from: 'now-2d', to: 'now-1d' }, current: { from: 'now-1d' }, signals: ['latency'] }],
]

describe('query routes run each ClickHouse query under the query limits', () => {
  it.each(READS)('%s %s sends max_execution_time and max_memory_usage with every call', async (method, url, payload) => {
    const store = recordingStore()
    const app = await routesOver(store.client)
    await app.inject({ method: method as 'GET' | 'POST', url, ...(payload === undefined ? {} : { payload: payload as object }) })
    expect(store.settings.length, url).toBeGreaterThan(0)
    for (const s of store.settings) {
      expect(s, url).toMatchObject({ max_execution_time: 30, timeout_overflow_mode: 'throw', max_memory_usage: String(1024 * 1024 * 1024) })
    }
  })

  it('a route query stopped at the time limit is 503 SPANLENS_QUERY_LIMIT naming the variable, not a 502 or a 500', async () => {
    const store = recordingStore(parseError('Code: 159. DB::Exception: Timeout exceeded: elapsed 60.001 seconds, maximum: 60. (TIMEOUT_EXCEEDED) (version 26.7.1.1)'))
    const res = await (await routesOver(store.client)).inject({ method: 'GET', url: '/api/v1/traces?from=now-30d&q=x' })
    expect(res.statusCode).toBe(503)
    expect(res.json().error.code).toBe('SPANLENS_QUERY_LIMIT')
    expect(res.json().error.message).toContain('SPANLENS_QUERY_MAX_EXECUTION_SECONDS')
  })

  it("a route query over its memory limit is 503 SPANLENS_QUERY_LIMIT; the server's own memory running out stays 502", async () => {
    const own = recordingStore(parseError('Code: 241. DB::Exception: Memory limit (for query) exceeded: would use 2.00 GiB (attempt to allocate chunk of 4194304 bytes), maximum: 2.00 GiB. (MEMORY_LIMIT_EXCEEDED) (version 26.7.1.1)'))
    const res = await (await routesOver(own.client)).inject({ method: 'GET', url: '/api/v1/summary?groupBy=model' })
    expect({ status: res.statusCode, code: res.json().error.code }).toEqual({ status: 503, code: 'SPANLENS_QUERY_LIMIT' })
    expect(res.json().error.message).toContain('SPANLENS_QUERY_MAX_MEMORY_BYTES')
    const total = recordingStore(parseError('Code: 241. DB::Exception: Memory limit (total) exceeded: would use 3.73 GiB, maximum: 3.72 GiB. (MEMORY_LIMIT_EXCEEDED) (version 26.7.1.1)'))
    const res2 = await (await routesOver(total.client)).inject({ method: 'GET', url: '/api/v1/summary?groupBy=model' })
    expect({ status: res2.statusCode, code: res2.json().error.code }).toEqual({ status: 502, code: 'SPANLENS_QUERY_FAILED' })
  })

  it('POST /scores, an insert, runs without the query limits', async () => {
    const store = recordingStore()
    const app = await routesOver(store.client)
    await app.inject({ method: 'POST', url: '/api/v1/scores', payload: { traceId: TRACE, name: 'feedback', value: 1 } })
    expect(store.settings.length).toBeGreaterThan(0)
    for (const s of store.settings) expect(s).not.toHaveProperty('max_execution_time')
  })
})
