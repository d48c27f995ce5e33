import { randomUUID } from 'node:crypto'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createClient, type ClickHouseClient } from '@clickhouse/client'
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadConfig } from '../src/config/load.js'
import { insertSettings } from '../src/pipeline/isolating-insert.js'
import { buildServer } from '../src/server.js'
import { createStore, loadMigrations, migrate, type Store } from '../src/store/index.js'
import { jsonRequest, llmAttrs } from './helpers/otlp.js'
import { API_KEYS, bearer, KEYS, startServer, type TestServer } from './helpers/server.js'
import { databaseFor, provided, storeEnv } from './helpers/store-mode.js'
import { removeTempDirs, tempDir } from './helpers/tmp.js'

/**
 * Runs in the `cluster` project only: two served engines as a two-shard cluster,
 * migrated node by node (SPANLENS_CLICKHOUSE_NODES). What a single server cannot
 * show: each node's own migration record, a Distributed table agreeing with its
 * local table, rows on both shards, and answers equal to an embedded store's.
 */
const ch = provided()
if (ch?.mode !== 'cluster' || !ch.nodes) throw new Error('store-cluster.test.ts runs in the cluster vitest project')
const nodeUrls = ch.nodes

// Recent (inside the 90-day retention), on an hour boundary, the same for both stores.
const T0 = Math.floor(Date.now() / 3_600_000) * 3_600_000 - 12 * 3_600_000

const clients: ClickHouseClient[] = []
function nodeClient(url: string, database: string): ClickHouseClient {
  const c = createClient({ url, username: ch?.username, password: ch?.password, database })
  clients.push(c)
  return c
}

async function all<T>(c: ClickHouseClient, query: string): Promise<T[]> {
  return (await c.query({ query, format: 'JSONEachRow' })).json<T>()
}

async function scalar(c: ClickHouseClient, query: string): Promise<number> {
  const [row] = await all<Record<string, unknown>>(c, query)
  return Number(Object.values(row ?? {})[0])
}

/** A store on a fresh database of the cluster, as the server would open it. */
async function clusterStore(extra: Record<string, string> = {}): Promise<{ store: Store; database: string; nodes: ClickHouseClient[] }> {
  const dir = tempDir()
  const database = databaseFor(dir.path)
  const store = await createStore(loadConfig({ env: { SPANLENS_DATA_DIR: dir.path, ...storeEnv(dir.path), ...extra } }).store)
  stores.push(store)
  return { store, database, nodes: nodeUrls.map((u) => nodeClient(u, database)) }
}

const stores: Store[] = []
afterAll(async () => {
  await Promise.all([...stores.map((s) => s.close()), ...clients.map((c) => c.close())])
  removeTempDirs()
})

describe('per-node migrations on a two-shard cluster', () => {
  it('migrate each node by itself: local tables without replication, Distributed tables over both, each node records every version; re-running applies nothing', async () => {
    const { store, nodes } = await clusterStore({ SPANLENS_RETENTION_DAYS: '7' })
    const files = loadMigrations().map((m) => m.file)
    expect((await migrate(store)).applied).toEqual(files)
    for (const node of nodes) {
      const recorded = await all<{ file: string }>(node, 'SELECT file FROM schema_migrations_local ORDER BY version')
      expect(recorded.map((r) => r.file)).toEqual(files)
      const tables = await all<{ name: string; engine: string }>(node, 'SELECT name, engine FROM system.tables WHERE database = currentDatabase()')
      const engine = new Map(tables.map((t) => [t.name, t.engine]))
      expect(engine.get('spans_local')).toBe('ReplacingMergeTree')
      expect(engine.get('spans')).toBe('Distributed')
      expect(engine.get('scores')).toBe('Distributed')
      expect(engine.get('spans_minute_mv')).toBe('MaterializedView')
      // SPANLENS_RETENTION_DAYS reached every node's local tables.
      const ttl = await all<{ engine_full: string }>(node, "SELECT engine_full FROM system.tables WHERE database = currentDatabase() AND name = 'spans_local'")
      expect(ttl[0]?.engine_full).toContain('toIntervalDay(7)')
    }
    expect((await migrate(store)).applied).toEqual([])
  })

  it('a migration that failed on node 2 is retried there and skipped on node 1', async () => {
    const { store, nodes } = await clusterStore()
    const dir = tempDir()
    const migrations = join(dir.path, 'migrations')
    mkdirSync(migrations)
    writeFileSync(join(migrations, '001_a.sql'), 'CREATE TABLE IF NOT EXISTS {{table a}} {{on_cluster}} (n UInt8) ENGINE = {{engine MergeTree}} ORDER BY n;\n{{distributed a rand()}};\n')
    // No IF NOT EXISTS: fails where `probe` already exists.
    writeFileSync(join(migrations, '002_probe.sql'), 'CREATE TABLE probe {{on_cluster}} (n UInt8) ENGINE = Memory;\n')
    const [node1, node2] = nodes as [ClickHouseClient, ClickHouseClient]
    await node2.command({ query: 'CREATE TABLE probe (x String) ENGINE = Memory' })
    await expect(migrate(store, { dir: migrations })).rejects.toMatchObject({ code: 'SPANLENS_MIGRATION_FAILED' })
    const versions = async (c: ClickHouseClient) => (await all<{ version: number }>(c, 'SELECT version FROM schema_migrations_local ORDER BY version')).map((r) => Number(r.version))
    expect(await versions(node1)).toEqual([1, 2])
    expect(await versions(node2)).toEqual([1])

    await node2.command({ query: 'DROP TABLE probe' })
    expect((await migrate(store, { dir: migrations })).applied).toEqual(['002_probe.sql'])
    expect(await versions(node1)).toEqual([1, 2])
    expect(await versions(node2)).toEqual([1, 2])
    // node 1 was not asked again: its probe is the one 002 created, still there once.
    expect(await scalar(node1, "SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'probe'")).toBe(1)
    dir.cleanup()
  })

  it('006 re-derives a Distributed spans that disagrees with spans_local (plain refusal, every insert refused with Code 44)', async () => {
    const { store, nodes } = await clusterStore()
    await migrate(store)
    // The state 005 left on clusters before: a plain column where the local one is MATERIALIZED.
    for (const node of nodes) {
      await node.command({ query: 'ALTER TABLE spans DROP COLUMN refusal' })
      await node.command({ query: 'ALTER TABLE spans ADD COLUMN refusal UInt8' })
      await node.command({ query: 'ALTER TABLE schema_migrations_local DELETE WHERE version = 6', clickhouse_settings: { mutations_sync: '1' } })
    }
    const at = new Date(T0).toISOString().slice(0, 19).replace('T', ' ')
    const row = { project_id: 'p', trace_id: 'f'.repeat(32), span_id: '1'.repeat(16), start_time: at, end_time: at }
    const insert = () => store.client.insert({ table: 'spans', values: [row], format: 'JSONEachRow' })
    await expect(insert()).rejects.toThrow(/MATERIALIZED/)

    expect((await migrate(store)).applied).toEqual(['006_distributed_columns.sql'])
    for (const node of nodes) {
      const [col] = await all<{ default_kind: string }>(node, "SELECT default_kind FROM system.columns WHERE database = currentDatabase() AND table = 'spans' AND name = 'refusal'")
      expect(col?.default_kind).toBe('MATERIALIZED')
    }
    await insert()
    expect(await scalar(store.client, 'SELECT count() FROM spans')).toBe(1)
  })
})

const hex = (n: number, bytes: number) => n.toString(16).padStart(bytes * 2, '0')

/** 120 traces of 3 spans over 4 services and 2 users, fixed ids and times, so two stores get the same spans. */
function workload(): Array<Record<string, unknown>> {
  const bodies: Array<Record<string, unknown>> = []
  for (let s = 0; s < 4; s++) {
    const spans = []
    for (let t = 0; t < 30; t++) {
      const trace = s * 100 + t + 1
      const start = BigInt(T0 + trace * 60_000) * 1_000_000n
      for (let k = 0; k < 3; k++) {
        spans.push({
          traceId: hex(trace, 16),
          spanId: hex(trace * 10 + k, 8),
          ...(k > 0 ? { parentSpanId: hex(trace * 10, 8) } : {}),
          name: k === 0 ? 'agent' : 'chat',
          startTimeUnixNano: String(start + BigInt(k) * 1_000_000n),
          endTimeUnixNano: String(start + BigInt(k + 1) * 7_000_000n + BigInt(trace) * 1_000_000n),
          ...(k === 2 && t % 5 === 0 ? { status: { code: 2, message: 'boom' } } : {}),
          attributes: [
            ...(k > 0 ? llmAttrs(t % 2 ? 'gpt-4o' : 'gpt-4o-mini', 10 + t, 5 + k) : []),
            { key: 'user.id', value: { stringValue: `user-${t % 2}` } },
            { key: 'app.tier', value: { stringValue: t % 3 ? 'free' : 'pro' } },
          ],
        })
      }
    }
    bodies.push(jsonRequest(spans, `svc-${s}`))
  }
  return bodies
}

function roundFloats(v: unknown): unknown {
  if (typeof v === 'number' && !Number.isInteger(v)) return Number(v.toPrecision(12))
  if (Array.isArray(v)) return v.map(roundFloats)
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, roundFloats(x)]))
  return v
}

describe('Spanlens on a two-shard cluster answers as on one embedded store', () => {
  let cluster: TestServer
  let embedded: FastifyInstance
  let embeddedUrl: string
  const embeddedDir = tempDir()

  beforeAll(async () => {
    cluster = await startServer()
    // Embedded in this same process: the cluster file opens no other chDB directory.
    embedded = await buildServer(
      loadConfig({ env: { SPANLENS_DATA_DIR: embeddedDir.path, SPANLENS_API_KEYS: API_KEYS, SPANLENS_LOG_LEVEL: 'silent', SPANLENS_PORT: '0' } }),
    )
    embeddedUrl = await embedded.listen({ host: '127.0.0.1', port: 0 })
    for (const body of workload()) {
      for (const url of [cluster.url, embeddedUrl]) {
        const res = await fetch(`${url}/v1/traces`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...bearer(KEYS.acme) },
          body: JSON.stringify(body),
        })
        expect(res.status).toBe(200)
      }
    }
    await cluster.app.spanlens.flush()
    await embedded.spanlens.flush()
  }, 120_000)

  afterAll(async () => {
    await cluster?.close()
    await embedded?.close()
    embeddedDir.cleanup()
  })

  it('the spans are on both shards, once each', async () => {
    const database = cluster.app.spanlens.store.database
    const local = await Promise.all(nodeUrls.map((u) => scalar(nodeClient(u, database), 'SELECT count() FROM spans_local')))
    expect(local.every((n) => n > 0)).toBe(true)
    expect(local.reduce((a, b) => a + b, 0)).toBe(360)
    expect(await scalar(cluster.app.spanlens.store.client, 'SELECT count() FROM spans')).toBe(360)
  })

  it.each([
    '/api/v1/traces?limit=500',
    '/api/v1/traces?service=svc-1&limit=500',
    '/api/v1/traces?userId=user-1&limit=500',
    '/api/v1/traces?attr.app.tier=pro&limit=500',
    '/api/v1/traces?status=error&limit=500',
    '/api/v1/spans?service=svc-2&limit=500',
    '/api/v1/summary?groupBy=model',
    '/api/v1/summary?groupBy=service',
    `/api/v1/traces/${hex(205, 16)}`,
  ])('GET %s equals the embedded answer (no double-distributed subquery refused)', async (path) => {
    // The listings and the summary over the data's hours; one trace is read by its id alone.
    const range = `from=${new Date(T0 - 3_600_000).toISOString()}&to=${new Date(T0 + 12 * 3_600_000).toISOString()}`
    const url = path.includes('?') ? `${path}&${range}` : path
    const [c, e] = await Promise.all([fetch(`${cluster.url}${url}`, { headers: bearer(KEYS.acme) }), fetch(`${embeddedUrl}${url}`, { headers: bearer(KEYS.acme) })])
    const [cb, eb] = [await c.json(), await e.json()]
    expect(c.status, JSON.stringify(cb)).toBe(200)
    expect(e.status).toBe(200)
    // Sums of floats depend on the order shards' partial sums are added in.
    expect(roundFloats(cb)).toEqual(roundFloats(eb))
  })

  it('aggregates over the Distributed tables equal the embedded ones', async () => {
    const sql = `SELECT count() AS n, uniqExact(trace_id) AS traces, sum(total_tokens) AS tokens, countIf(status_code = 'error') AS errors,
                   round(quantileExact(0.9)(duration_ms), 3) AS p90, sum(refusal) AS refused FROM spans FINAL WHERE project_id = 'acme'`
    const minute = "SELECT sum(calls) AS calls, sum(errors) AS errors, sum(total_tokens) AS tokens FROM spans_minute WHERE project_id = 'acme'"
    const traceIn = `SELECT count() AS n FROM spans WHERE project_id = 'acme' AND trace_id IN (SELECT trace_id FROM spans WHERE project_id = 'acme' AND status_code = 'error')`
    const embeddedStore = embedded.spanlens.store
    for (const q of [sql, minute, traceIn]) {
      expect(await all(cluster.app.spanlens.store.client, q), q).toEqual(await all(embeddedStore.client, q))
    }
    expect(await scalar(cluster.app.spanlens.store.client, traceIn)).toBe(72)
    // The defect the cluster client's distributed_product_mode = 'local' fixes.
    await expect(cluster.app.spanlens.store.client.query({ query: traceIn, clickhouse_settings: { distributed_product_mode: 'deny' } })).rejects.toThrow(
      /Double-distributed/,
    )
  })

  it('a replayed span insert is deduplicated on every shard, in spans and in the per-minute rollup', async () => {
    const store = cluster.app.spanlens.store
    const rows = Array.from({ length: 50 }, (_, i) => ({
      project_id: 'replay',
      trace_id: hex(10_000 + i, 16),
      span_id: hex(i + 1, 8),
      kind: 'llm',
      total_tokens: 3,
      start_time: new Date(T0).toISOString().slice(0, 19).replace('T', ' '),
      end_time: new Date(T0 + 1000).toISOString().slice(0, 19).replace('T', ' '),
    }))
    const settings = insertSettings(store, 'segment-000042')
    for (let i = 0; i < 2; i++) await store.client.insert({ table: 'spans', values: rows, format: 'JSONEachRow', clickhouse_settings: settings })
    const database = store.database
    const local = await Promise.all(nodeUrls.map((u) => scalar(nodeClient(u, database), "SELECT count() FROM spans_local WHERE project_id = 'replay'")))
    expect(local.every((n) => n > 0)).toBe(true)
    expect(local.reduce((a, b) => a + b, 0)).toBe(50)
    expect(await scalar(store.client, "SELECT sum(calls) FROM spans_minute WHERE project_id = 'replay'")).toBe(50)
  })

  it('a recorded score is on its shard when POST /scores answers', async () => {
    const traceId = hex(105, 16)
    // A name of this attempt's own: a retried attempt must not count the score of the one before.
    const name = `helpful-${randomUUID().slice(0, 8)}`
    const res = await fetch(`${cluster.url}/api/v1/scores`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...bearer(KEYS.acme) },
      body: JSON.stringify({ traceId, name, value: 1 }),
    })
    expect(res.status).toBeLessThan(300)
    const database = cluster.app.spanlens.store.database
    const local = await Promise.all(nodeUrls.map((u) => scalar(nodeClient(u, database), `SELECT count() FROM scores_local WHERE trace_id = '${traceId}' AND name = '${name}'`)))
    expect(local.reduce((a, b) => a + b, 0)).toBe(1)
    // On the shard of the trace's spans: a trace's scores and spans are joined shard by shard.
    const spansLocal = await Promise.all(nodeUrls.map((u) => scalar(nodeClient(u, database), `SELECT count() FROM spans_local WHERE trace_id = '${traceId}'`)))
    expect(local.map((n) => n > 0)).toEqual(spansLocal.map((n) => n > 0))
  })
})
