import { rmSync, writeFileSync } from 'node:fs'
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
  // A latency SLO reads spans (success reads the rollup); its threshold is beyond 2^53.
  writeFileSync(
    sloFile,
    'slos:\n  - name: ok\n    objective: 99\n    indicator: { type: success }\n  - name: fast\n    objective: 99\n    indicator: { type: latency, thresholdMs: 1e21 }\n',
  )
  app = await queryApp(store, 'p1', { sloFile, sql: { maxExecutionSeconds: 5, maxMemoryBytes: 256 * 1024 * 1024, maxResultRows: 1000, maxResultBytes: 64 * 1024 * 1024 } })
})
afterAll(async () => {
  rmSync(sloFile, { force: true })
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
    expect400Naming(await post('/api/v1/drift', { reference: { from: 'now-99999999999d', to: 'now-1d' }, current: { from: 'now-1d' } }), 'reference\\.from')
    expect400Naming(await post('/api/v1/bias', { groupBy: 'model', outcome: 'error_rate', filter: { from: 'now-99999999999d' } }), 'filter\\.from')
    expect400Naming(await post('/api/v1/scores', { traceId: traceId(1), name: 'x', value: 1, timestamp: 'now-99999999999d' }), 'timestamp')
    expect400Naming(await post('/api/v1/scores', { traceId: traceId(1), name: 'x', value: 1, timestamp: 1e300 }), 'timestamp')
  })
})

/** The last millisecond DateTime64(9) holds (Int64 nanoseconds), and a time after it. */
const LAST = '2262-04-11T23:47:16.854Z'
const AFTER = '2270-01-01T00:00:00Z'
const cursor = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url')

describe('times after the last instant the store holds (2262-04-11T23:47:16.854Z) are 400 naming the field (502 DECIMAL_OVERFLOW before)', () => {
  it.each([
    [`/api/v1/spans?to=${AFTER}`, 'to'],
    [`/api/v1/traces?to=${AFTER}`, 'to'],
    [`/api/v1/traces?from=${AFTER}&order=durationMs`, 'from'],
    [`/api/v1/attributes?to=${AFTER}`, 'to'],
    [`/api/v1/summary?to=${AFTER}`, 'to'],
    [`/api/v1/summary?to=${AFTER}&minDurationMs=1`, 'to'],
    [`/api/v1/users/u?from=2265-01-01T00:00:00Z&to=${AFTER}&bucket=3650d`, 'from'],
    [`/api/v1/metrics?name=m&from=2265-01-01T00:00:00Z&to=${AFTER}`, 'to'],
    [`/api/v1/slo?at=${AFTER}`, 'at'],
    [`/api/v1/slo/check?at=${AFTER}`, 'at'],
  ])('GET %s', async (url, param) => {
    expect400Naming(await get(url), param)
  })

  it('in the filter of /drift and /bias', async () => {
    expect400Naming(await post('/api/v1/drift', { reference: { from: 'now-2d', to: 'now-1d' }, current: { from: 'now-1d' }, signals: ['latency'], filter: { to: AFTER } }), 'filter\\.to')
    expect400Naming(await post('/api/v1/bias', { groupBy: 'model', outcome: 'error_rate', filter: { to: AFTER } }), 'filter\\.to')
    expect400Naming(await post('/api/v1/bias/counterfactual', { filter: { from: AFTER } }), 'filter\\.from')
  })

  it('a forged cursor past Int64 nanoseconds is a 400 naming cursor', async () => {
    for (const ns of ['99999999999999999999', '9223372036854775808']) {
      expect400Naming(await get(`/api/v1/spans?cursor=${cursor([ns, 'x'])}`), 'cursor')
      expect400Naming(await get(`/api/v1/traces?cursor=${cursor([ns, 'x'])}`), 'cursor')
    }
  })
})

describe('the ends of the time range the store holds are answered, never 502', () => {
  const ok = (res: Awaited<ReturnType<typeof get>>, url: string, codes = [200]) => {
    expect(codes, `${url} -> ${res.body}`).toContain(res.statusCode)
  }
  it.each([
    `/api/v1/spans?to=${LAST}`,
    `/api/v1/traces?to=${LAST}`,
    // the ordered listing reads a day past `to` and an hour before `from`
    `/api/v1/traces?from=2262-04-11T00:00:00Z&to=${LAST}&order=durationMs&service=svc&total=1`,
    `/api/v1/traces?from=1900-01-01T00:00:00Z&to=1900-01-02T00:00:00Z&order=-costUsd&service=svc`,
    `/api/v1/attributes?to=${LAST}`,
    `/api/v1/summary?from=2262-04-01T00:00:00Z&to=${LAST}&bucket=1d`,
    `/api/v1/summary?from=2262-04-01T00:00:00Z&to=${LAST}&bucket=1h&minDurationMs=0`,
    `/api/v1/users/u?from=2262-04-01T00:00:00Z&to=${LAST}&bucket=1d`,
    `/api/v1/users/u?from=1900-01-01T00:00:00Z&to=${LAST}&bucket=3650d`,
    `/api/v1/metrics?name=m&from=2262-04-01T00:00:00Z&to=${LAST}&bucket=1d`,
    `/api/v1/slo?at=${LAST}`,
    '/api/v1/slo?at=1900-01-01T00:00:00Z',
    `/api/v1/spans?cursor=${cursor(['9223372036854775807', 'x'])}`,
    `/api/v1/traces?cursor=${cursor(['9223372036854775807', 'x'])}`,
    `/api/v1/traces?order=durationMs&cursor=${cursor(['durationMs', 1.7976931348623157e308, 'x'])}`,
    `/api/v1/traces?order=-costUsd&cursor=${cursor(['-costUsd', -1.7976931348623157e308, 'x'])}`,
  ])('GET %s', async (url) => {
    ok(await get(url), url)
  })

  it('numbers beyond 2^53 in filters and bodies reach ClickHouse as numbers, not a 502', async () => {
    for (const q of ['minDurationMs=1e308', 'maxDurationMs=1e21', 'ttftMs=%3E1e300', 'score.feedback=%3C%3D1e300', 'attrNum.x=%3E1e21']) {
      ok(await get(`/api/v1/spans?${q}`), q)
    }
    const bias = await post('/api/v1/bias', { groupBy: 'model', outcome: 'negative_feedback_rate', negativeAtMost: 1e300, filter: { to: LAST } })
    ok(bias, 'bias', [200, 422])
    const drift = await post('/api/v1/drift', { reference: { from: 'now-2d', to: 'now-1d' }, current: { from: 'now-1d' }, signals: ['latency'], filter: { to: LAST } })
    ok(drift, 'drift', [200, 422])
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
