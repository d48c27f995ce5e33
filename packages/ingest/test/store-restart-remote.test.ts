import { randomUUID } from 'node:crypto'
import { Writable } from 'node:stream'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import type { FastifyInstance } from 'fastify'
import { loadConfig } from '../src/config/load.js'
import { buildServer } from '../src/server.js'
import { startClickHouseServer, type TestClickHouse } from './helpers/clickhouse-server.js'
import { jsonRequest } from './helpers/otlp.js'
import { API_KEYS, bearer, KEYS } from './helpers/server.js'
import { provided } from './helpers/store-mode.js'
import { tempDir } from './helpers/tmp.js'

/**
 * Runs in the `remote` project: a served ClickHouse killed with SIGKILL and started again on
 * its data and ports while spans arrive, or while a server starts. An engine of its own (about
 * 1.5 s to start), shared by the tests here: the project's engine serves the other files
 * meanwhile and has no retry for a test it fails.
 */
if (provided()?.mode !== 'remote') throw new Error('store-restart-remote.test.ts runs in the remote vitest project')

const cleanups: Array<() => Promise<void> | void> = []
let engine: TestClickHouse
beforeAll(async () => {
  engine = await startClickHouseServer()
  cleanups.push(() => engine.stop())
}, 60_000)
afterAll(async () => {
  for (const c of cleanups.reverse()) await c()
})

function envFor(database: string, extra: Record<string, string> = {}): Record<string, string> {
  const dir = tempDir()
  cleanups.push(() => dir.cleanup())
  return {
    SPANLENS_DATA_DIR: dir.path,
    SPANLENS_API_KEYS: API_KEYS,
    SPANLENS_LOG_LEVEL: 'silent',
    SPANLENS_CLICKHOUSE_URL: engine.httpUrl,
    SPANLENS_CLICKHOUSE_DATABASE: database,
    SPANLENS_BATCH_MAX_AGE_MS: '20',
    ...extra,
  }
}

async function send(url: string, marker: string, n: number): Promise<number> {
  const res = await fetch(`${url}/v1/traces`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...bearer(KEYS.acme) },
    body: JSON.stringify(jsonRequest(Array.from({ length: n }, () => ({ name: marker })))),
  })
  await res.arrayBuffer()
  return res.status
}

async function stored(app: FastifyInstance, marker: string): Promise<{ n: number; u: number }> {
  const rs = await app.spanlens.store.client.query({
    query: 'SELECT count() AS n, uniqExact(trace_id, span_id) AS u FROM spans WHERE name = {m:String}',
    query_params: { m: marker },
    format: 'JSONEachRow',
  })
  const [row] = await rs.json<{ n: string; u: string }>()
  return { n: Number(row?.n), u: Number(row?.u) }
}

describe('a served ClickHouse killed and restarted while spans arrive', () => {
  it('acknowledges every request, stays ready (degraded) for OTLP, answers 503 on the query routes while it is down or hung, and stores every span once', async () => {
    const env = envFor('restart')
    const app = await buildServer(loadConfig({ env }))
    cleanups.push(() => app.close())
    const url = await app.listen({ host: '127.0.0.1', port: 0 })
    const marker = `restart-${randomUUID()}`

    // One sender, as an exporter would, for the whole outage: every answer must be 200.
    let sending = true
    const statuses: number[] = []
    const sender = (async () => {
      while (sending) {
        const res = await fetch(`${url}/v1/traces`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...bearer(KEYS.acme) },
          body: JSON.stringify(jsonRequest(Array.from({ length: 20 }, () => ({ name: marker })))),
        })
        await res.arrayBuffer()
        statuses.push(res.status)
        await new Promise((r) => setTimeout(r, 10))
      }
    })()
    const get = async (path: string) => {
      const res = await fetch(`${url}${path}`, { headers: bearer(KEYS.acme) })
      return { status: res.status, retryAfter: res.headers.get('retry-after'), body: (await res.json()) as { error?: { code: string }; status?: string; checks?: { store: string } } }
    }
    try {
      await vi.waitFor(() => expect(statuses.length).toBeGreaterThan(3), { timeout: 5_000, interval: 20 })
      // Keep-alive sockets to the engine are open now: they break with it.
      expect((await get('/api/v1/traces?limit=1')).status).toBe(200)
      process.kill(engine.pid, 'SIGKILL')
      await engine.exited

      const down = await get('/api/v1/traces?limit=1')
      expect({ status: down.status, code: down.body.error?.code, retryAfter: down.retryAfter }).toEqual({ status: 503, code: 'SPANLENS_STORE_UNREACHABLE', retryAfter: '5' })
      // The spool takes what arrives meanwhile: /readyz keeps the server in its load balancer, degraded.
      const ready = await get('/readyz')
      expect({ status: ready.status, state: ready.body.status, store: ready.body.checks?.store }).toEqual({ status: 200, state: 'degraded', store: 'unreachable' })
      expect((await get('/readyz?strict=1')).status).toBe(503)
      const during = statuses.length
      await vi.waitFor(() => expect(statuses.length).toBeGreaterThan(during + 3), { timeout: 5_000, interval: 20 })

      await engine.restart()
      // The first reads after the restart, on sockets opened before it or new ones, are answered.
      expect((await get('/api/v1/traces?limit=1')).status).toBe(200)
      expect((await get('/api/v1/traces?limit=1')).status).toBe(200)
    } finally {
      sending = false
      await sender
    }
    expect(statuses.filter((s) => s !== 200)).toEqual([])
    await app.spanlens.flush()
    expect(await stored(app, marker)).toEqual({ n: statuses.length * 20, u: statuses.length * 20 })
    expect(((await (await fetch(`${url}/readyz`)).json()) as { deadLetters: { rows: number } }).deadLetters.rows).toBe(0)

    // Stopped rather than killed, it takes connections and answers nothing: a read waits for
    // the request timeout (1.5 s on a second server over the same database), then says so.
    const second = await buildServer(loadConfig({ env: envFor('restart', { SPANLENS_CLICKHOUSE_REQUEST_TIMEOUT_MS: '1500' }) }))
    cleanups.push(() => second.close())
    const secondUrl = await second.listen({ host: '127.0.0.1', port: 0 })
    process.kill(engine.pid, 'SIGSTOP')
    let hung: FastifyInstance | undefined
    const hungMarker = `hung-${randomUUID()}`
    try {
      const res = await fetch(`${secondUrl}/api/v1/traces?limit=1`, { headers: bearer(KEYS.acme) })
      const error = ((await res.json()) as { error: { code: string; message: string } }).error
      expect({ status: res.status, code: error.code, retryAfter: res.headers.get('retry-after') }).toEqual({ status: 503, code: 'SPANLENS_STORE_UNREACHABLE', retryAfter: '5' })
      expect(error.message).toContain('SPANLENS_CLICKHOUSE_REQUEST_TIMEOUT_MS')
      // A server started now waits for the store's answer no longer than its first wait (0.3 s here,
      // 5 s by default), not the request timeout (a minute here: the test's own timeout), and listens.
      hung = await buildServer(loadConfig({ env: envFor('restart_hung', { SPANLENS_CLICKHOUSE_REQUEST_TIMEOUT_MS: '60000' }) }), { storeFirstWaitMs: 300 })
      cleanups.push(() => hung?.close())
      const hungUrl = await hung.listen({ host: '127.0.0.1', port: 0 })
      expect(await send(hungUrl, hungMarker, 10)).toBe(200)
      const ready = (await (await fetch(`${hungUrl}/readyz`)).json()) as { status: string; checks: { migrations: string } }
      expect({ state: ready.status, migrations: ready.checks.migrations }).toEqual({ state: 'degraded', migrations: 'pending' })
    } finally {
      process.kill(engine.pid, 'SIGCONT')
    }
    // The attempt it left running is answered once the store resumes: migrated, the spool inserted.
    await hung?.spanlens.flush()
    if (hung) expect(await stored(hung, hungMarker)).toEqual({ n: 10, u: 10 })
  }, 60_000)
})

describe('a server started while its served ClickHouse is down', () => {
  it('starts and takes OTLP into its spool (200), says degraded and answers the query routes 503 meanwhile, then migrates and stores every span once; one closed meanwhile keeps its spans for its next start', async () => {
    process.kill(engine.pid, 'SIGKILL')
    await engine.exited
    const env = envFor('start_down')
    const warnings: string[] = []
    const logger = pino({ level: 'warn' }, new Writable({ write: (chunk: Buffer, _enc, done) => (warnings.push(chunk.toString()), done()) }))
    const app = await buildServer(loadConfig({ env }), { logger })
    cleanups.push(() => app.close())
    const url = await app.listen({ host: '127.0.0.1', port: 0 })
    const marker = `start-down-${randomUUID()}`
    // Its close does not wait for a store that never opened (shutdown's 10 min would time the test out).
    const laterEnv = envFor('start_down')
    const closed = await buildServer(loadConfig({ env: laterEnv }), { shutdownTimeoutMs: 600_000 })
    const closedUrl = await closed.listen({ host: '127.0.0.1', port: 0 })
    const kept = `start-down-kept-${randomUUID()}`
    try {
      for (let i = 0; i < 5; i++) expect(await send(url, marker, 20)).toBe(200)
      expect(await send(closedUrl, kept, 20)).toBe(200)
      await closed.close()

      const ready = await fetch(`${url}/readyz`)
      const body = (await ready.json()) as { status: string; checks: { store: string; migrations: string }; lastInsertError: string | null }
      // No insert is tried before the migrations (the tables may not exist): none has failed.
      expect({ status: ready.status, state: body.status, store: body.checks.store, migrations: body.checks.migrations, insertError: body.lastInsertError }).toEqual({
        status: 200,
        state: 'degraded',
        store: 'unreachable',
        migrations: 'pending',
        insertError: null,
      })
      expect((await fetch(`${url}/readyz?strict=1`)).status).toBe(503)
      const read = await fetch(`${url}/api/v1/traces?limit=1`, { headers: bearer(KEYS.acme) })
      expect({ status: read.status, code: ((await read.json()) as { error: { code: string } }).error.code, retryAfter: read.headers.get('retry-after') }).toEqual({
        status: 503,
        code: 'SPANLENS_STORE_UNREACHABLE',
        retryAfter: '5',
      })
      // The warning names the address it could not reach.
      expect(warnings.join('')).toContain(`${engine.httpUrl.replace(/\/$/, '')}/`)
      // A console polling meanwhile: its 503s are one warning, without a stack, not an error each.
      for (let i = 0; i < 3; i++) expect((await fetch(`${url}/api/v1/traces?limit=1`, { headers: bearer(KEYS.acme) })).status).toBe(503)
      const logged = warnings.flatMap((w) => w.split('\n')).filter(Boolean).map((l) => JSON.parse(l) as { level: number; msg: string; code?: string; err?: unknown })
      expect(logged.filter((l) => l.msg.includes('query routes answer 503')).map((l) => [l.level, l.code, l.err])).toEqual([[40, 'SPANLENS_STORE_UNREACHABLE', undefined]])
      expect(logged.filter((l) => l.level >= 50)).toEqual([])
    } finally {
      await engine.restart()
    }
    await app.spanlens.flush()
    expect(await stored(app, marker)).toEqual({ n: 100, u: 100 })
    const after = await fetch(`${url}/readyz`)
    const afterBody = (await after.json()) as { status: string; checks: { store: string; migrations: string }; deadLetters: { rows: number } }
    expect({ status: after.status, state: afterBody.status, migrations: afterBody.checks.migrations, dead: afterBody.deadLetters.rows }).toEqual({
      status: 200,
      state: 'ready',
      migrations: 'ok',
      dead: 0,
    })
    expect((await fetch(`${url}/api/v1/traces?limit=1`, { headers: bearer(KEYS.acme) })).status).toBe(200)

    const restarted = await buildServer(loadConfig({ env: laterEnv }))
    cleanups.push(() => restarted.close())
    await restarted.spanlens.flush()
    expect(await stored(restarted, kept)).toEqual({ n: 20, u: 20 })
  }, 60_000)
})
