import { spawnSync } from 'node:child_process'
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadConfig } from '../src/config/load.js'
import { createStore, loadMigrations, migrate, renderMigrations, type Store } from '../src/store/index.js'
import { reloadAlteredViews } from '../src/store/migrate.js'
import { recentDay, tempDir } from './helpers/tmp.js'

// Inside the store's retention whatever day the test runs (helpers/tmp.ts).
const DAY = recentDay()

const tmp = tempDir()
afterAll(() => tmp.cleanup())
const configFor = (dataDir: string, extra: Record<string, string> = {}) =>
  loadConfig({ env: { SPANLENS_DATA_DIR: dataDir, ...extra } }).store

async function rows<T>(store: Store, query: string, params: Record<string, unknown> = {}): Promise<T[]> {
  const rs = await store.client.query({ query, query_params: params, format: 'JSONEachRow' })
  return rs.json<T>()
}

describe('embedded store and migrations', () => {
  let store: Store
  const dataDir = join(tmp.path, 'data')

  beforeAll(async () => {
    store = await createStore(configFor(dataDir))
  })
  afterAll(async () => {
    await store.close().catch(() => undefined)
  })

  it('migrates a fresh data directory and records every version', async () => {
    const result = await migrate(store)
    const files = loadMigrations().map((m) => m.file)
    expect(result.applied).toEqual(files)
    const recorded = await rows<{ file: string }>(store, 'SELECT file FROM schema_migrations ORDER BY version')
    expect(recorded.map((r) => r.file)).toEqual(files)
    const tables = await rows<{ name: string }>(
      store,
      "SELECT name FROM system.tables WHERE database = currentDatabase() ORDER BY name",
    )
    expect(tables.map((t) => t.name)).toEqual(
      expect.arrayContaining(['analyst_logs', 'analyst_metrics', 'logs', 'metrics', 'schema_migrations', 'scores', 'span_content', 'spans', 'spans_minute', 'spans_minute_mv', 'trace_hours', 'trace_hours_mv']),
    )
  })

  it('re-running migrations is a no-op', async () => {
    const result = await migrate(store)
    expect(result.applied).toEqual([])
    expect(result.alreadyApplied).toBe(loadMigrations().length)
    const [count] = await rows<{ c: string }>(store, 'SELECT count() AS c FROM schema_migrations')
    expect(Number(count?.c)).toBe(loadMigrations().length)
  })

  it.runIf(process.platform === 'linux')('runs embedded ClickHouse threads at SPANLENS_EMBEDDED_NICE, and never the event loop or libuv', async () => {
    // The store was opened with the default (10); the rescan picks up threads started by later work.
    await rows(store, 'SELECT sum(number) FROM numbers_mt(10000000)')
    await new Promise((r) => setTimeout(r, 1200))
    const threads = readdirSync('/proc/self/task').map((tid) => {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8')
      // Fields after the parenthesised name; nice is field 19.
      const nice = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16])
      return { tid: Number(tid), name: readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim(), nice }
    })
    // The main thread's name follows process.title; it is never lowered.
    const clickhouse = threads.filter((t) => t.name !== 'node' && t.tid !== process.pid)
    expect(clickhouse.length).toBeGreaterThan(3)
    expect(clickhouse.filter((t) => t.nice !== 10)).toEqual([])
    expect(threads.find((t) => t.tid === process.pid)?.nice).toBe(0)
    expect(threads.filter((t) => t.name === 'node' && t.nice !== 0)).toEqual([])
  })

  it('collapses a re-delivered span to one row', async () => {
    const span = {
      project_id: 'dup',
      trace_id: 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa',
      span_id: 'bbbbbbbbbbbbbbbb',
      start_time: `${DAY} 11:00:00.000000000`,
      end_time: `${DAY} 11:00:00.100000000`,
      duration_ms: 100,
      status_code: 'ok',
    }
    await store.client.insert({ table: 'spans', values: [span], format: 'JSONEachRow' })
    await store.client.insert({ table: 'spans', values: [span], format: 'JSONEachRow' })
    const [r] = await rows<{ c: string }>(store, "SELECT count() AS c FROM spans FINAL WHERE project_id = 'dup'")
    expect(Number(r?.c)).toBe(1)
  })

  it('deduplicates a replayed insert by token, and the token does not leak into later inserts', async () => {
    const mk = (id: string) => ({
      project_id: 'tok',
      trace_id: 'cccccccccccccccccccccccccccccccc',
      span_id: id,
      start_time: `${DAY} 12:00:00.000000000`,
      end_time: `${DAY} 12:00:00.000000000`,
      status_code: 'ok',
    })
    const settings = { insert_deduplication_token: 'segment-1:batch-1' }
    await store.client.insert({ table: 'spans', values: [mk('1000000000000001')], format: 'JSONEachRow', clickhouse_settings: settings })
    await store.client.insert({ table: 'spans', values: [mk('1000000000000001')], format: 'JSONEachRow', clickhouse_settings: settings })
    // A different batch without a token must land even though its content differs
    // only by span id: chDB would otherwise keep the previous SET token session-wide.
    await store.client.insert({ table: 'spans', values: [mk('1000000000000002')], format: 'JSONEachRow' })
    await store.client.insert({ table: 'spans', values: [mk('1000000000000003')], format: 'JSONEachRow' })
    const [r] = await rows<{ c: string }>(store, "SELECT count() AS c FROM spans WHERE project_id = 'tok'")
    expect(Number(r?.c)).toBe(3)
    const [s] = await rows<{ v: string }>(store, "SELECT getSetting('insert_deduplication_token') AS v")
    expect(s?.v).toBe('')
  })

  it('fills the per-minute rollup from inserted spans', async () => {
    const base = {
      project_id: 'roll',
      service_name: 'svc',
      request_model: 'gpt-4o-mini',
      kind: 'llm',
      operation: 'chat',
      start_time: `${DAY} 13:00:10.000000000`,
      end_time: `${DAY} 13:00:10.000000000`,
    }
    await store.client.insert({
      table: 'spans',
      values: [
        { ...base, trace_id: 't1', span_id: 's1', duration_ms: 100, status_code: 'ok', input_tokens: 10, cost_usd: 0.5, ttft_ms: 50 },
        { ...base, trace_id: 't2', span_id: 's2', duration_ms: 300, status_code: 'error', input_tokens: 5, cost_usd: null, ttft_ms: null },
      ],
      format: 'JSONEachRow',
    })
    const [r] = await rows<Record<string, number>>(
      store,
      `SELECT sum(calls) AS calls, sum(errors) AS errors, sum(input_tokens) AS tin, sum(cost_usd) AS cost,
              sum(cost_unknown) AS unknown, sum(ttft_count) AS ttft_n, max(duration_max_ms) AS dmax,
              quantilesTDigestMerge(0.5, 0.9, 0.95, 0.99)(ttft_q)[1] AS ttft_p50
       FROM spans_minute WHERE project_id = 'roll'`,
    )
    expect(r).toMatchObject({ calls: 2, errors: 1, tin: 15, cost: 0.5, unknown: 1, ttft_n: 1, dmax: 300 })
    expect(Number(r?.ttft_p50)).toBeCloseTo(50)
  })

  it('data survives closing and reopening the store', async () => {
    const span = (id: string) => ({ project_id: 'survives', trace_id: 'ab'.repeat(16), span_id: id, name: 'kept', start_time: `${DAY} 10:00:00`, end_time: `${DAY} 10:00:01` })
    await store.client.insert({ table: 'spans', values: [span('0000000000000001'), span('0000000000000002')], format: 'JSONEachRow' })
    await store.close()
    store = await createStore(configFor(dataDir))
    const [r] = await rows<{ c: string }>(store, "SELECT count() AS c FROM spans FINAL WHERE project_id = 'survives'")
    expect(Number(r?.c)).toBe(2)
    expect((await migrate(store)).applied).toEqual([])
  })

  it('applies SPANLENS_RETENTION_DAYS as a TTL and removes it with 0', async () => {
    await store.close()
    store = await createStore(configFor(dataDir, { SPANLENS_RETENTION_DAYS: '7' }))
    await migrate(store)
    const ttl = async () =>
      (await rows<{ e: string }>(store, "SELECT engine_full AS e FROM system.tables WHERE database = currentDatabase() AND name = 'spans'"))[0]?.e
    const held = (column: string, days: number) => `TTL toDateTime(least(${column} + toIntervalDay(${days}), toDateTime64('2106-02-07 00:00:00', 0, 'UTC')))`
    expect(await ttl()).toContain(held('start_time', 7))
    const metricsTtl = (await rows<{ e: string }>(store, "SELECT engine_full AS e FROM system.tables WHERE database = currentDatabase() AND name = 'metrics'"))[0]?.e
    expect(metricsTtl).toContain(held('time', 7))
    for (const [table, column] of [['logs', 'timestamp'], ['span_content', 'time'], ['scores', 'timestamp'], ['spans_minute', 'toDateTime64(minute, 0)'], ['trace_hours', 'toDateTime64(hour, 0)']] as const) {
      const e = (await rows<{ e: string }>(store, 'SELECT engine_full AS e FROM system.tables WHERE database = currentDatabase() AND name = {t:String}', { t: table }))[0]?.e
      expect(e, table).toContain(held(column, 7))
    }
    // A TTL of the earlier form, which wraps past 2106, is written again at start, its days unchanged.
    await store.client.command({ query: 'ALTER TABLE spans MODIFY TTL toDateTime(start_time) + toIntervalDay(7)', clickhouse_settings: { materialize_ttl_after_modify: 0 } })
    await migrate(store)
    expect(await ttl()).toContain(held('start_time', 7))
    await store.close()
    store = await createStore(configFor(dataDir, { SPANLENS_RETENTION_DAYS: '0' }))
    await migrate(store)
    expect(await ttl()).not.toMatch(/TTL/)
  })

  it('keeps today\'s spans under the longest retention it accepts (a TTL past 2106 once wrapped to 1990 and dropped every part)', async () => {
    await store.close()
    store = await createStore(configFor(dataDir, { SPANLENS_RETENTION_DAYS: '36500' }))
    await migrate(store)
    const now = new Date().toISOString().replace('T', ' ').replace('Z', '')
    const span = (id: string) => ({ project_id: 'century', trace_id: 'cd'.repeat(16), span_id: id, name: 'kept', start_time: now, end_time: now })
    await store.client.insert({ table: 'spans', values: [span('0000000000000001'), span('0000000000000002')], format: 'JSONEachRow' })
    await store.client.command({ query: 'OPTIMIZE TABLE spans FINAL' })
    const [r] = await rows<{ c: string }>(store, "SELECT count() AS c FROM spans WHERE project_id = 'century'")
    expect(Number(r?.c)).toBe(2)
    await store.close()
    store = await createStore(configFor(dataDir))
    await migrate(store)
  })

  it('a second process opening the same data directory gets a clear error', () => {
    const script = fileURLToPath(new URL('./helpers/open-store.ts', import.meta.url))
    const child = spawnSync(process.execPath, ['--conditions=@spanlens/source', '--import', 'tsx', script, dataDir], {
      encoding: 'utf8',
      timeout: 60_000,
    })
    expect(child.status, child.stderr).toBe(3)
    expect(child.stdout).toContain('SPANLENS_DATA_DIR_LOCKED')
    expect(child.stdout).toContain(dataDir)
  })
})

describe('remote store', () => {
  // No ClickHouse server can run here: this checks only what goes on the wire,
  // against a listener that records each request and answers like ClickHouse does to an insert.
  it('sends a spool segment as one HTTP insert: the file streamed as the body, the settings as parameters', async () => {
    const seen: Array<{ url: URL; body: string }> = []
    const server = createServer((req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => {
        seen.push({ url: new URL(req.url ?? '/', 'http://x'), body: Buffer.concat(chunks).toString() })
        res.writeHead(200, { 'x-clickhouse-summary': '{}' }).end()
      })
    })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    const dir = tempDir()
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
      const store = await createStore(loadConfig({ env: { SPANLENS_CLICKHOUSE_URL: url, SPANLENS_DATA_DIR: dir.path } }).store)
      const path = join(dir.path, 'segment.t2.seg')
      const body = 'a\tb\n'.repeat(100_000)
      writeFileSync(path, body)
      await store.insertFile({ table: 'spans', columns: ['project_id', 'name'], format: 'TabSeparated', path, settings: { insert_deduplication_token: 'spanlens:segment.t2.seg' } })
      await store.close()
      const insert = seen.find((r) => r.url.searchParams.get('query')?.startsWith('INSERT'))
      expect(insert?.url.searchParams.get('query')).toBe('INSERT INTO `spans` (`project_id`, `name`) FORMAT TabSeparated')
      expect(insert?.url.searchParams.get('insert_deduplication_token')).toBe('spanlens:segment.t2.seg')
      expect(insert?.url.searchParams.get('database')).toBe('spanlens')
      expect(insert?.body).toBe(body)
    } finally {
      server.close()
      dir.cleanup()
    }
  })
})

describe('failed migrations', () => {
  it('stop with the file name and ClickHouse message, and later files are not applied', async () => {
    const dir = tempDir()
    const migrations = join(dir.path, 'migrations')
    mkdirSync(migrations)
    writeFileSync(join(migrations, '001_ok.sql'), 'CREATE TABLE IF NOT EXISTS {{table t_ok}} (a UInt8) ENGINE = {{engine MergeTree}} ORDER BY a;')
    writeFileSync(join(migrations, '002_broken.sql'), 'CREATE TABLE t_bad (a NoSuchType) ENGINE = MergeTree ORDER BY a;')
    writeFileSync(join(migrations, '003_after.sql'), 'CREATE TABLE t_after (a UInt8) ENGINE = MergeTree ORDER BY a;')
    // The embedded engine is per process: reuse this file's store directory layout.
    const store = await createStore(configFor(join(tmp.path, 'data')))
    try {
      await store.client.command({ query: 'CREATE DATABASE IF NOT EXISTS mig_test' })
      const scoped: Store = { ...store, database: 'mig_test' }
      await store.client.command({ query: 'USE mig_test' })
      const err = await migrate(scoped, { dir: migrations }).catch((e: unknown) => e)
      expect(err).toMatchObject({ code: 'SPANLENS_MIGRATION_FAILED' })
      expect((err as Error).message).toContain('002_broken.sql')
      expect((err as Error).message).toMatch(/NoSuchType|Unknown data type/i)
      const tables = await rows<{ name: string }>(store, "SELECT name FROM system.tables WHERE database = 'mig_test'")
      expect(tables.map((t) => t.name)).toContain('t_ok')
      expect(tables.map((t) => t.name)).not.toContain('t_after')
    } finally {
      await store.close()
      dir.cleanup()
    }
  })
})

describe('cluster DDL', () => {
  it('renders every migration as ON CLUSTER, Replicated engines and Distributed tables that ClickHouse parses', async () => {
    const ctx = { database: 'spanlens', cluster: 'prod' }
    // With the renames the runner adds after a migration that alters a view's query (migrate.ts).
    const statements = renderMigrations(loadMigrations().map((m) => m.sql), ctx).flatMap((m) => [...m, ...reloadAlteredViews(m)])
    const all = statements.join('\n')
    expect(all).toContain('CREATE TABLE IF NOT EXISTS spans_local ON CLUSTER `prod`')
    expect(all).toContain("ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}', ingested_at)")
    expect(all).toContain('ENGINE = Distributed(`prod`, `spanlens`, spans_local, cityHash64(trace_id))')
    expect(all).toContain('ReplicatedAggregatingMergeTree(')
    expect(all).toContain('ENGINE = Distributed(`prod`, `spanlens`, metrics_local, series_id)')
    expect(all).toContain('TO spans_minute_local')
    expect(all).toContain('replicated_deduplication_window = 10000')
    // A Distributed table is re-derived from its local table after an ALTER, never altered by hand.
    expect(all).toContain('CREATE OR REPLACE TABLE spans ON CLUSTER `prod` AS spans_local ENGINE = Distributed(`prod`, `spanlens`, spans_local, cityHash64(trace_id))')
    expect(all).not.toMatch(/ALTER TABLE spans ON CLUSTER/)
    expect(all).not.toContain('{{')
    expect(all).toContain('RENAME TABLE spans_minute_mv TO spans_minute_mv_reload, spans_minute_mv_reload TO spans_minute_mv ON CLUSTER `prod`')
    // Rows a migration moves go through the Distributed tables: it runs once for every shard.
    expect(statements.filter((s) => s.startsWith('INSERT'))).toEqual([
      expect.stringMatching(/^INSERT INTO spans_minute\n[\s\S]*\nFROM spans AS s\n/),
      expect.stringMatching(/^INSERT INTO trace_hours\n[\s\S]*\nFROM spans\n/),
    ])
    expect(all).toContain('ENGINE = Distributed(`prod`, `spanlens`, trace_hours_local, cityHash64(trace_id))')
    expect(all).toContain('TO trace_hours_local')
    // ClickHouse's own parser (formatQuery) must accept each statement.
    const store = await createStore(configFor(join(tmp.path, 'data')))
    try {
      for (const stmt of statements) {
        const rs = await store.client.query({
          query: 'SELECT formatQuery({q:String}) AS f',
          query_params: { q: stmt },
          format: 'JSONEachRow',
        })
        const [r] = await rs.json<{ f: string }>()
        expect(r?.f, stmt).toMatch(/^(CREATE|ALTER|INSERT|RENAME)/)
      }
    } finally {
      await store.close()
    }
  })
})

describe('configuration', () => {
  it('a data directory that cannot be created fails with a clear error', async () => {
    const dir = tempDir()
    writeFileSync(join(dir.path, 'file'), 'x')
    try {
      const err = await createStore(configFor(join(dir.path, 'file', 'sub'))).catch((e: unknown) => e)
      expect(err).toMatchObject({ code: 'SPANLENS_DATA_DIR_UNUSABLE' })
    } finally {
      dir.cleanup()
    }
  })
})
