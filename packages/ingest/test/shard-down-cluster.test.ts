import { randomUUID } from 'node:crypto'
import { createServer, type Server } from 'node:net'
import { Writable } from 'node:stream'
import type { FastifyInstance } from 'fastify'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { loadConfig } from '../src/config/load.js'
import { buildServer } from '../src/server.js'
import { startTwoShardCluster, type TwoShardCluster } from './helpers/clickhouse-server.js'
import { jsonRequest } from './helpers/otlp.js'
import { API_KEYS, bearer, KEYS } from './helpers/server.js'
import { provided } from './helpers/store-mode.js'
import { tempDir } from './helpers/tmp.js'

/**
 * Runs in the `cluster` project: a shard of a two-shard cluster that is killed, or whose
 * native port cuts every connection mid-packet, and comes back. A cluster of its own (about
 * 3 s to start), since the project's nodes serve the other files meanwhile.
 */
if (provided()?.mode !== 'cluster') throw new Error('shard-down-cluster.test.ts runs in the cluster vitest project')

let cluster: TwoShardCluster
let app: FastifyInstance
let url: string
const dirs: Array<ReturnType<typeof tempDir>> = []

function clusterEnv(extra: Record<string, string> = {}): Record<string, string> {
  const dir = tempDir()
  dirs.push(dir)
  return {
    SPANLENS_DATA_DIR: dir.path,
    SPANLENS_API_KEYS: API_KEYS,
    SPANLENS_LOG_LEVEL: 'silent',
    SPANLENS_CLICKHOUSE_URL: cluster.nodes[0].httpUrl,
    SPANLENS_CLICKHOUSE_CLUSTER: cluster.cluster,
    SPANLENS_CLICKHOUSE_NODES: cluster.nodes.map((n) => n.httpUrl).join(','),
    SPANLENS_CLICKHOUSE_DATABASE: `shard_down_${dirs.length}`,
    SPANLENS_BATCH_MAX_AGE_MS: '20',
    ...extra,
  }
}

beforeAll(async () => {
  cluster = await startTwoShardCluster()
  app = await buildServer(loadConfig({ env: clusterEnv() }))
  url = await app.listen({ host: '127.0.0.1', port: 0 })
}, 60_000)

afterAll(async () => {
  await app?.close()
  await cluster?.stop()
  for (const d of dirs) d.cleanup()
})

const shard2 = () => cluster.nodes[1]

async function killShard2(): Promise<void> {
  const node = shard2()
  process.kill(node.pid, 'SIGKILL')
  await node.exited
}

async function send(marker: string, n: number, to = url): Promise<number> {
  const res = await fetch(`${to}/v1/traces`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...bearer(KEYS.acme) },
    body: JSON.stringify(jsonRequest(Array.from({ length: n }, () => ({ name: marker })))),
  })
  await res.arrayBuffer()
  return res.status
}

interface Ready {
  status: string
  checks: { store: string; migrations: string }
  lastInsertError: string | null
  spool: { bytes: number }
  deadLetters: { rows: number }
}
const readyz = async (query = '', at = url): Promise<{ status: number; body: Ready }> => {
  const res = await fetch(`${at}/readyz${query}`)
  return { status: res.status, body: (await res.json()) as Ready }
}

async function stored(marker: string, on = app): Promise<{ n: number; u: number }> {
  const rs = await on.spanlens.store.client.query({
    query: 'SELECT count() AS n, uniqExact(trace_id, span_id) AS u FROM spans WHERE name = {m:String}',
    query_params: { m: marker },
    format: 'JSONEachRow',
  })
  const [row] = await rs.json<{ n: string; u: string }>()
  return { n: Number(row?.n), u: Number(row?.u) }
}

describe('a shard down', () => {
  it('is a 200 for OTLP, spooled and stored once when it returns; /readyz says degraded, and the query routes answer 503 SPANLENS_STORE_UNREACHABLE meanwhile; a server started meanwhile takes data and migrates when it returns', async () => {
    const marker = `down-${randomUUID()}`
    const startedMarker = `down-started-${randomUUID()}`
    const warnings: string[] = []
    let started: FastifyInstance | undefined
    let startedUrl = ''
    await killShard2()
    try {
      for (let i = 0; i < 5; i++) expect(await send(marker, 20)).toBe(200)
      await vi.waitFor(async () => expect((await readyz()).body.lastInsertError).toMatch(/NETWORK_ERROR/), { timeout: 10_000, interval: 100 })

      // The node Spanlens asks answers its own /ping; every insert, and most reads, need both shards.
      // Every server still takes data into its spool: ready for OTLP (degraded), not for ?strict=1.
      const ready = await readyz()
      expect({ status: ready.status, state: ready.body.status, store: ready.body.checks.store }).toEqual({ status: 200, state: 'degraded', store: 'unreachable' })
      expect(ready.body.spool.bytes).toBeGreaterThan(0)
      expect((await readyz('?strict=1')).status).toBe(503)

      for (const [method, path, body] of [
        ['GET', '/api/v1/traces?limit=5', undefined],
        ['GET', '/api/v1/summary', undefined],
        ['POST', '/api/v1/sql', { query: 'SELECT count() FROM spans' }],
      ] as const) {
        const res = await fetch(`${url}${path}`, {
          method,
          headers: { ...bearer(KEYS.acme), ...(body ? { 'content-type': 'application/json' } : {}) },
          ...(body ? { body: JSON.stringify(body) } : {}),
        })
        const error = ((await res.json()) as { error: { code: string; message: string } }).error
        expect({ path, status: res.status, code: error.code, retryAfter: res.headers.get('retry-after') }).toEqual({
          path,
          status: 503,
          code: 'SPANLENS_STORE_UNREACHABLE',
          retryAfter: '5',
        })
        expect(error.message).not.toContain(String(shard2().tcpPort))
      }

      // A server started meanwhile, on a database of its own, listens and spools; its log names the node it could not reach.
      const logger = pino({ level: 'warn' }, new Writable({ write: (chunk: Buffer, _enc, done) => (warnings.push(chunk.toString()), done()) }))
      started = await buildServer(loadConfig({ env: clusterEnv() }), { logger })
      startedUrl = await started.listen({ host: '127.0.0.1', port: 0 })
      for (let i = 0; i < 2; i++) expect(await send(startedMarker, 10, startedUrl)).toBe(200)
      const waiting = await readyz('', startedUrl)
      expect({ status: waiting.status, state: waiting.body.status, store: waiting.body.checks.store, migrations: waiting.body.checks.migrations }).toEqual({
        status: 200,
        state: 'degraded',
        store: 'unreachable',
        migrations: 'pending',
      })
      const read = await fetch(`${startedUrl}/api/v1/traces?limit=5`, { headers: bearer(KEYS.acme) })
      expect({ status: read.status, code: ((await read.json()) as { error: { code: string } }).error.code }).toEqual({ status: 503, code: 'SPANLENS_STORE_UNREACHABLE' })
      expect(warnings.join('')).toContain(shard2().httpUrl)
    } finally {
      await shard2().restart()
    }
    try {
      await started?.spanlens.flush()
      expect(await stored(startedMarker, started)).toEqual({ n: 20, u: 20 })
      const opened = await readyz('', startedUrl)
      expect({ status: opened.status, state: opened.body.status, migrations: opened.body.checks.migrations }).toEqual({ status: 200, state: 'ready', migrations: 'ok' })
    } finally {
      await started?.close()
    }
    await app.spanlens.flush()
    expect(await stored(marker)).toEqual({ n: 100, u: 100 })
    const after = await readyz()
    expect({ status: after.status, store: after.body.checks.store, dead: after.body.deadLetters.rows }).toEqual({ status: 200, store: 'ok', dead: 0 })
    expect((await fetch(`${url}/api/v1/traces?limit=5`, { headers: bearer(KEYS.acme) })).status).toBe(200)
  }, 60_000)

  it("whose port cuts each connection mid-packet fails inserts as the cluster's failure: no acknowledged span is dead-lettered, each is stored once when it returns", async () => {
    const marker = `cut-${randomUUID()}`
    await killShard2()
    // What the node that took the insert meets when a shard dies while it sends, made
    // repeatable: the Hello packet's first byte, then the end of the connection.
    const cutter: Server = createServer((socket) => socket.once('data', () => socket.end(Buffer.from([0, 5, 0x43]))))
    await new Promise<void>((resolve) => cutter.listen(shard2().tcpPort, '127.0.0.1', resolve))
    try {
      for (let i = 0; i < 3; i++) expect(await send(marker, 4)).toBe(200)
      // Either outcome shows: the failure retried, or (before the fix) the rows isolated into dead letters.
      await vi.waitFor(
        async () => {
          const r = (await readyz()).body
          expect(r.deadLetters.rows > 0 || /CANNOT_READ_ALL_DATA/.test(r.lastInsertError ?? '')).toBe(true)
        },
        { timeout: 10_000, interval: 100 },
      )
      const during = (await readyz()).body
      expect({ dead: during.deadLetters.rows, error: during.lastInsertError }).toEqual({ dead: 0, error: expect.stringMatching(/CANNOT_READ_ALL_DATA/) })
      // A read meets the cut as `Cannot read all data … While executing Remote`: the shard's, not the query's.
      const read = await fetch(`${url}/api/v1/traces?limit=5`, { headers: bearer(KEYS.acme) })
      expect({ status: read.status, code: ((await read.json()) as { error: { code: string } }).error.code }).toEqual({ status: 503, code: 'SPANLENS_STORE_UNREACHABLE' })
    } finally {
      await new Promise((resolve) => cutter.close(resolve))
      await shard2().restart()
    }
    await app.spanlens.flush()
    expect(await stored(marker)).toEqual({ n: 12, u: 12 })
    expect((await readyz()).body.deadLetters.rows).toBe(0)
  }, 60_000)

  it('that hangs (SIGSTOP) fails a query route in seconds with 503 SPANLENS_STORE_UNREACHABLE, before the request timeout, and /readyz says so', async () => {
    // A second server on the first one's database (migrated: it starts at once), with a 12 s
    // request timeout: ClickHouse's default shard handshake, 10 s a try, 3 tries, outlasted it,
    // and the reply was the client's timeout. Now the shard's failure comes first (3 × 2 s).
    const second = await buildServer(loadConfig({ env: clusterEnv({ SPANLENS_CLICKHOUSE_DATABASE: 'shard_down_1', SPANLENS_CLICKHOUSE_REQUEST_TIMEOUT_MS: '12000' }) }))
    const secondUrl = await second.listen({ host: '127.0.0.1', port: 0 })
    process.kill(shard2().pid, 'SIGSTOP')
    try {
      const [read, ready] = await Promise.all([fetch(`${secondUrl}/api/v1/traces?limit=5`, { headers: bearer(KEYS.acme) }), readyz()])
      const error = ((await read.json()) as { error: { code: string; message: string } }).error
      expect({ status: read.status, code: error.code }).toEqual({ status: 503, code: 'SPANLENS_STORE_UNREACHABLE' })
      // ClickHouse's own report of the shard (a type such as ALL_CONNECTION_TRIES_FAILED), not the client's timeout.
      expect(error.message).not.toMatch(/TIMEOUT_MS/)
      expect(error.message).toMatch(/[A-Z_]{6,}/)
      expect({ status: ready.status, state: ready.body.status, store: ready.body.checks.store }).toEqual({ status: 200, state: 'degraded', store: 'unreachable' })
    } finally {
      process.kill(shard2().pid, 'SIGCONT')
      await second.close()
    }
  }, 60_000)
})
