import { randomUUID } from 'node:crypto'
import { rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Store } from '@spanlens/ingest'
import { runCli } from '../src/index.js'
import { insertSpans, openStore, span, traceId, queryApp } from './helpers/store.js'

let store: Store
let close: () => Promise<void>
let app: FastifyInstance
let url: string
const KEYS: Record<string, string> = { 'key-p1-secret': 'p1', 'key-p2-secret': 'p2' }
const auth = { authorization: 'Bearer key-p1-secret' }
const TRACE = traceId(999_001)
/** One of the chat spans' traces, where a score moves to. */
const OTHER_TRACE = traceId(999_002)
const sloFile = join(tmpdir(), `slo-http-${process.pid}.yaml`)

beforeAll(async () => {
  ;({ store, close } = await openStore())
  const t0 = new Date(Date.now() - 30 * 60_000)
  const at = (ms: number) => new Date(t0.getTime() + ms)
  await insertSpans(store, [
    span({ trace_id: TRACE, span_id: 'aaaaaaaaaaaaaaa1', name: 'agent run', kind: 'agent', start: at(0), duration_ms: 3000, input_tokens: 0, output_tokens: 0, total_tokens: 0 }),
    span({ trace_id: TRACE, span_id: 'aaaaaaaaaaaaaaa2', parent_span_id: 'aaaaaaaaaaaaaaa1', name: 'chat gpt-4o', start: at(100), duration_ms: 1200, cost_usd: 0.002, input: 'what is a refund?', output: 'A refund is...' }),
    span({ trace_id: TRACE, span_id: 'aaaaaaaaaaaaaaa3', parent_span_id: 'aaaaaaaaaaaaaaa1', name: 'search', kind: 'tool', start: at(1400), duration_ms: 300, status_code: 'error', input_tokens: 0, output_tokens: 0, total_tokens: 0 }),
    ...Array.from({ length: 30 }, (_, i) =>
      span({ service_name: i % 2 ? 'chat' : 'batch', start: at(60_000 + i * 1000), request_model: i % 3 ? 'gpt-4o' : 'claude', ...(i === 0 ? { trace_id: OTHER_TRACE } : {}) }),
    ),
    ...Array.from({ length: 4 }, () => span({ project_id: 'p2', service_name: 'secret', start: at(5000) })),
    // older than every probe window: found by the final unbounded query
    ...Array.from({ length: 3 }, (_, i) => span({ service_name: 'old', start: new Date(Date.now() - (10 + i) * 86_400_000) })),
  ])
  writeFileSync(sloFile, 'slos:\n  - name: tools\n    objective: 99\n    indicator: { type: ratio, total: { kind: tool }, good: { kind: tool, status: ok } }\n')
  app = await queryApp(store, KEYS, { sloFile, sql: { maxExecutionSeconds: 5, maxMemoryBytes: 256 * 1024 * 1024, maxResultRows: 1000, maxResultBytes: 64 * 1024 * 1024 } })
  url = await app.listen({ port: 0, host: '127.0.0.1' })
})
afterAll(async () => {
  rmSync(sloFile, { force: true })
  await app.close()
  await close()
})

describe('HTTP routes', () => {
  it("a route's query over SPANLENS_QUERY_MAX_MEMORY_BYTES is stopped by ClickHouse and answers 503 SPANLENS_QUERY_LIMIT", async () => {
    // 1 kB: below what any ClickHouse query allocates, so the limit must be in force to be hit.
    const tight = await queryApp(store, KEYS, { sql: { maxExecutionSeconds: 5, maxMemoryBytes: 256 * 1024 * 1024, maxResultRows: 1000, maxResultBytes: 64 * 1024 * 1024 }, queryLimits: { maxExecutionSeconds: 30, maxMemoryBytes: 1024 } })
    try {
      for (const route of ['/api/v1/traces?from=now-30d&q=refund', '/api/v1/summary?groupBy=model']) {
        const res = await tight.inject({ method: 'GET', url: route, headers: auth })
        expect({ route, status: res.statusCode, code: res.json().error?.code }).toEqual({ route, status: 503, code: 'SPANLENS_QUERY_LIMIT' })
      }
    } finally {
      await tight.close()
    }
    // The same routes under the configured limits answer.
    expect((await app.inject({ method: 'GET', url: '/api/v1/summary?groupBy=model', headers: auth })).statusCode).toBe(200)
  })

  it('replies 401 SPANLENS_UNAUTHORIZED without a project', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/v1/traces' })
    expect(res.statusCode).toBe(401)
    expect(res.json().error.code).toBe('SPANLENS_UNAUTHORIZED')
  })

  it('lists spans with filters and walks every page with the cursor', async () => {
    const seen = new Set<string>()
    let cursor: string | null = null
    let pages = 0
    do {
      const res = await app.inject({ method: 'GET', url: `/api/v1/spans?service=chat,batch&limit=7${cursor ? `&cursor=${cursor}` : ''}`, headers: auth })
      expect(res.statusCode).toBe(200)
      const body = res.json() as { items: Array<{ spanId: string; service: string }>; nextCursor: string | null }
      for (const s of body.items) seen.add(s.spanId)
      cursor = body.nextCursor
      pages++
    } while (cursor && pages < 20)
    expect(seen.size).toBe(30)
    expect(pages).toBe(5)
    const old = await app.inject({ method: 'GET', url: '/api/v1/spans?service=old&limit=2', headers: auth })
    expect(old.json().items).toHaveLength(2)
    const rest = await app.inject({ method: 'GET', url: `/api/v1/spans?service=old&limit=2&cursor=${old.json().nextCursor}`, headers: auth })
    expect(rest.json().items).toHaveLength(1)
    expect(rest.json().nextCursor).toBeNull()
    const byModel = await app.inject({ method: 'GET', url: '/api/v1/spans?model=claude&attr.none=x', headers: auth })
    expect(byModel.json().items).toHaveLength(0)
    const text = await app.inject({ method: 'GET', url: '/api/v1/spans?q=REFUND&io=1', headers: auth })
    expect(text.json().items.map((s: { spanId: string }) => s.spanId)).toEqual(['aaaaaaaaaaaaaaa2'])
  })

  it('returns one trace as a tree with totals, and 404 for another project', async () => {
    const res = await app.inject({ method: 'GET', url: `/api/v1/traces/${TRACE}`, headers: auth })
    expect(res.statusCode).toBe(200)
    expect(res.headers).toMatchObject({ 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' })
    const t = res.json()
    expect(t.totals).toMatchObject({ spans: 3, errors: 1, llmCalls: 1, costUsd: 0.002 })
    expect(t.durationMs).toBe(3000)
    expect(t.roots).toHaveLength(1)
    expect(t.roots[0].children.map((c: { name: string }) => c.name)).toEqual(['chat gpt-4o', 'search'])
    const other = await app.inject({ method: 'GET', url: `/api/v1/traces/${TRACE}`, headers: { authorization: 'Bearer key-p2-secret' } })
    expect(other.statusCode).toBe(404)
    expect(other.headers).toMatchObject({ 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' })
    expect(other.json().error.code).toBe('SPANLENS_NOT_FOUND')
  })

  it('lists traces with totals; a span-level filter keeps traces with a matching span', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/v1/traces?kind=tool', headers: auth })
    const items = res.json().items
    expect(items).toHaveLength(1)
    expect(items[0]).toMatchObject({ traceId: TRACE, spans: 3, errors: 1, status: 'error', name: 'agent run' })
  })

  it('records a score (201, then 200 for a re-post with its id) and joins it to the trace', async () => {
    // A name and id of this attempt's own: a retried attempt (cluster mode) must not meet the scores of the one before.
    const tag = randomUUID().slice(0, 8)
    const body = { traceId: TRACE, name: `feedback-${tag}`, value: true, comment: 'great', id: `fb-${tag}` }
    const first = await app.inject({ method: 'POST', url: '/api/v1/scores', headers: auth, payload: { ...body, id: undefined } })
    expect(first.statusCode).toBe(201)
    expect(typeof first.json().id).toBe('string')
    const again = await app.inject({ method: 'POST', url: '/api/v1/scores', headers: auth, payload: body })
    expect(again.statusCode).toBe(200)
    expect(again.json().id).toBe(`fb-${tag}`)
    const bad = await app.inject({ method: 'POST', url: '/api/v1/scores', headers: auth, payload: { traceId: 'nope', name: 'x', value: 1 } })
    expect(bad.statusCode).toBe(400)
    expect(bad.json().error.code).toBe('SPANLENS_BAD_REQUEST')
    const t = (await app.inject({ method: 'GET', url: `/api/v1/traces/${TRACE}`, headers: auth })).json()
    const mine = t.scores.filter((s: { name: string }) => s.name === body.name)
    expect(mine.map((s: { name: string; value: number }) => [s.name, s.value])).toEqual([[body.name, 1], [body.name, 1]])
  })

  it('a re-post with its id replaces the score under another name, on another day, on another trace', async () => {
    const tag = randomUUID().slice(0, 8)
    const id = `fb-moved-${tag}`
    const day = 86_400_000
    const post = async (payload: Record<string, unknown>) => {
      const res = await app.inject({ method: 'POST', url: '/api/v1/scores', headers: auth, payload: { id, ...payload } })
      expect(res.statusCode, res.body).toBe(200)
    }
    const other = OTHER_TRACE
    await post({ traceId: TRACE, name: `draft-${tag}`, value: 1, timestamp: new Date(Date.now() - 2 * day).toISOString() })
    await post({ traceId: TRACE, name: `draft-${tag}`, value: 2 })
    await post({ traceId: TRACE, name: `final-${tag}`, value: 3 })
    await post({ traceId: other, name: `final-${tag}`, value: 4, timestamp: new Date(Date.now() - 1 * day).toISOString() })
    // Every read sees one score, the last one: the trace views, the analysts' SQL, the score filter.
    const mine = (t: string) =>
      app.inject({ method: 'GET', url: `/api/v1/traces/${t}`, headers: auth }).then((r) => r.json().scores.filter((x: { name: string }) => x.name.endsWith(tag)))
    expect(await mine(TRACE)).toEqual([])
    expect((await mine(other)).map((x: { name: string; value: number }) => [x.name, x.value])).toEqual([[`final-${tag}`, 4]])
    const sql = await app.inject({ method: 'POST', url: '/api/v1/sql', headers: auth, payload: { query: `SELECT name, value FROM scores WHERE score_id = '${id}'` } })
    expect(sql.json().data).toEqual([{ name: `final-${tag}`, value: 4 }])
    const listed = await app.inject({ method: 'GET', url: `/api/v1/traces?from=now-1d&score.draft-${tag}=*`, headers: auth })
    expect(listed.json().items).toEqual([])
  })

  it('a body that is not JSON is a 415 naming its content type, on every route that takes one', async () => {
    for (const url of ['/api/v1/sql', '/api/v1/scores', '/api/v1/drift', '/api/v1/bias']) {
      for (const type of ['text/plain', 'application/xml', 'text/plain; charset=utf-8']) {
        const res = await app.inject({ method: 'POST', url, headers: { ...auth, 'content-type': type }, payload: '{"query":"SELECT 1"}' })
        expect(res.statusCode, `${url} ${type}`).toBe(415)
        expect(res.json().error).toEqual({ code: 'SPANLENS_UNSUPPORTED_MEDIA_TYPE', message: `unsupported content type ${JSON.stringify(type)}; send application/json` })
      }
    }
  })

  it('refuses a score it could not keep or that names no span, saying which field and why', async () => {
    const post = (payload: Record<string, unknown>) => app.inject({ method: 'POST', url: '/api/v1/scores', headers: auth, payload: { traceId: TRACE, name: 'q', value: 1, ...payload } })
    const refused = async (payload: Record<string, unknown>, field: string, why: string) => {
      const res = await post(payload)
      expect(res.statusCode, res.body).toBe(400)
      expect(res.json().error).toMatchObject({ code: 'SPANLENS_BAD_REQUEST' })
      expect(res.json().error.message).toContain(field)
      expect(res.json().error.message).toContain(why)
    }
    const day = 86_400_000
    // The store's TTL would delete these at once (a score dated 1970 was answered 201, then never seen).
    await refused({ timestamp: 0 }, 'timestamp', 'older than the 90-day retention')
    await refused({ timestamp: new Date(Date.now() - 91 * day).toISOString() }, 'timestamp', 'older than the 90-day retention')
    await refused({ timestamp: Date.now() + 2 * day }, 'timestamp', 'more than 24 h ahead')
    // OpenTelemetry's invalid ids: no span has them.
    await refused({ traceId: '0'.repeat(32) }, 'traceId', 'not all zeros')
    await refused({ spanId: '0'.repeat(16) }, 'spanId', 'not all zeros')
    await refused({ value: null }, 'value', 'expected a finite number, a string of at most 10,000 characters, or a boolean')
    const kept = await post({ name: 'dated', timestamp: new Date(Date.now() - 89 * day).toISOString() })
    expect(kept.statusCode, kept.body).toBe(201)
    const t = (await app.inject({ method: 'GET', url: `/api/v1/traces/${TRACE}`, headers: auth })).json()
    expect(t.scores.map((s: { name: string }) => s.name)).toContain('dated')
    expect(t.scores.map((s: { name: string }) => s.name)).not.toContain('q')
  })

  it('summarises from the rollup by model', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/v1/summary?groupBy=model&service=chat,batch', headers: auth })
    const body = res.json()
    expect(body.source).toBe('rollup')
    expect(Object.fromEntries(body.rows.map((r: { group: { model: string }; calls: number }) => [r.group.model, r.calls]))).toEqual({ claude: 10, 'gpt-4o': 20 })
  })

  it('answers SQL with 64-bit integers exact, as strings, and narrower numbers as JSON numbers', async () => {
    const hash = await app.inject({ method: 'POST', url: '/api/v1/sql', headers: auth, payload: { query: "SELECT cityHash64('a') AS h, toString(h) AS s" } })
    expect(hash.statusCode).toBe(200)
    expect(hash.body).toContain('"data":[{"h":"2603192927274642682","s":"2603192927274642682"}]')
    const above = await app.inject({ method: 'POST', url: '/api/v1/sql', headers: auth, payload: { query: 'SELECT toUInt64(9007199254740993) AS n, toUInt32(7) AS small, 0.5 AS f' } })
    expect(above.json().data).toEqual([{ n: '9007199254740993', small: 7, f: 0.5 }])
  })

  it('runs sandboxed SQL and refuses escapes with 403', async () => {
    const ok = await app.inject({ method: 'POST', url: '/api/v1/sql', headers: auth, payload: { query: 'SELECT count() AS n FROM spans' } })
    expect(ok.json()).toMatchObject({ data: [{ n: '36' }], rows: 1 })
    const bad = await app.inject({ method: 'POST', url: '/api/v1/sql', headers: auth, payload: { query: 'SELECT * FROM system.tables' } })
    expect(bad.statusCode).toBe(403)
    expect(bad.json().error.code).toBe('SPANLENS_SQL_FORBIDDEN')
  })

  it('drift without enough data is 422', async () => {
    const res = await app.inject({ method: 'POST', url: '/api/v1/drift', headers: auth, payload: { reference: { from: 'now-2d', to: 'now-1d' }, current: { from: 'now-1d' } } })
    expect(res.statusCode).toBe(422)
    expect(res.json().error.code).toBe('SPANLENS_NOT_ENOUGH_DATA')
  })
})

describe('CLI over HTTP', () => {
  const cli = async (...argv: string[]) => {
    let stdout = ''
    let stderr = ''
    const code = await runCli([...argv, '--url', url], { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), env: { SPANLENS_API_KEY: 'key-p1-secret' } })
    return { code, stdout, stderr }
  }

  it('slo check exits 2 when an alert fires', async () => {
    const r = await cli('slo', 'check')
    expect(r.code).toBe(2)
    expect(r.stdout).toContain('tools')
    expect(r.stderr).toContain('SLO alert firing')
    expect((await cli('slo')).code).toBe(0)
  })

  it('prints traces, a trace tree and SQL results; --json gives the API body', async () => {
    expect((await cli('traces')).stdout).toContain(TRACE)
    expect((await cli('traces', TRACE)).stdout).toContain('search [tool]')
    const sql = await cli('sql', 'SELECT count() AS n FROM spans', '--json')
    expect(JSON.parse(sql.stdout).data).toEqual([{ n: '36' }])
  })

  it('reports API errors with their code and exits 1', async () => {
    const r = await cli('sql', 'SELECT * FROM system.tables')
    expect(r.code).toBe(1)
    expect(r.stderr).toContain('SPANLENS_SQL_FORBIDDEN')
    const bad = await runCli(['traces', '--url', url], { stdout: () => undefined, stderr: () => undefined, env: {} })
    expect(bad).toBe(1)
  })
})
