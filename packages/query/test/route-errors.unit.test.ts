import type { ClickHouseClient } from '@clickhouse/client'
import { describe, expect, it } from 'vitest'
import { routesOver } from './helpers/routes-over.js'

const fakeClient = (query: () => Promise<unknown>) => ({ query, exec: query, insert: query }) as unknown as ClickHouseClient

describe('query route errors', () => {
  it('a bug in our code is 500 SPANLENS_INTERNAL', async () => {
    const a = await routesOver(fakeClient(async () => ({ json: async () => [{ trace_id: null, attributes: 42 }] })))
    const res = await a.inject({ method: 'GET', url: '/api/v1/traces/00000000000000000000000000000001' })
    expect(res.statusCode).toBe(500)
    expect(res.json().error).toEqual({ code: 'SPANLENS_INTERNAL', message: 'internal error' })
  })

  it('a ClickHouse exception is 502 SPANLENS_QUERY_FAILED naming only its type', async () => {
    const err = Object.assign(new Error('Code: 241. DB::Exception: Memory limit (total) exceeded: secret detail'), { code: '241', type: 'MEMORY_LIMIT_EXCEEDED' })
    const a = await routesOver(fakeClient(async () => Promise.reject(err)))
    const res = await a.inject({ method: 'GET', url: '/api/v1/spans' })
    expect(res.statusCode).toBe(502)
    expect(res.json().error.code).toBe('SPANLENS_QUERY_FAILED')
    expect(res.json().error.message).toContain('MEMORY_LIMIT_EXCEEDED')
    expect(res.json().error.message).not.toContain('secret')
  })

  it('store output that does not parse is 502 and the reply does not quote it', async () => {
    const leaked = '{"tenant":"someone else"}\n[1,'
    const a = await routesOver(fakeClient(async () => ({ json: async () => JSON.parse(leaked) })))
    const res = await a.inject({ method: 'GET', url: '/api/v1/spans' })
    expect(res.statusCode).toBe(502)
    expect(res.json().error.code).toBe('SPANLENS_QUERY_FAILED')
    expect(res.body).not.toContain('someone else')
  })
})
