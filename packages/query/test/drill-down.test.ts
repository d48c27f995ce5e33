// The routes and filters the console's drill-downs use: trace listing order and
// total, filters on refusal, duration, tags and scores, sessions, users and
// attribute keys.
import fc from 'fast-check'
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Store } from '@spanlens/ingest'
import { insertSpans, openStore, span, traceId, queryApp } from './helpers/store.js'

let store: Store
let close: () => Promise<void>
let app: FastifyInstance
const auth = { authorization: 'Bearer key-p1' }
const other = { authorization: 'Bearer key-p2' }
const t0 = Date.now() - 2 * 3_600_000
const at = (ms: number) => new Date(t0 + ms)
/** Trace n: a root and one LLM call; durations, costs and tokens grow with n, so orders are known. */
const T = (n: number) => traceId(700_000 + n)
/** A span row's events (the Nested columns), all at `at`. */
const spanEvents = (names: string[], at: Date) => ({
  'events.time': names.map(() => at.toISOString().replace('T', ' ').replace('Z', '')),
  'events.name': names,
  'events.attributes': names.map((name) => (name === 'exception' ? { 'exception.type': 'RateLimitError' } : {})),
})
const sid = (n: number, i: number) => (700_000 + n * 16 + i).toString(16).padStart(16, '0')

beforeAll(async () => {
  ;({ store, close } = await openStore())
  const rows: Array<Record<string, unknown>> = []
  for (let n = 0; n < 12; n++) {
    const start = at(n * 60_000)
    rows.push(
      span({ trace_id: T(n), span_id: sid(n, 0), name: `turn ${n}`, kind: 'chain', start, duration_ms: 100 * (n + 1) + 10, input_tokens: 0, output_tokens: 0, total_tokens: 0, user_id: n < 6 ? 'alice' : 'bob', session_id: n < 4 ? 'sess-a' : n < 6 ? 'sess-b' : '', input: `question ${n}`, tags: n % 3 === 0 ? ['vip'] : [] }),
      span({
        trace_id: T(n),
        span_id: sid(n, 1),
        parent_span_id: sid(n, 0),
        name: 'chat',
        start: new Date(start.getTime() + 5),
        duration_ms: 100 * (n + 1),
        cost_usd: (12 - n) * 0.001,
        total_tokens: 10 * ((n * 5) % 12),
        status_code: n % 4 === 1 ? 'error' : 'ok',
        output: n % 5 === 2 ? "I'm sorry, but I can't help with that." : `answer ${n}`,
        finish_reason: 'stop',
        attributes: { tenant: n % 2 ? 'acme' : 'globex', 'app.plan': 'free' },
        // The failed calls recorded their exception; turn 5 also a retry. Turns 6-11 from another instrumentation.
        ...spanEvents(n % 4 === 1 ? (n === 5 ? ['retry', 'exception'] : ['exception']) : [], new Date(start.getTime() + 50)),
        scope_name: n < 6 ? 'sdk-a' : 'sdk-b',
      }),
    )
  }
  rows.push(span({ project_id: 'p2', session_id: 'sess-a', user_id: 'alice', start: at(0) }))
  await insertSpans(store, rows)
  // feedback 0/1 on turns 0-3; quality on turn 8 twice (0.1 and 0.5), on turn 9 once (0.3).
  const scores: Array<[number, string, number]> = [[0, 'feedback', 0], [1, 'feedback', 1], [2, 'feedback', 0], [3, 'feedback', 1], [8, 'quality', 0.1], [8, 'quality', 0.5], [9, 'quality', 0.3]]
  await store.client.insert({
    table: 'scores',
    format: 'JSONEachRow',
    values: scores.map(([n, name, value], i) => ({
      project_id: 'p1', score_id: `s${i}`, trace_id: T(n), span_id: '', name, value, string_value: '', data_type: 'NUMERIC', source: 'user', comment: '', author: '', metadata: {},
      timestamp: at(n * 60_000 + 1000).toISOString().replace('T', ' ').replace('Z', ''),
    })),
  })
  // Turn 11: two scores whose order in time ('zeta', then 'alpha') is not the table's key order (by name).
  await store.client.insert({
    table: 'scores',
    format: 'JSONEachRow',
    values: (['zeta', 'alpha'] as const).map((name, i) => ({
      project_id: 'p1', score_id: `t11-${name}`, trace_id: T(11), span_id: '', name, value: i, string_value: '', data_type: 'NUMERIC', source: 'user', comment: '', author: '', metadata: {},
      timestamp: at(11 * 60_000 + 1000 * (i + 1)).toISOString().replace('T', ' ').replace('Z', ''),
    })),
  })
  app = await queryApp(store, { 'key-p1': 'p1', 'key-p2': 'p2' }, { sql: { maxExecutionSeconds: 5, maxMemoryBytes: 256 * 1024 * 1024, maxResultRows: 1000, maxResultBytes: 64 * 1024 * 1024 } })
})
afterAll(async () => {
  await app?.close()
  await close()
})

const get = async (url: string, headers = auth) => {
  const res = await app.inject({ method: 'GET', url: `/api/v1${url}`, headers })
  return { status: res.statusCode, body: res.json() }
}
const names = (body: { items: Array<{ name: string }> }) => body.items.map((t) => t.name)

describe('trace listing order and total', () => {
  it('orders traces by duration, cost, tokens or start, both ways, and walks every page of an order', async () => {
    expect(names((await get('/traces?order=-durationMs&limit=3')).body)).toEqual(['turn 11', 'turn 10', 'turn 9'])
    expect(names((await get('/traces?order=durationMs&limit=2')).body)).toEqual(['turn 0', 'turn 1'])
    expect(names((await get('/traces?order=-costUsd&limit=2')).body)).toEqual(['turn 0', 'turn 1'])
    expect(names((await get('/traces?order=startTime&limit=2')).body)).toEqual(['turn 0', 'turn 1'])
    // Tokens 10 × (5n mod 12): ties broken by trace id, pages neither repeat nor skip.
    const seen: string[] = []
    let cursor: string | null = null
    do {
      const page: { body: { items: Array<{ name: string; tokens: { total: number } }>; nextCursor: string | null } } = await get(`/traces?order=-tokens&limit=5${cursor ? `&cursor=${cursor}` : ''}`)
      seen.push(...page.body.items.map((t) => `${t.tokens.total}`))
      cursor = page.body.nextCursor
    } while (cursor)
    expect(seen).toHaveLength(12)
    expect(seen.map(Number)).toEqual([...seen.map(Number)].sort((a, b) => b - a))
    // Oldest first, page by page: a start in ns is beyond 2^53 as a cursor value.
    const starts: string[] = []
    cursor = null
    do {
      const page: { status: number; body: { items: Array<{ name: string }>; nextCursor: string | null } } = await get(`/traces?order=startTime&limit=5${cursor ? `&cursor=${cursor}` : ''}`)
      expect(page.status).toBe(200)
      starts.push(...names(page.body))
      cursor = page.body.nextCursor
    } while (cursor)
    expect(starts).toEqual(Array.from({ length: 12 }, (_, n) => `turn ${n}`))
  })

  it('counts every matching trace with total=1, whatever the page', async () => {
    const all = await get('/traces?limit=2&total=1')
    expect(all.body.total).toBe(12)
    expect(all.body.items).toHaveLength(2)
    expect((await get('/traces?limit=2')).body.total).toBeUndefined()
    expect((await get('/traces?userId=bob&total=1&order=-durationMs')).body.total).toBe(6)
    expect((await get('/traces?total=1', other)).body.total).toBe(1)
  })

  it("lists a trace's scores in the order they were given, in the listing and in the trace", async () => {
    const listed = (await get('/traces?order=startTime&limit=20')).body.items.find((t: { traceId: string }) => t.traceId === T(11))
    expect(listed.scores.map((x: { name: string }) => x.name)).toEqual(['zeta', 'alpha'])
    expect((await get(`/traces/${T(11)}`)).body.scores.map((x: { name: string }) => x.name)).toEqual(['zeta', 'alpha'])
  })

  it('refuses an unknown order, and a cursor of another order', async () => {
    const bad = await get('/traces?order=name')
    expect(bad.status).toBe(400)
    expect(bad.body.error.code).toBe('SPANLENS_BAD_REQUEST')
    expect(bad.body.error.message).toMatch(/^order: /)
    const page = await get('/traces?order=-durationMs&limit=2')
    const wrong = await get(`/traces?order=costUsd&cursor=${page.body.nextCursor}`)
    expect(wrong.status).toBe(400)
    const plain = await get('/traces?limit=2')
    expect((await get(`/traces?order=-durationMs&cursor=${plain.body.nextCursor}`)).status).toBe(400)
  })
})

describe('filters the drill-downs use', () => {
  it('keeps traces with a refusal, an error, a slow call, a tag or a score condition', async () => {
    expect(names((await get('/traces?refusal=1&order=startTime')).body)).toEqual(['turn 2', 'turn 7'])
    expect(names((await get('/traces?status=error&order=startTime')).body)).toEqual(['turn 1', 'turn 5', 'turn 9'])
    expect(names((await get('/traces?minDurationMs=1000&kind=llm&order=startTime')).body)).toEqual(['turn 9', 'turn 10', 'turn 11'])
    expect(names((await get('/traces?minDurationMs=300&maxDurationMs=500&kind=llm&order=startTime')).body)).toEqual(['turn 2', 'turn 3'])
    expect(names((await get('/traces?tag=vip&order=startTime')).body)).toEqual(['turn 0', 'turn 3', 'turn 6', 'turn 9'])
    // A span event of any of the names, and the instrumentation that made the span.
    expect(names((await get('/traces?event=exception&order=startTime')).body)).toEqual(['turn 1', 'turn 5', 'turn 9'])
    expect(names((await get('/traces?event=retry,cache.miss&order=startTime')).body)).toEqual(['turn 5'])
    expect((await get('/spans?not.event=exception&kind=llm')).body.items).toHaveLength(9)
    expect(names((await get('/traces?scope=sdk-b&event=exception&order=startTime')).body)).toEqual(['turn 9'])
    expect((await get('/spans?scope=sdk-a,sdk-b')).body.items).toHaveLength(12)
    expect(names((await get(`/traces?${new URLSearchParams({ 'score.feedback': '<=0', order: 'startTime' })}`)).body)).toEqual(['turn 0', 'turn 2'])
    expect(names((await get('/traces?score.feedback=1&order=startTime')).body)).toEqual(['turn 1', 'turn 3'])
    expect(names((await get(`/traces?${new URLSearchParams({ 'score.feedback': '*' })}`)).body)).toHaveLength(4)
    expect((await get('/traces?score.relevance=*')).body.items).toHaveLength(0)
    // Every comparison of a list holds for one score: turn 8's 0.1 and 0.5 are each outside (0.2, 0.4].
    expect(names((await get(`/traces?${new URLSearchParams({ 'score.quality': '>0.2,<=0.4' })}`)).body)).toEqual(['turn 9'])
    expect(names((await get(`/traces?${new URLSearchParams({ 'score.quality': '>0.2', order: 'startTime' })}`)).body)).toEqual(['turn 8', 'turn 9'])
    expect((await get('/spans?refusal=0&kind=llm')).body.items).toHaveLength(10)
  })

  it('refuses a misspelt filter or parameter on every listing route instead of answering for every span', async () => {
    for (const path of ['/traces?servce=chat', '/spans?servce=chat&limit=5', '/summary?servce=chat', '/attributes?servce=chat', '/metrics?name=x&grupBy=y']) {
      const { status, body } = await get(path)
      expect(status, path).toBe(400)
      expect(body.error, path).toMatchObject({ code: 'SPANLENS_BAD_REQUEST', message: expect.stringMatching(/^(servce|grupBy): not a/) })
    }
    expect((await get('/traces?service=chat&limit=2&order=-costUsd&total=1&io=1')).status).toBe(200)
    expect((await get('/summary?service=chat&groupBy=model&bucket=1h')).status).toBe(200)
  })

  it('refuses a filter value that is not one', async () => {
    for (const q of ['refusal=maybe', 'minDurationMs=fast', 'minDurationMs=-1']) {
      const res = await get(`/traces?${q}`)
      expect(res.status, q).toBe(400)
      expect(res.body.error.code).toBe('SPANLENS_BAD_REQUEST')
    }
  })
})

describe('filter values, property-based', () => {
  /** What people and attackers type into the new filters and order. */
  const value = fc.oneof(
    fc.constantFrom('*', '<=0', '>=1e308', '<1e999', '!=-0', '=NaN', 'Infinity', '-1', '1e-320', "x' OR 1=1 --", '', ' ', '>', '<=', '\u0000', 'true', '0x10'),
    fc.string({ maxLength: 12 }),
    fc.double().map(String),
  )
  const key = fc.constantFrom(
    'score.feedback', 'score.', 'score.*', 'minDurationMs', 'maxDurationMs', 'refusal', 'tag', 'event', 'scope', 'not.event', 'order', 'total', 'cursor',
    'ttftMs', 'costUsd', 'durationMs', 'totalTokens', 'group.language', 'group.user_prefix:2', 'group.', 'group.attr:tenant',
    'not.status', 'not.ttftMs', 'not.group.model', 'not.from', 'not.', 'not.not.tag', 'not.score.feedback',
    'score.quality', 'attrNum.tenant', 'attrNum.', 'not.attrNum.app.plan',
  )

  it('any of them on GET /traces answers 200 or a 4xx with a code, never a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(key, value), { minLength: 1, maxLength: 3 }), async (pairs) => {
        const q = new URLSearchParams(pairs)
        const res = await app.inject({ method: 'GET', url: `/api/v1/traces?${q}&limit=3`, headers: auth })
        if (res.statusCode !== 200) {
          expect(res.statusCode, `${q}: ${res.body}`).toBeGreaterThanOrEqual(400)
          expect(res.statusCode, `${q}: ${res.body}`).toBeLessThan(500)
          expect(res.json().error.code).toMatch(/^SPANLENS_/)
        }
      }),
      { seed: 20, numRuns: 80 },
    )
  }, 60_000)
})

describe('sessions and users', () => {
  it('replays a session: its traces in order with input and output, and totals', async () => {
    const { status, body } = await get('/sessions/sess-a')
    expect(status).toBe(200)
    expect(body.turns.map((t: { name: string }) => t.name)).toEqual(['turn 0', 'turn 1', 'turn 2', 'turn 3'])
    expect(body.turns[0]).toMatchObject({ traceId: T(0), input: 'question 0', output: 'answer 0', spans: 2, llmCalls: 1, scores: [{ name: 'feedback', value: 0 }] })
    expect(body.turns[1]).toMatchObject({ status: 'error', errors: 1 })
    expect(body.totals).toMatchObject({ traces: 4, spans: 8, errors: 1, llmCalls: 4 })
    expect(body.totals.costUsd).toBeCloseTo(0.012 + 0.011 + 0.01 + 0.009, 9)
    expect(body.userIds).toEqual(['alice'])
    expect(body.truncated).toBe(false)
    // The totals are the whole session's, whatever the limit shows.
    expect((await get('/sessions/sess-a?limit=2')).body).toMatchObject({ truncated: true, turns: [{ name: 'turn 0' }, { name: 'turn 1' }], totals: { traces: 4, spans: 8 } })
  })

  it('answers 404 for a session of another project or none, and 400 for a bad limit', async () => {
    expect((await get('/sessions/nope')).status).toBe(404)
    const p2 = await get('/sessions/sess-a', other)
    expect(p2.body.turns).toHaveLength(1)
    expect(p2.body.turns[0].traceId).not.toBe(T(0))
    expect((await get('/sessions/sess-a?limit=0')).status).toBe(400)
  })

  it('lists a boolean and a label score with their type, in the traces list and in a session', async () => {
    const p2Trace = (await get('/sessions/sess-a', other)).body.turns[0].traceId
    for (const [name, value] of [['resolved', true], ['tone', 'friendly'], ['stars', 4]] as const) {
      const res = await app.inject({ method: 'POST', url: '/api/v1/scores', headers: other, payload: { traceId: p2Trace, name, value } })
      expect(res.statusCode).toBe(201)
    }
    const expected = [
      { name: 'resolved', value: 1, stringValue: '', dataType: 'BOOLEAN' },
      { name: 'tone', value: null, stringValue: 'friendly', dataType: 'CATEGORICAL' },
      { name: 'stars', value: 4, stringValue: '', dataType: 'NUMERIC' },
    ]
    const byName = (s: Array<{ name: string }>) => [...s].sort((a, b) => a.name.localeCompare(b.name))
    const listed = (await get('/traces', other)).body.items.find((t: { traceId: string }) => t.traceId === p2Trace)
    expect(byName(listed.scores)).toEqual(byName(expected))
    expect(byName((await get('/sessions/sess-a', other)).body.turns[0].scores)).toEqual(byName(expected))
  })

  it("sums a user's calls, errors, cost and feedback over time and lists their sessions", async () => {
    const { status, body } = await get('/users/alice?from=now-1d&bucket=1h')
    expect(status).toBe(200)
    expect(body.totals).toMatchObject({ traces: 6, sessions: 2, spans: 12, calls: 6, errors: 2 })
    expect(body.series.reduce((n: number, b: { calls: number }) => n + b.calls, 0)).toBe(6)
    expect(body.bucketSeconds).toBe(3600)
    expect(body.scores).toEqual([expect.objectContaining({ name: 'feedback', count: 4, negative: 2, mean: 0.5 })])
    expect(body.sessions.map((s: { sessionId: string }) => s.sessionId)).toEqual(['sess-b', 'sess-a'])
    const none = await get('/users/nobody')
    expect(none.body.totals).toMatchObject({ traces: 0, firstSeen: null })
    expect((await get('/users/alice', other)).body.totals.traces).toBe(1)
  })

  it("counts a user's series in buckets under a minute, each call in the bucket of its own start", async () => {
    const { status, body } = await get('/users/alice?from=now-3h&bucket=30s')
    expect(status).toBe(200)
    expect(body.bucketSeconds).toBe(30)
    const want = [0, 1, 2, 3, 4, 5].map((n) => new Date(Math.floor(at(n * 60_000 + 5).getTime() / 30_000) * 30_000).toISOString())
    expect(body.series.map((b: { time: string }) => b.time)).toEqual(want)
    expect(body.series.map((b: { calls: number }) => b.calls)).toEqual([1, 1, 1, 1, 1, 1])
  })

  it('refuses a bad user range or bucket', async () => {
    for (const q of ['from=yesterday', 'bucket=1m&from=now-30d', 'from=now&to=now-1d', 'extra=1', 'bucket=1.5s', 'bucket=0s', 'bucket=20000w', 'bucket=5s&from=now-2h']) {
      const res = await get(`/users/alice?${q}`)
      expect(res.status, q).toBe(400)
      expect(res.body.error.code).toBe('SPANLENS_BAD_REQUEST')
    }
  })
})

describe('project', () => {
  it("names the key's project", async () => {
    expect((await get('/project')).body).toEqual({ project: 'p1' })
    expect((await get('/project', other)).body).toEqual({ project: 'p2' })
  })
})

describe('attribute keys', () => {
  it('lists the attribute keys recent spans carry, most used first', async () => {
    const { body } = await get('/attributes')
    expect(body.attributes).toEqual([{ key: 'app.plan', spans: 12 }, { key: 'tenant', spans: 12 }])
    expect(Array.isArray(body.resource)).toBe(true)
    expect((await get('/attributes?from=now-1m')).body.attributes).toEqual([])
    expect((await get('/attributes', other)).body.attributes).toEqual([])
    // Only `to`: the week before it, not the week before now.
    const old = await get(`/attributes?to=${new Date(Date.now() - 30 * 86_400_000).toISOString()}`)
    expect(old.status).toBe(200)
    expect(old.body.attributes).toEqual([])
    expect((await get(`/attributes?to=now`)).body.attributes).toEqual(body.attributes)
  })

  it('counts a span once when a newer version of it was written (the content merge writes them)', async () => {
    await store.client.command({
      query: `INSERT INTO spans SELECT * REPLACE (now64(3) + INTERVAL 1 SECOND AS ingested_at) FROM spans FINAL WHERE project_id = 'p1' ORDER BY span_id LIMIT 5`,
    })
    const { body } = await get('/attributes')
    expect(body.attributes).toEqual([{ key: 'app.plan', spans: 12 }, { key: 'tenant', spans: 12 }])
  })
})
