// The trace, session and user reads at their edges: a trace with several root spans
// walked page by page in every order, a trace and a session beyond the span cap of
// their replies, empty ids in the path, and trace and span ids in upper-case hex.
import { randomUUID } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Store } from '@spanlens/ingest'
import { insertSpans, openStore, span, queryApp } from './helpers/store.js'

let store: Store
let close: () => Promise<void>
let app: FastifyInstance
// Projects of this run only: a retried test meets no rows of another run.
const run = randomUUID().slice(0, 8)
const MULTI = `multi-${run}`
const BIG = `big-${run}`
const CASE = `case-${run}`
const headers = (project: string) => ({ authorization: `Bearer key-${project}` })

const MIN = 60_000
const now = Date.now()
const at = (minutesAgo: number) => new Date(now - minutesAgo * MIN)
const hex = (n: number, width: number) => n.toString(16).padStart(width, '0')
const tid = (n: number) => hex(0xa0000 + n, 32)
const sid = (n: number) => hex(0xb0000 + n, 16)

/** Trace 7 has two root spans two hours apart; every other trace starts between them or around them. */
const MULTI_ROOT = tid(7)
const EARLY_ROOT = sid(71)
const LATE_ROOT = sid(72)
/** One trace of 20,001 spans: twice the 10,000 a trace's tree holds, so that a session's reply cannot hold its spans as rows either. */
const HUGE = tid(100)
const HUGE_SPANS = 20_001
const HUGE_SESSION = `huge-session-${run}`
/** A trace whose ids the case tests spell in upper case. */
const CASED = 'ab'.repeat(8) + 'cd'.repeat(8)
const CASED_SPAN = 'ef'.repeat(8)
/** A chain of 5,000 spans, each the child of the one before (an async loop that keeps its span active). */
const SHAPES = `shapes-${run}`
const DEEP = tid(200)
const DEEP_SPANS = 5_000
/** Two spans each naming the other as parent, beside the trace's root. */
const CYCLE = tid(300)

beforeAll(async () => {
  ;({ store, close } = await openStore())
  const multi: Array<Record<string, unknown>> = []
  // Single-root traces 1-6 at these minutes ago, each with a child; trace 7's roots at 60 and 180.
  const starts: Record<number, number> = { 1: 30, 2: 90, 3: 120, 4: 150, 5: 240, 6: 300 }
  for (const [n, ago] of Object.entries(starts).map(([n, a]) => [Number(n), a] as const)) {
    multi.push(
      span({ project_id: MULTI, trace_id: tid(n), span_id: sid(n * 10), name: `trace ${n}`, kind: 'chain', start: at(ago), duration_ms: 50 + n, cost_usd: n * 0.001, total_tokens: n * 10 }),
      span({ project_id: MULTI, trace_id: tid(n), span_id: sid(n * 10 + 1), parent_span_id: sid(n * 10), start: new Date(at(ago).getTime() + 5), duration_ms: 10, status_code: n % 2 ? 'error' : 'ok' }),
    )
  }
  multi.push(
    span({ project_id: MULTI, trace_id: MULTI_ROOT, span_id: LATE_ROOT, name: 'second root', kind: 'chain', start: at(60), duration_ms: 20 }),
    span({ project_id: MULTI, trace_id: MULTI_ROOT, span_id: EARLY_ROOT, name: 'first root', kind: 'chain', start: at(180), duration_ms: 20 }),
    span({ project_id: MULTI, trace_id: MULTI_ROOT, span_id: sid(73), parent_span_id: EARLY_ROOT, start: new Date(at(180).getTime() + 5), duration_ms: 10 }),
  )
  await insertSpans(store, multi)

  // HUGE: a root and 20,000 children, then a second, small trace of the same session.
  const root = sid(1000)
  const big: Array<Record<string, unknown>> = [
    span({ project_id: BIG, trace_id: HUGE, span_id: root, name: 'huge', kind: 'agent', start: at(120), duration_ms: 60_000, session_id: HUGE_SESSION, input: 'first question' }),
  ]
  for (let i = 1; i < HUGE_SPANS; i++) {
    big.push(span({ project_id: BIG, trace_id: HUGE, span_id: hex(0xc00000 + i, 16), parent_span_id: root, start: new Date(at(120).getTime() + i), duration_ms: 1, cost_usd: 0.0001, status_code: i % 1000 === 0 ? 'error' : 'ok' }))
  }
  big.push(span({ project_id: BIG, trace_id: tid(101), span_id: sid(1010), name: 'small', start: at(60), session_id: HUGE_SESSION, input: 'second question', output: 'second answer', cost_usd: 0.5 }))
  for (let i = 0; i < big.length; i += 5000) await insertSpans(store, big.slice(i, i + 5000))

  await insertSpans(store, [
    span({ project_id: CASE, trace_id: CASED, span_id: CASED_SPAN, name: 'cased', start: at(30), session_id: 's', user_id: 'u' }),
    // What an empty id in the path read: spans without a user or a session.
    span({ project_id: CASE, start: at(40) }),
  ])
  const deep: Array<Record<string, unknown>> = []
  for (let i = 0; i < DEEP_SPANS; i++) {
    deep.push(span({ project_id: SHAPES, trace_id: DEEP, span_id: hex(0xd00000 + i, 16), parent_span_id: i === 0 ? '' : hex(0xd00000 + i - 1, 16), name: `step ${i}`, start: new Date(at(50).getTime() + i), duration_ms: 1 }))
  }
  for (let i = 0; i < deep.length; i += 5000) await insertSpans(store, deep.slice(i, i + 5000))
  await insertSpans(store, [
    span({ project_id: SHAPES, trace_id: CYCLE, span_id: sid(3000), name: 'root', kind: 'chain', start: at(45), duration_ms: 30 }),
    span({ project_id: SHAPES, trace_id: CYCLE, span_id: sid(3001), parent_span_id: sid(3002), name: 'a', start: new Date(at(45).getTime() + 1), duration_ms: 5 }),
    span({ project_id: SHAPES, trace_id: CYCLE, span_id: sid(3002), parent_span_id: sid(3001), name: 'b', start: new Date(at(45).getTime() + 2), duration_ms: 5 }),
    span({ project_id: SHAPES, trace_id: CYCLE, span_id: sid(3003), parent_span_id: sid(3002), name: 'under b', start: new Date(at(45).getTime() + 3), duration_ms: 1 }),
  ])
  await store.client.insert({
    table: 'logs',
    format: 'JSONEachRow',
    values: [{ project_id: CASE, timestamp: at(30).toISOString().replace('T', ' ').replace('Z', ''), observed_timestamp: at(30).toISOString().replace('T', ' ').replace('Z', ''), trace_id: CASED, span_id: CASED_SPAN, body: 'a log line', severity_number: 9 }],
  })
  // The cased span's input and output arrive as GenAI log records (span_content).
  await store.client.insert({
    table: 'span_content',
    format: 'JSONEachRow',
    values: [{ project_id: CASE, trace_id: CASED, span_id: CASED_SPAN, time: at(30).toISOString().replace('T', ' ').replace('Z', ''), seq: 0, input: '[{"role":"user","content":"asked in a log"}]', output: '[{"role":"assistant","content":"answered in a log"}]', finish_reason: 'stop' }],
  })
  app = await queryApp(
    store,
    Object.fromEntries([MULTI, BIG, CASE, SHAPES].map((p) => [`key-${p}`, p])),
    { sql: { maxExecutionSeconds: 5, maxMemoryBytes: 256 * 1024 * 1024, maxResultRows: 1000, maxResultBytes: 64 * 1024 * 1024 } },
  )
}, 120_000)
afterAll(async () => {
  await app?.close()
  await close()
})

const get = async (project: string, url: string) => {
  const res = await app.inject({ method: 'GET', url: `/api/v1${url}`, headers: headers(project) })
  return { status: res.statusCode, body: res.json() }
}

interface Listed {
  traceId: string
  rootSpanId: string
  name: string
  startTime: string
}

/** Every trace of a listing, walked page by page with its cursors. */
async function walk(project: string, query: string): Promise<Listed[]> {
  const seen: Listed[] = []
  let cursor: string | null = null
  for (let pages = 0; pages < 100; pages++) {
    const page: { status: number; body: { items: Listed[]; nextCursor: string | null } } = await get(project, `/traces?${query}${cursor ? `&cursor=${cursor}` : ''}`)
    expect(page.status, query).toBe(200)
    seen.push(...page.body.items)
    cursor = page.body.nextCursor
    if (cursor === null) return seen
  }
  throw new Error(`${query}: a listing that does not end`)
}

const ORDERS = ['startTime', 'durationMs', 'costUsd', 'tokens', 'errors', 'spans'].flatMap((f) => [f, `-${f}`])

describe('a trace with several root spans', () => {
  it('is listed once across the pages of the default order, at its earliest root, and counted once', async () => {
    const total = (await get(MULTI, '/traces?limit=1&total=1')).body.total
    expect(total).toBe(7)
    const want = ['trace 1', 'trace 2', 'trace 3', 'trace 4', 'first root', 'trace 5', 'trace 6']
    for (const limit of [1, 2, 3, 50]) {
      const seen = await walk(MULTI, `limit=${limit}`)
      expect(seen.map((t) => t.name), `limit=${limit}`).toEqual(want)
    }
  })

  it('is listed once across the pages of every other order', { timeout: 120_000 }, async () => {
    for (const order of ORDERS) {
      const ids = (await walk(MULTI, `order=${order}&limit=2`)).map((t) => t.traceId)
      expect(ids.filter((id) => id === MULTI_ROOT), order).toHaveLength(1)
      expect(new Set(ids).size, order).toBe(7)
      expect(ids, order).toHaveLength(7)
    }
  })

  it('is listed once when a time filter starts between its roots, at the earliest root in the range', async () => {
    const from = at(120).toISOString()
    for (const q of [`from=${from}&limit=1`, `from=${from}&limit=1&order=startTime`]) {
      const seen = await walk(MULTI, q)
      expect(seen.filter((t) => t.traceId === MULTI_ROOT).map((t) => t.rootSpanId), q).toEqual([LATE_ROOT])
      expect(new Set(seen.map((t) => t.traceId)).size, q).toBe(seen.length)
    }
  })

  it('shows the root the trace reads first, in every order', async () => {
    const trace = (await get(MULTI, `/traces/${MULTI_ROOT}`)).body
    expect(trace.roots.map((r: { spanId: string }) => r.spanId)).toEqual([EARLY_ROOT, LATE_ROOT])
    for (const order of ['', '&order=-durationMs']) {
      const listed = (await walk(MULTI, `limit=50${order}`)).find((t) => t.traceId === MULTI_ROOT)
      expect(listed, order).toMatchObject({ rootSpanId: EARLY_ROOT, name: 'first root', startTime: trace.startTime })
    }
  })
})

describe('a trace or a session beyond the span cap', () => {
  it('says a trace is cut, and counts every span in its totals', async () => {
    const { status, body } = await get(BIG, `/traces/${HUGE}`)
    expect(status).toBe(200)
    expect(body.truncated).toBe(true)
    expect(body.totals).toMatchObject({ spans: HUGE_SPANS, errors: 20, llmCalls: HUGE_SPANS - 1 })
    expect(body.totals.costUsd).toBeCloseTo((HUGE_SPANS - 1) * 0.0001, 9)
    const count = (nodes: Array<{ children: unknown[] }>): number => nodes.reduce((n, s) => n + 1 + count(s.children as Array<{ children: unknown[] }>), 0)
    expect(count(body.roots)).toBe(10_000)
    // The listing counts the same spans.
    expect((await get(BIG, `/traces?traceId=${HUGE}`)).body.items[0]).toMatchObject({ spans: HUGE_SPANS, errors: 20 })
    expect((await get(BIG, `/traces/${tid(101)}`)).body).toMatchObject({ truncated: false, totals: { spans: 1 } })
  })

  it('replays every turn of a session whose traces hold more spans than a read returns, with whole totals', async () => {
    const { status, body } = await get(BIG, `/sessions/${HUGE_SESSION}`)
    expect(status).toBe(200)
    expect(body.turns.map((t: { traceId: string }) => t.traceId)).toEqual([HUGE, tid(101)])
    expect(body.turns[0]).toMatchObject({ spans: HUGE_SPANS, errors: 20, input: 'first question' })
    expect(body.turns[1]).toMatchObject({ spans: 1, input: 'second question', output: 'second answer' })
    expect(body.totals).toMatchObject({ traces: 2, spans: HUGE_SPANS + 1, errors: 20 })
    expect(body.truncated).toBe(false)
  })

  it("shows a turn's input and output sent as GenAI log records", async () => {
    const { body } = await get(CASE, '/sessions/s')
    expect(body.turns[0]).toMatchObject({ traceId: CASED, input: '[{"role":"user","content":"asked in a log"}]', output: '[{"role":"assistant","content":"answered in a log"}]', userId: 'u' })
    expect(body.userIds).toEqual(['u'])
  })

  it("gives a session's whole totals whatever its limit shows", async () => {
    const whole = (await get(BIG, `/sessions/${HUGE_SESSION}`)).body
    const { status, body } = await get(BIG, `/sessions/${HUGE_SESSION}?limit=1`)
    expect(status).toBe(200)
    expect(body.turns).toHaveLength(1)
    expect(body.truncated).toBe(true)
    expect(body.totals).toEqual(whole.totals)
    expect(body.totals.traces).toBe(2)
    expect(body.totals.costUsd).toBeCloseTo((HUGE_SPANS - 1) * 0.0001 + 0.5, 9)
    expect({ startTime: body.startTime, endTime: body.endTime }).toEqual({ startTime: whole.startTime, endTime: whole.endTime })
  })
})

interface Node {
  spanId: string
  name: string
  children: Node[]
}

describe('a trace of any shape', () => {
  it('reads a chain of 5,000 spans each nested in the one before as one tree, 5,000 deep', async () => {
    const res = await app.inject({ method: 'GET', url: `/api/v1/traces/${DEEP}`, headers: headers(SHAPES) })
    expect(res.statusCode, res.body.slice(0, 300)).toBe(200)
    const body = JSON.parse(res.body) as { roots: Node[]; totals: { spans: number } }
    expect(body.totals.spans).toBe(DEEP_SPANS)
    expect(body.roots).toHaveLength(1)
    let depth = 0
    for (let n: Node | undefined = body.roots[0]; n; n = n.children[0]) {
      expect(n.name).toBe(`step ${depth}`)
      expect(n.children.length).toBeLessThanOrEqual(1)
      depth++
    }
    expect(depth).toBe(DEEP_SPANS)
  })

  it('shows spans whose parents form a cycle, the earliest of them as a root, so the tree holds every span the totals count', async () => {
    const { status, body } = await get(SHAPES, `/traces/${CYCLE}`)
    expect(status).toBe(200)
    const names = (n: Node): unknown => ({ [n.name]: n.children.map(names) })
    expect(body.totals.spans).toBe(4)
    expect((body.roots as Node[]).map(names)).toEqual([{ root: [] }, { a: [{ b: [{ 'under b': [] }] }] }])
  })
})

describe('ids in the path', () => {
  it('refuses an empty trace, session or user id with a 400 naming it', async () => {
    for (const [path, field] of [['/users/', 'userId'], ['/sessions/', 'sessionId'], ['/traces/', 'traceId'], ['/traces//logs', 'traceId']] as const) {
      const { status, body } = await get(CASE, path)
      expect(status, path).toBe(400)
      expect(body.error.code, path).toBe('SPANLENS_BAD_REQUEST')
      expect(body.error.message, path).toMatch(new RegExp(`^${field}: `))
    }
  })

  it('refuses a trace id that is not 32 hex digits, in the path or a filter, naming it', async () => {
    for (const path of ['/traces/nothex', `/traces/${CASED}0`, '/traces/nothex/logs', '/traces?traceId=nothex', '/spans?traceId=nothex', `/traces/${CASED}/logs?spanId=xyz`]) {
      const { status, body } = await get(CASE, path)
      expect(status, path).toBe(400)
      expect(body.error.code, path).toBe('SPANLENS_BAD_REQUEST')
      expect(body.error.message, path).toMatch(/(traceId|spanId)/)
    }
  })
})

describe('trace and span ids in upper-case hex', () => {
  const UPPER = CASED.toUpperCase()
  const MIXED = CASED.slice(0, 16).toUpperCase() + CASED.slice(16)

  it('read the same trace, logs and listings as in lower case', async () => {
    const lower = await get(CASE, `/traces/${CASED}`)
    expect(lower.status).toBe(200)
    for (const id of [UPPER, MIXED]) {
      expect(await get(CASE, `/traces/${id}`), id).toEqual(lower)
      expect((await get(CASE, `/traces/${id}/logs`)).body.items, id).toHaveLength(1)
      expect((await get(CASE, `/traces/${id}/logs?spanId=${CASED_SPAN.toUpperCase()}`)).body.items, id).toHaveLength(1)
      expect((await get(CASE, `/traces?traceId=${id}`)).body.items.map((t: { traceId: string }) => t.traceId), id).toEqual([CASED])
      expect((await get(CASE, `/spans?traceId=${id}`)).body.items.map((s: { spanId: string }) => s.spanId), id).toEqual([CASED_SPAN])
      expect((await get(CASE, `/traces?not.traceId=${id}`)).body.items.map((t: { traceId: string }) => t.traceId), id).not.toContain(CASED)
    }
  })

  it('find a score posted with an upper-case id on the trace read in upper case', async () => {
    const name = `upper-${randomUUID().slice(0, 8)}`
    const posted = await app.inject({ method: 'POST', url: '/api/v1/scores', headers: headers(CASE), payload: { traceId: UPPER, spanId: CASED_SPAN.toUpperCase(), name, value: 1 } })
    expect(posted.statusCode).toBe(201)
    const trace = (await get(CASE, `/traces/${UPPER}`)).body
    expect(trace.roots[0].scores.map((s: { name: string }) => s.name)).toContain(name)
  })
})
