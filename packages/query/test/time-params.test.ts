import { writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Store } from '@spanlens/ingest'
import { insertSpans, openStore, span, traceId, queryApp } from './helpers/store.js'

let store: Store
let close: () => Promise<void>
let app: FastifyInstance
const sloFile = join(tmpdir(), `slo-time-${process.pid}.yaml`)
const headers = { authorization: 'Bearer k' }

beforeAll(async () => {
  ;({ store, close } = await openStore())
  await insertSpans(store, Array.from({ length: 5 }, () => span({ start: new Date(Date.now() - 600_000) })))
  writeFileSync(sloFile, 'slos:\n  - name: ok\n    objective: 99\n    indicator: { type: success }\n')
  app = await queryApp(store, 'p1', { sloFile, sql: { maxExecutionSeconds: 5, maxMemoryBytes: 256 * 1024 * 1024, maxResultRows: 1000 } })
})
afterAll(async () => {
  await app.close()
  await close()
})

const get = (url: string) => app.inject({ method: 'GET', url, headers })
const post = (url: string, payload: unknown) => app.inject({ method: 'POST', url, headers, payload: payload as object })

function expect400Naming(res: Awaited<ReturnType<typeof get>>, param: string): void {
  expect(res.statusCode, res.body).toBe(400)
  expect(res.json().error.code).toBe('SPANLENS_BAD_REQUEST')
  expect(res.json().error.message).toMatch(new RegExp(`^${param}\\b`))
}

describe('extreme time parameters are 400 naming the parameter (answered 502 before)', () => {
  it.each([
    ['/api/v1/summary?from=now-99999999999d', 'from'],
    ['/api/v1/summary?to=now-99999999999w', 'to'],
    ['/api/v1/summary?bucket=99999999999999999999d', 'bucket'],
    ['/api/v1/summary?from=%2B275760-09-13T00:00:00Z', 'from'],
    ['/api/v1/spans?from=8640000000000001', 'from'],
    ['/api/v1/traces?to=1800-01-01', 'to'],
    ['/api/v1/slo?at=now-99999999999d', 'at'],
    ['/api/v1/slo?at=9999-12-31', 'at'],
    ['/api/v1/slo?name=checkout', 'name'],
    ['/api/v1/slo/check?at=now&window=1h', 'window'],
  ])('GET %s', async (url, param) => {
    expect400Naming(await get(url), param)
  })

  it('from in /drift and /bias, timestamp in POST /scores', async () => {
    expect400Naming(await post('/api/v1/drift', { reference: { from: 'now-99999999999d', to: 'now-1d' }, current: { from: 'now-1d' } }), 'from')
    expect400Naming(await post('/api/v1/bias', { groupBy: 'model', outcome: 'error_rate', filter: { from: 'now-99999999999d' } }), 'from')
    expect400Naming(await post('/api/v1/scores', { traceId: traceId(1), name: 'x', value: 1, timestamp: 'now-99999999999d' }), 'timestamp')
    expect400Naming(await post('/api/v1/scores', { traceId: traceId(1), name: 'x', value: 1, timestamp: 1e300 }), 'timestamp')
  })
})

/** Time expressions as users and attackers write them: relative, ISO, epoch ms, and junk. */
const timeExpr = fc.oneof(
  fc.constant('now'),
  fc
    .tuple(fc.oneof(fc.nat({ max: 1000 }), fc.bigInt({ min: 0n, max: 10n ** 25n }), fc.double({ min: 0, max: 1e20, noNaN: true })), fc.constantFrom('s', 'm', 'h', 'd', 'w', 'y', ''))
    .map(([n, u]) => `now-${String(n)}${u}`),
  fc.date({ min: new Date(-8.64e15), max: new Date(8.64e15), noInvalidDate: true }).map((d) => d.toISOString()),
  fc.integer({ min: -1e16, max: 1e16 }).map(String),
  fc.bigInt({ min: 0n, max: 10n ** 30n }).map(String),
  fc.string({ maxLength: 20 }),
)
const bucketExpr = fc.oneof(
  fc.tuple(fc.oneof(fc.nat({ max: 100_000 }), fc.bigInt({ min: 0n, max: 10n ** 25n }), fc.double({ min: 0, max: 1e12, noNaN: true })), fc.constantFrom('s', 'm', 'h', 'd', 'w', 'x')).map(([n, u]) => `${String(n)}${u}`),
  fc.string({ maxLength: 12 }),
)

describe('time expressions and buckets, property-based', () => {
  // Seeded and bounded: the same 150 cases on every run, a few seconds on the embedded store.
  const params = { seed: 15, numRuns: 150 }

  it('any from/to/bucket on /summary answers 200 or a 4xx with a code, never a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(fc.option(timeExpr), fc.option(timeExpr), fc.option(bucketExpr), async (from, to, bucket) => {
        const q = new URLSearchParams()
        if (from !== null) q.set('from', from)
        if (to !== null) q.set('to', to)
        if (bucket !== null) q.set('bucket', bucket)
        const res = await get(`/api/v1/summary?${q}`)
        expect(res.statusCode, `${q} -> ${res.body}`).toBeLessThan(500)
        if (res.statusCode >= 400) expect(res.json().error.code).toMatch(/^SPANLENS_/)
        else expect(Array.isArray(res.json().rows)).toBe(true)
      }),
      params,
    )
  })

  it('any at on /slo and timestamp on POST /scores answers 2xx or a 4xx with a code, never a 5xx; every score answered 2xx is stored', async () => {
    const accepted: string[] = []
    await fc.assert(
      fc.asyncProperty(timeExpr, fc.oneof(timeExpr, fc.double(), fc.integer()), async (at, timestamp) => {
        const slo = await get(`/api/v1/slo?${new URLSearchParams({ at })}`)
        expect(slo.statusCode, `at=${at} -> ${slo.body}`).toBeLessThan(500)
        if (slo.statusCode >= 400) expect(slo.json().error.code).toMatch(/^SPANLENS_/)
        const score = await post('/api/v1/scores', { traceId: traceId(2), name: 'p', value: 1, timestamp })
        expect(score.statusCode, `timestamp=${timestamp} -> ${score.body}`).toBeLessThan(500)
        if (score.statusCode >= 400) expect(score.json().error.code).toMatch(/^SPANLENS_/)
        else accepted.push(`${String(timestamp)} -> ${(score.json() as { id: string }).id}`)
      }),
      { ...params, numRuns: 100 },
    )
    // A score dated before the retention was answered 201 and deleted by the TTL at once.
    const rs = await store.client.query({ query: `SELECT score_id FROM scores WHERE trace_id = '${traceId(2)}'`, format: 'JSONEachRow' })
    const stored = new Set((await rs.json<{ score_id: string }>()).map((r) => r.score_id))
    expect(accepted.filter((a) => !stored.has(a.slice(a.lastIndexOf(' ') + 1)))).toEqual([])
  })
})
