import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Store } from '@spanlens/ingest'
import { runSandboxedSql } from '../src/index.js'
import { queryMetrics } from '../src/metrics/query.js'
import { openStore, queryApp } from './helpers/store.js'

/**
 * GET /api/v1/metrics over rows as the receiver stores them: the temporality
 * rule (docs/metrics.md) on hand-made streams whose increments are known,
 * including restarts, a first point from before the scan and scale changes of
 * an exponential histogram; then every bad parameter.
 */

let store: Store
let close: () => Promise<void>
let app: FastifyInstance

const MIN = 60_000
/** A minute boundary two hours ago: `from` of every query below. */
const T0 = Math.floor((Date.now() - 2 * 3_600_000) / MIN) * MIN
const at = (ms: number) => new Date(ms).toISOString().replace('T', ' ').replace('Z', '')
let nextSeries = 1

interface Point {
  at: number
  start?: number
  [k: string]: unknown
}

/** Rows of one series (same id), as normalize would write them. */
function series(name: string, base: Record<string, unknown>, points: Point[]): Array<Record<string, unknown>> {
  const id = String(nextSeries++)
  return points.map(({ at: t, start, ...rest }) => ({
    project_id: 'p1',
    name,
    series_id: id,
    service_name: 'svc',
    time: at(t),
    start_time: start === undefined ? at(0) : at(start),
    ...base,
    ...rest,
  }))
}

const TOKENS = 'gen_ai.client.token.usage'
const model = (m: string, type = 'input') => ({ attributes: { 'gen_ai.request.model': m, 'gen_ai.token.type': type } })

beforeAll(async () => {
  ;({ store, close } = await openStore())
  const sum = (temporality: string, mono = 1) => ({ type: 'sum', temporality, is_monotonic: mono, unit: '{token}' })
  const hist = (temporality: string) => ({ type: 'histogram', temporality, unit: '{token}', explicit_bounds: [10, 100] })
  const rows = [
    // Delta sums: the values are the increments.
    ...series('calls', { ...sum('delta'), ...model('a') }, [
      { at: T0 + 10_000, start: T0, value: 100 },
      { at: T0 + MIN + 10_000, start: T0 + MIN, value: 50 },
    ]),
    // Cumulative: a predecessor in the lookback, growth, then a restart (new start time).
    ...series('calls', { ...sum('cumulative'), ...model('b') }, [
      { at: T0 - 30 * MIN, start: T0 - 5 * 3_600_000, value: 1000 },
      { at: T0 + 10_000, start: T0 - 5 * 3_600_000, value: 1100 },
      { at: T0 + MIN + 10_000, start: T0 - 5 * 3_600_000, value: 1300 },
      { at: T0 + 2 * MIN + 10_000, start: T0 + 2 * MIN, value: 40 },
    ]),
    // Cumulative whose first point counts from long before the scan: no increment, then +5.
    ...series('calls', { ...sum('cumulative'), ...model('c') }, [
      { at: T0 + 10_000, start: T0 - 10 * 3_600_000, value: 9999 },
      { at: T0 + MIN + 10_000, start: T0 - 10 * 3_600_000, value: 10004 },
    ]),
    // A monotonic sum that went down without a new start time: a reset, the whole value counts.
    ...series('calls', { ...sum('cumulative'), ...model('d') }, [
      { at: T0 - MIN, start: 0, value: 70 },
      { at: T0 + 10_000, start: 0, value: 75 },
      { at: T0 + MIN + 10_000, start: 0, value: 3 },
    ]),
    // An up-down counter: `last` per series, added up.
    ...series('queue', { ...sum('cumulative', 0) }, [
      { at: T0 + 10_000, start: T0 - MIN, value: 5 },
      { at: T0 + 40_000, start: T0 - MIN, value: 2 },
    ]),
    ...series('queue', { ...sum('cumulative', 0) }, [{ at: T0 + 20_000, start: T0 - MIN, value: 10 }]),
    // Gauges.
    ...series('temp', { type: 'gauge' }, [
      { at: T0 + 1000, value: 10 },
      { at: T0 + 2000, value: 30 },
    ]),
    // Explicit histograms, delta and cumulative, same bounds: buckets (-inf,10], (10,100], (100,inf).
    ...series(TOKENS, { ...hist('delta'), ...model('a') }, [
      { at: T0 + 10_000, start: T0, count: 4, sum: 130, min: 5, max: 60, bucket_counts: [2, 2, 0] },
    ]),
    ...series(TOKENS, { ...hist('cumulative'), ...model('b') }, [
      { at: T0 - MIN, start: T0 - 2 * MIN, count: 1, sum: 500, min: 500, max: 500, bucket_counts: [0, 0, 1] },
      { at: T0 + 10_000, start: T0 - 2 * MIN, count: 3, sum: 530, min: 5, max: 500, bucket_counts: [1, 1, 1] },
    ]),
    // Measurements in both open-ended buckets of bounds [1, 5]: (-inf,1] 1, (1,5] 2, (5,+inf) 1; once without min and
    // max, once with them (0.5 and 9).
    ...series('edges', { type: 'histogram', temporality: 'delta', unit: 's', explicit_bounds: [1, 5] }, [{ at: T0 + 10_000, start: T0, count: 4, sum: 12, bucket_counts: [1, 2, 1] }]),
    ...series('edges-min-max', { type: 'histogram', temporality: 'delta', unit: 's', explicit_bounds: [1, 5] }, [
      { at: T0 + 10_000, start: T0, count: 4, sum: 12, min: 0.5, max: 9, bucket_counts: [1, 2, 1] },
    ]),
    // An exponential histogram (cumulative) whose scale drops from 1 to 0 between points.
    // Scale 1: bucket k is (2^(k/2), 2^((k+1)/2)]; scale 0: (2^k, 2^(k+1)].
    ...series('latency', { type: 'exponential_histogram', temporality: 'cumulative', unit: 's' }, [
      { at: T0 - MIN, start: T0 - 2 * MIN, count: 2, sum: 3, scale: 1, positive_offset: 0, positive_bucket_counts: [1, 1] },
      { at: T0 + 10_000, start: T0 - 2 * MIN, count: 6, sum: 20, scale: 0, positive_offset: 0, positive_bucket_counts: [2, 3], zero_count: 1 },
    ]),
    // Another project's points of the same names: never in p1's answers.
    ...series('calls', { ...sum('delta'), ...model('a') }, [{ at: T0 + 10_000, start: T0, value: 1e6 }]).map((r) => ({ ...r, project_id: 'p2' })),
  ]
  await store.client.insert({ table: 'metrics', values: rows, format: 'JSONEachRow' })
  app = await queryApp(store, 'p1', { sql: { maxExecutionSeconds: 10, maxMemoryBytes: 1e9, maxResultRows: 10_000, maxResultBytes: 64 * 1024 * 1024 } })
})
afterAll(async () => {
  await app?.close()
  await close()
})

const FROM = () => new Date(T0).toISOString()
const TO = () => new Date(T0 + 5 * MIN).toISOString()

async function get(params: Record<string, string>) {
  const res = await app.inject({ method: 'GET', url: `/api/v1/metrics?${new URLSearchParams({ from: FROM(), to: TO(), ...params })}` })
  return { status: res.statusCode, body: res.json() }
}

/** series → { "group values joined": { "HH:MM": value } } */
function table(body: { series: Array<{ group: Record<string, string>; points: Array<{ time: string; value: number | null }> }> }) {
  const out: Record<string, Record<string, number | null>> = {}
  for (const s of body.series) {
    const row: Record<string, number | null> = {}
    for (const p of s.points) row[String((Date.parse(p.time) - T0) / MIN)] = p.value
    out[Object.values(s.group).join('/') || '*'] = row
  }
  return out
}

describe('sums: delta as sent, cumulative turned into increments per series', () => {
  it('sum per model per minute follows the temporality rule', async () => {
    const { status, body } = await get({ name: 'calls', groupBy: 'gen_ai.request.model', bucket: '1m' })
    expect(status).toBe(200)
    expect(body).toMatchObject({ name: 'calls', type: 'sum', agg: 'sum', temporality: ['cumulative', 'delta'], bucketSeconds: 60, groupBy: ['gen_ai.request.model'] })
    expect(table(body)).toEqual({
      a: { 0: 100, 1: 50 },
      b: { 0: 100, 1: 200, 2: 40 },
      // The first point's 9999 counts from before the scan: its increment is unknown (null), the next one is 5.
      c: { 0: null, 1: 5 },
      d: { 0: 5, 1: 3 },
    })
  })

  it('rate is the sum per second of the bucket; without a bucket, one point over the range', async () => {
    const rate = await get({ name: 'calls', groupBy: 'gen_ai.request.model', bucket: '1m', agg: 'rate', 'attr.gen_ai.request.model': 'b' })
    expect(table(rate.body)).toEqual({ b: { 0: 100 / 60, 1: 200 / 60, 2: 40 / 60 } })
    const total = await get({ name: 'calls' })
    expect(table(total.body)).toEqual({ '*': { 0: 100 + 50 + 340 + 5 + 8 } })
  })

  it('an up-down counter defaults to last: each series’ latest value, added up', async () => {
    const { body } = await get({ name: 'queue' })
    expect(body.agg).toBe('last')
    expect(table(body)).toEqual({ '*': { 0: 2 + 10 } })
  })

  it('gauges average by default, and take min, max, last, count', async () => {
    expect(table((await get({ name: 'temp' })).body)).toEqual({ '*': { 0: 20 } })
    for (const [agg, v] of [['min', 10], ['max', 30], ['last', 30], ['count', 2]] as const) {
      expect(table((await get({ name: 'temp', agg })).body), agg).toEqual({ '*': { 0: v } })
    }
  })
})

describe('histograms', () => {
  it('sum, count and avg of explicit-bucket histograms, delta and cumulative', async () => {
    expect(table((await get({ name: TOKENS, groupBy: 'gen_ai.request.model' })).body)).toEqual({ a: { 0: 130 }, b: { 0: 30 } })
    expect(table((await get({ name: TOKENS, agg: 'count' })).body)).toEqual({ '*': { 0: 4 + 2 } })
    expect(table((await get({ name: TOKENS, agg: 'avg' })).body)).toEqual({ '*': { 0: 160 / 6 } })
  })

  it('percentiles interpolate within the bucket increments', async () => {
    // Increments: a [2,2,0], b [1,1,0] → 3 in (-inf,10], 3 in (10,100]; the median is the 3rd: top of the first bucket.
    const { body } = await get({ name: TOKENS, agg: 'p50' })
    expect(body.agg).toBe('p50')
    expect(table(body)['*']?.[0]).toBeCloseTo(10, 6)
    // p75: rank 4.5 of 6, halfway through (10,100]; max 500 is the lifetime max of b's stream, not a bound here.
    expect(table((await get({ name: TOKENS, agg: 'p75' })).body)['*']?.[0]).toBeCloseTo(55, 6)
  })

  it('percentiles are in order when the open-ended buckets hold measurements, bounded by min and max when known', async () => {
    const p = async (name: string, agg: string) => table((await get({ name, agg })).body)['*']?.[0]
    // Ranks of 4: p25 the top of (-inf,1], p50 halfway through (1,5], p75 its top; p99 in (5,+inf), whose top
    // is the max when known, else its bottom. (Read as 0, the open bounds put (5,+inf) first: p25 was 5, p50 1, p75 3.)
    expect([await p('edges', 'p25'), await p('edges', 'p50'), await p('edges', 'p75'), await p('edges', 'p99')]).toEqual([1, 3, 5, 5])
    const withMinMax = [await p('edges-min-max', 'p10'), await p('edges-min-max', 'p50'), await p('edges-min-max', 'p99')]
    expect(withMinMax[0]).toBeCloseTo(0.5 + 0.5 * 0.4, 9)
    expect(withMinMax[1]).toBeCloseTo(3, 9)
    expect(withMinMax[2]).toBeCloseTo(5 + 4 * 0.96, 9)
  })

  it('an exponential histogram whose scale changed: previous buckets re-binned before subtracting', async () => {
    // Before: scale 1, buckets (1,√2] = 1, (√2,2] = 1 → at scale 0 both fall in (1,2].
    // After: scale 0, (1,2] = 2, (2,4] = 3, zero 1 → increments (1,2] 0, (2,4] 3, zero 1.
    const count = await get({ name: 'latency', agg: 'count' })
    expect(table(count.body)).toEqual({ '*': { 0: 4 } })
    expect(table((await get({ name: 'latency', agg: 'sum' })).body)).toEqual({ '*': { 0: 17 } })
    // Ranks: zero bucket holds 1 of 4, (2,4] the other 3: p50 is rank 2, a third into (2,4].
    expect(table((await get({ name: 'latency', agg: 'p50' })).body)['*']?.[0]).toBeCloseTo(2 + 2 / 3, 6)
  })
})

describe('the SQL sandbox', () => {
  const sql = (query: string) => runSandboxedSql(store.client, 'p1', query, { database: store.database, limits: { maxExecutionSeconds: 10, maxMemoryBytes: 1e9, maxResultRows: 1000, maxResultBytes: 64 * 1024 * 1024 }, cluster: store.cluster !== undefined, stream: store.streamQuery })

  it("reads `metrics` as the caller project's points only", async () => {
    const r = await sql("SELECT sum(value) AS v, count() AS n FROM metrics WHERE name = 'calls' AND temporality = 'delta'")
    expect(r.data).toEqual([{ v: 150, n: '2' }])
    // p1's rows of `calls` (a 2, b 4, c 2, d 3), none of p2's; FINAL is accepted (the view is final already).
    expect((await sql("SELECT count() AS n FROM metrics FINAL WHERE name = 'calls'")).data).toEqual([{ n: '11' }])
  })

  it('computes the same cumulative increments as the route with the documented window', async () => {
    const r = await sql(`SELECT attributes['gen_ai.request.model'] AS model, sum(inc) AS tokens FROM (
        SELECT attributes, time, value - lagInFrame(value) OVER w AS inc, count() OVER w AS n, start_time = lagInFrame(start_time) OVER w AS same
        FROM metrics WHERE name = 'calls' AND temporality = 'cumulative'
        WINDOW w AS (PARTITION BY series_id ORDER BY time ROWS BETWEEN 1 PRECEDING AND CURRENT ROW))
      WHERE n = 2 AND same AND inc >= 0 GROUP BY model ORDER BY model`)
    // b: +100, +200 (the restart is left out by this simple form); c: +5; d: +5.
    expect(r.data).toEqual([{ model: 'b', tokens: 300 }, { model: 'c', tokens: 5 }, { model: 'd', tokens: 5 }])
  })
})

describe('bad parameters are a 400 naming the parameter', () => {
  it.each([
    [{}, 'name'],
    [{ name: 'calls', bucket: 'soon' }, 'bucket'],
    [{ name: 'calls', bucket: '1s', from: 'now-30d', to: 'now' }, 'bucket'],
    [{ name: 'calls', bucket: '1.5s' }, 'bucket'],
    [{ name: 'calls', bucket: '0.4s' }, 'bucket'],
    [{ name: 'calls', bucket: '3651d' }, 'bucket'],
    [{ name: 'calls', agg: 'median' }, 'agg'],
    [{ name: 'calls', agg: 'p100' }, 'agg'],
    [{ name: 'temp', agg: 'sum' }, 'agg'],
    [{ name: 'calls', agg: 'p95' }, 'agg'],
    [{ name: 'calls', from: 'yesterday' }, 'from'],
    [{ name: 'calls', to: 'later' }, 'to'],
    [{ name: 'calls', from: '2030-01-01T00:00:00Z', to: '2029-01-01T00:00:00Z' }, 'from'],
    [{ name: 'calls', type: 'counter' }, 'type'],
    [{ name: 'calls', groupBy: 'a,a' }, 'groupBy'],
    [{ name: 'calls', groupBy: Array.from({ length: 11 }, (_, i) => `k${i}`).join(',') }, 'groupBy'],
    [{ name: 'calls', 'attr.x': '' }, 'attr.x'],
  ])('%j → 400 naming %s', async (params, field) => {
    const res = await app.inject({ method: 'GET', url: `/api/v1/metrics?${new URLSearchParams({ from: FROM(), to: TO(), ...(params as Record<string, string>) })}` })
    expect(res.statusCode, res.body).toBe(400)
    expect(res.json().error.code).toBe('SPANLENS_BAD_REQUEST')
    expect(res.json().error.message).toMatch(new RegExp(`^${field.replace('.', '\\.')}:`))
  })

  it('an answer over its row limit is refused naming what to narrow, never cut', async () => {
    const q = {
      name: 'calls',
      from: new Date(T0),
      to: new Date(T0 + 5 * MIN),
      bucketSeconds: 60,
      groupBy: [{ source: 'attributes' as const, key: 'gen_ai.request.model', label: 'gen_ai.request.model' }],
      where: [],
    }
    const full = await queryMetrics(store.client, 'p1', q)
    const points = full.series.reduce((n, s) => n + s.points.length, 0)
    expect(points).toBeGreaterThan(3)
    expect((await queryMetrics(store.client, 'p1', q, points)).series).toEqual(full.series)
    await expect(queryMetrics(store.client, 'p1', q, points - 1)).rejects.toMatchObject({
      code: 'SPANLENS_BAD_REQUEST',
      message: `bucket: the answer would hold more than ${points - 1} points (groups × buckets); ask for a larger bucket, a shorter range or fewer groupBy keys`,
    })
  })

  it('a name given twice is a 400 naming it', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/v1/metrics?name=a&name=b' })
    expect(res.statusCode).toBe(400)
    expect(res.json().error.message).toMatch(/^name:/)
  })

  it('a name without points in the range is an empty answer, not an error', async () => {
    const { status, body } = await get({ name: 'nothing.here' })
    expect(status).toBe(200)
    expect(body).toMatchObject({ type: null, series: [] })
  })
})
