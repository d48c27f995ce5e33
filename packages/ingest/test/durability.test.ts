import { spawn } from 'node:child_process'
import fs, { constants, copyFileSync, existsSync, linkSync, mkdirSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs'
import { hostname } from 'node:os'
import { basename, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { open, type FileHandle } from 'node:fs/promises'
import { describe, expect, it, vi } from 'vitest'
import { loadConfig } from '../src/config/load.js'
import { buildServer } from '../src/server.js'
import { createStore, type Store } from '../src/store/index.js'
import { LEGACY_SPAN_COLUMNS } from '../src/pipeline/row-format.js'
import { SPANS } from '../src/pipeline/tables.js'
import { frame, HEADER_BYTES, segmentBody } from '../src/pipeline/segment-file.js'
import { checkSegment, indexEntry, SEAL_ENTRY } from '../src/pipeline/segment-index.js'
import { ackedUntilKilled, waitForOutput } from './helpers/crash.js'
import { startFaultProxy } from './helpers/fault-proxy.js'
import { withFaultyServer } from './helpers/faulty-store.js'
import { jsonRequest } from './helpers/otlp.js'
import { logsProtobuf } from './helpers/otlp-logs.js'
import { API_KEYS, bearer, KEYS, startServer } from './helpers/server.js'
import { provided, storeEnv, storeMode } from './helpers/store-mode.js'
import { CallGate } from '../src/store/call-gate.js'
import { seedMigratedStore } from './helpers/store-template.js'
import { tempDir } from './helpers/tmp.js'
import { Spool } from '../src/pipeline/spool.js'
import { parseProcStat } from '../src/pipeline/spool-lock.js'
import { BufferPool } from '../src/pipeline/buffer-pool.js'

/**
 * The parts about the store (crash, outage, lost replies, shutdown, spans stored as sent)
 * run against every store of the vitest projects; the rest involves no store, or only
 * the embedded one, and runs once, in the embedded project.
 */
const servedStore = storeMode() !== 'embedded'

/** A spool whose segments only seal when told to. */
const testSpool = (dir: string, fsync: 'always' | 'interval' | 'never' = 'always') =>
  new Spool({ dir, maxBytes: 1 << 20, fsync, segmentMaxRows: 1000, segmentMaxBytes: 1 << 20, segmentMaxAgeMs: 60_000, onSealed: () => {} })

const quietEnv = (dir: string, extra: Record<string, string> = {}) =>
  loadConfig({ env: { SPANLENS_DATA_DIR: dir, ...storeEnv(dir), SPANLENS_API_KEYS: API_KEYS, SPANLENS_LOG_LEVEL: 'silent', ...extra } })

const bin = fileURLToPath(new URL('../src/bin.ts', import.meta.url))

/** `spanlens serve` in its own process on `dir` and the project's store, and its URL once it listens. */
async function serve(dir: string, env: Record<string, string>) {
  const child = spawn(process.execPath, ['--conditions=@spanlens/source', '--import', 'tsx', bin, 'serve'], {
    env: { ...process.env, SPANLENS_DATA_DIR: dir, ...storeEnv(dir), SPANLENS_PORT: '0', SPANLENS_API_KEYS: API_KEYS, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  try {
    return { child, url: await waitForOutput(child, /"address":"(http:[^"]+)"/) }
  } catch (err) {
    child.kill('SIGKILL')
    throw err
  }
}

async function send(url: string, marker: string, n: number): Promise<{ status: number; ids: string[]; retryAfter: string | null }> {
  const req = jsonRequest(Array.from({ length: n }, () => ({ name: marker })))
  const ids = ((req.resourceSpans as Array<{ scopeSpans: Array<{ spans: Array<{ spanId: string }> }> }>)[0]?.scopeSpans[0]?.spans ?? []).map((s) => s.spanId)
  const res = await fetch(`${url}/v1/traces`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...bearer(KEYS.acme) },
    body: JSON.stringify(req),
  })
  await res.arrayBuffer()
  return { status: res.status, ids, retryAfter: res.headers.get('retry-after') }
}


async function count(store: Store, query: string): Promise<Record<string, number>> {
  const rs = await store.client.query({ query, format: 'JSONEachRow' })
  const [row] = await rs.json<Record<string, string>>()
  return Object.fromEntries(Object.entries(row ?? {}).map(([k, v]) => [k, Number(v)]))
}

describe.skipIf(servedStore)('backpressure', () => {
  it('answers 429 with Retry-After past SPANLENS_MAX_CONCURRENT_REQUESTS, and recovers', async () => {
    await withFaultyServer({ SPANLENS_MAX_CONCURRENT_REQUESTS: '2', SPANLENS_MAX_CONCURRENT_REQUESTS_PER_PROJECT: '2' }, async ({ url, app }) => {
      // Slow uploads hold their admission slots while the body trickles in; they
      // finish only once the third request has been answered, however slow the host.
      const { request } = await import('node:http')
      const finishers: Array<() => void> = []
      const slow = [0, 1].map(
        () =>
          new Promise<number>((resolve, reject) => {
            const req = request(`${url}/v1/traces`, {
              method: 'POST',
              headers: { 'content-type': 'application/json', ...bearer(KEYS.acme) },
            })
            req.on('response', (res) => {
              res.resume()
              resolve(res.statusCode ?? 0)
            })
            req.on('error', reject)
            req.write('{"resourceSpans":[')
            finishers.push(() => req.end(']}'))
          }),
      )
      for (let i = 0; i < 500 && app.spanlens.pipeline.inFlightRequests() < 2; i++) await new Promise((r) => setTimeout(r, 10))
      expect(app.spanlens.pipeline.inFlightRequests()).toBe(2)
      const refused = await send(url, 'busy', 5)
      expect(refused.status).toBe(429)
      expect(Number(refused.retryAfter)).toBeGreaterThan(0)
      for (const finish of finishers) finish()
      expect(await Promise.all(slow)).toEqual([200, 200])
      expect((await send(url, 'busy', 5)).status).toBe(200)
    })
  })
})

describe.skipIf(servedStore)('decode/normalize placement', () => {
  it('works the same on the event loop (SPANLENS_INGEST_WORKERS=0) as in worker threads', async () => {
    for (const workers of ['0', '2']) {
      await withFaultyServer({ SPANLENS_INGEST_WORKERS: workers }, async ({ url, store, app }) => {
        expect((await send(url, `placement-${workers}`, 25)).status).toBe(200)
        const bad = await fetch(`${url}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json', ...bearer(KEYS.acme) }, body: '{' })
        expect(bad.status).toBe(400)
        await app.spanlens.flush()
        expect(await count(store, `SELECT count() AS n FROM spans WHERE name = 'placement-${workers}'`)).toEqual({ n: 25 })
        // Log records without any time take the first arrival of their request, whichever worker prepares a retry.
        const timeless = logsProtobuf([{ body: `timeless-${workers}`, timeNs: '0' }])
        for (let i = 0; i < 4; i++) {
          const res = await fetch(`${url}/v1/logs`, { method: 'POST', headers: { 'content-type': 'application/x-protobuf', ...bearer(KEYS.acme) }, body: timeless })
          expect(res.status).toBe(200)
          await new Promise((r) => setTimeout(r, 5))
        }
        await app.spanlens.flush()
        expect(await count(store, `SELECT count() AS n FROM logs FINAL WHERE body = 'timeless-${workers}'`)).toEqual({ n: 1 })
      })
    }
  })
})

// What SIGTERM adds to app.close() is the CLI's own (the signal handler, the exit code): the
// flush into each store is 'graceful shutdown flushes what was acknowledged' below, which runs
// in every project, and the CLI on a served store is 'crash safety', which does too.
// Stores these tests start on are migrated already (seedMigratedStore) where migrating is not what
// they test: on a loaded host the migrations outlasted a server's first wait, and a shutdown in
// them kept the acknowledged spans in the spool rather than in the table the test reads.
describe.skipIf(servedStore)('graceful shutdown of the CLI server', () => {
  it('SIGTERM stops accepting, flushes acknowledged spans and exits 0', async () => {
    const dir = tempDir()
    seedMigratedStore(dir.path)
    try {
      const { child, url } = await serve(dir.path, { SPANLENS_BATCH_MAX_AGE_MS: '1000' })
      try {
        const r = await send(url, 'sigterm', 40)
        expect(r.status).toBe(200)
        const exited = new Promise<number | null>((res) => child.once('exit', (code) => res(code)))
        child.kill('SIGTERM')
        expect(await exited).toBe(0)
      } finally {
        if (child.exitCode === null) child.kill('SIGKILL')
      }
      const store = await createStore(quietEnv(dir.path).store)
      try {
        expect(await count(store, "SELECT count() AS n FROM spans WHERE name = 'sigterm'")).toEqual({ n: 40 })
      } finally {
        await store.close()
      }
    } finally {
      dir.cleanup()
    }
  }, 60_000)
})

describe('crash safety', () => {
  it('a server killed with SIGKILL while clients send keeps every acknowledged span, exactly once, after restart', async () => {
    const dir = tempDir()
    seedMigratedStore(dir.path)
    try {
      // Long batches so the kill lands with acknowledged rows still only in the spool.
      const { child, url } = await serve(dir.path, { SPANLENS_BATCH_MAX_AGE_MS: '1000', SPANLENS_BATCH_MAX_ROWS: '3000' })
      const acked = await ackedUntilKilled(child, url, { key: KEYS.acme, name: 'crash', clients: 4, spans: 50 })
      expect(acked.size).toBeGreaterThan(200)

      // Restart on the same data directory: the spool is replayed.
      const app = await buildServer(quietEnv(dir.path))
      try {
        await app.spanlens.flush()
        const rs = await app.spanlens.store.client.query({
          query: "SELECT span_id, count() AS n FROM spans WHERE project_id = 'acme' AND name = 'crash' GROUP BY span_id",
          format: 'JSONEachRow',
        })
        const stored = new Map((await rs.json<{ span_id: string; n: string }>()).map((r) => [r.span_id, Number(r.n)]))
        const missing = [...acked].filter((id) => !stored.has(id))
        expect(missing).toEqual([])
        // Raw rows, not FINAL: the replay itself must not have inserted anything twice. On a
        // cluster these are both shards' local rows, so a span on two shards counts twice too.
        const duplicated = [...stored.entries()].filter(([, n]) => n > 1)
        expect(duplicated).toEqual([])
        if (storeMode() === 'cluster') {
          expect(await count(app.spanlens.store, "SELECT uniqExact(_shard_num) AS shards FROM spans WHERE project_id = 'acme' AND name = 'crash'")).toEqual({ shards: 2 })
        }
      } finally {
        await app.close()
      }
    } finally {
      dir.cleanup()
    }
  }, 60_000)

  it('a segment inserted before a crash and replayed after it counts once in spans and in the rollup', async () => {
    // The crash between a segment's insert and its deletion, made by keeping a link to
    // each segment as it is inserted and putting them back before the restart. The first
    // server is the one that migrates a fresh store: ClickHouse named the rollup's view
    // differently in its inserts' deduplication tokens (store/migrate.ts, reloadAlteredViews).
    const dir = tempDir()
    const kept = join(dir.path, 'kept')
    mkdirSync(kept)
    const spoolDir = join(dir.path, 'spool')
    const rollup = "SELECT sum(calls) AS c FROM spans_minute WHERE project_id = 'acme' AND service_name = 'replayed-once'"
    const spans = "SELECT count() AS n FROM spans WHERE project_id = 'acme' AND service_name = 'replayed-once'"
    try {
      const config = quietEnv(dir.path, { SPANLENS_BATCH_MAX_AGE_MS: '50' })
      const store = await createStore(config.store)
      const insertFile = store.insertFile
      store.insertFile = (insert) => {
        for (const path of [insert.path, insert.path.replace(/seg$/, 'idx')]) linkSync(path, join(kept, basename(path)))
        return insertFile(insert)
      }
      const first = await buildServer(config, { store })
      try {
        const url = await first.listen({ host: '127.0.0.1', port: 0 })
        for (let i = 0; i < 3; i++) {
          const res = await fetch(`${url}/v1/traces`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', ...bearer(KEYS.acme) },
            body: JSON.stringify(jsonRequest(Array.from({ length: 40 }, () => ({})), 'replayed-once')),
          })
          expect(res.status).toBe(200)
          await res.arrayBuffer()
        }
        await first.spanlens.flush()
        expect(await count(store, spans)).toEqual({ n: 120 })
        expect(await count(store, rollup)).toEqual({ c: 120 })
      } finally {
        await first.close()
        await store.close()
      }
      expect(readdirSync(spoolDir).filter((f) => f.endsWith('.seg'))).toEqual([])
      for (const f of readdirSync(kept)) copyFileSync(join(kept, f), join(spoolDir, f))

      const second = await buildServer(quietEnv(dir.path))
      try {
        await second.spanlens.flush()
        expect(readdirSync(spoolDir).filter((f) => f.endsWith('.seg'))).toEqual([])
        // Raw rows, not FINAL: the replay inserted nothing, in either table.
        expect(await count(second.spanlens.store, spans)).toEqual({ n: 120 })
        expect(await count(second.spanlens.store, rollup)).toEqual({ c: 120 })
      } finally {
        await second.close()
      }
    } finally {
      dir.cleanup()
    }
  }, 60_000)
})

// Embedded, the faults are injected at the store seam (faulty-store.ts). A served store gets
// the same two, an outage and a lost reply, from the network itself (fault-proxy.ts), with
// @clickhouse/client's real errors. The spool quota and the batch growth involve the store
// only through that seam, so they run once, embedded.
describe('a failing store loses nothing', () => {
  it.skipIf(servedStore)('keeps accepting while ClickHouse is down, then inserts everything once it recovers', async () => {
    await withFaultyServer({ SPANLENS_BATCH_MAX_AGE_MS: '50' }, async ({ url, store, app }) => {
      store.fault = 'down'
      const acked: string[] = []
      for (let i = 0; i < 10; i++) {
        const r = await send(url, 'outage', 20)
        expect(r.status).toBe(200)
        acked.push(...r.ids)
      }
      // The inserts are tried and fail (not a fixed wait: a loaded host seals and tries later).
      await vi.waitFor(
        async () => {
          expect(store.attempts).toBeGreaterThan(0)
          const ready = (await (await fetch(`${url}/readyz`)).json()) as { lastInsertError: string | null; spool: { bytes: number } }
          expect(ready.lastInsertError).toMatch(/injected/)
          expect(ready.spool.bytes).toBeGreaterThan(0)
        },
        { timeout: 20_000, interval: 50 },
      )

      store.fault = 'ok'
      await app.spanlens.flush()
      const r = await count(store, "SELECT count() AS n, uniqExact(span_id) AS u FROM spans WHERE name = 'outage'")
      expect(r).toEqual({ n: acked.length, u: acked.length })
      expect(app.spanlens.pipeline.spool.bytes).toBe(0)
    })
  }, 60_000)

  it.skipIf(servedStore)('an insert that commits but whose reply is lost is retried without duplicating rows', async () => {
    await withFaultyServer({ SPANLENS_BATCH_MAX_AGE_MS: '50' }, async ({ url, store, app }) => {
      store.fault = 'commit-then-fail'
      const r = await send(url, 'lost-reply', 30)
      expect(r.status).toBe(200)
      // Its insert commits and loses its reply, at least once.
      await vi.waitFor(() => expect(store.insertedRows.length).toBeGreaterThanOrEqual(1), { timeout: 20_000, interval: 20 })
      store.fault = 'ok'
      await app.spanlens.flush()
      // Raw count: the retry carried the same insert_deduplication_token.
      expect(await count(store, "SELECT count() AS n FROM spans WHERE name = 'lost-reply'")).toEqual({ n: 30 })
      const rollup = "SELECT sum(calls) AS c FROM spans_minute WHERE project_id = 'acme' AND service_name = 'test-svc'"
      expect(await count(store, rollup)).toEqual({ c: 30 })
    })
  }, 60_000)

  it.skipIf(!servedStore)('over the network: a refused connection and lost insert replies are retried; every span is stored once, none dead-lettered', async () => {
    const ch = provided() as NonNullable<ReturnType<typeof provided>>
    const proxy = await startFaultProxy(ch.url)
    const s = await startServer({ SPANLENS_CLICKHOUSE_URL: proxy.url, SPANLENS_BATCH_MAX_AGE_MS: '50' })
    const ready = async () => (await (await fetch(`${s.url}/readyz`)).json()) as { checks: { store: string }; lastInsertError: string | null; deadLetters: { rows: number } }
    const stored = async () => (await s.rows<{ n: string; u: string }>("SELECT count() AS n, uniqExact(span_id) AS u FROM spans WHERE name = 'network'")).map((r) => [Number(r.n), Number(r.u)])[0]
    try {
      proxy.fault = 'refuse'
      const acked: string[] = []
      for (let i = 0; i < 5; i++) {
        const r = await send(s.url, 'network', 20)
        expect(r.status).toBe(200)
        acked.push(...r.ids)
      }
      await vi.waitFor(async () => expect((await ready()).lastInsertError).toMatch(/ECONNREFUSED/), { timeout: 10_000, interval: 100 })
      expect((await ready()).checks.store).toBe('unreachable')

      // ClickHouse commits an insert and answers it; Spanlens never hears, and retries it
      // (ahead of the segments behind it) with the same token, again and again.
      proxy.fault = 'lose-inserts'
      await vi.waitFor(() => expect(proxy.lostReplies).toBeGreaterThan(0), { timeout: 20_000, interval: 50 })
      const [committed] = (await stored()) as [number, number]
      expect(committed).toBeGreaterThan(0)
      const lost = proxy.lostReplies
      await vi.waitFor(() => expect(proxy.lostReplies).toBeGreaterThan(lost + 1), { timeout: 20_000, interval: 50 })
      const [n, unique] = (await stored()) as [number, number]
      expect(n).toBe(unique)

      proxy.fault = 'ok'
      await s.app.spanlens.flush()
      // Raw count: every retry was deduplicated, in spans and in the per-minute rollup.
      expect(await stored()).toEqual([acked.length, acked.length])
      expect(await count(s.app.spanlens.store, "SELECT sum(calls) AS c FROM spans_minute WHERE project_id = 'acme' AND service_name = 'test-svc'")).toEqual({ c: acked.length })
      const after = await ready()
      expect(after.deadLetters.rows).toBe(0)
      expect(s.app.spanlens.pipeline.spool.bytes).toBe(0)
    } finally {
      await s.close()
      await proxy.close()
    }
  }, 90_000)

  it.skipIf(servedStore)('answers 503 with Retry-After once the spool quota is reached, and accepts again after draining', async () => {
    // One project may fill the whole spool here: this is the server-wide quota (the per-project share: admission.test.ts).
    const env = { SPANLENS_BATCH_MAX_AGE_MS: '20', SPANLENS_SPOOL_MAX_BYTES: String(1024 * 1024), SPANLENS_SPOOL_PROJECT_SHARE: '1' }
    await withFaultyServer(env, async ({ url, store, app }) => {
      store.fault = 'down'
      const acked: string[] = []
      let refused: { status: number; retryAfter: string | null } | undefined
      for (let i = 0; i < 200 && !refused; i++) {
        const r = await send(url, 'quota', 100)
        if (r.status === 200) acked.push(...r.ids)
        else refused = r
      }
      expect(refused).toMatchObject({ status: 503 })
      expect(Number(refused?.retryAfter)).toBeGreaterThan(0)
      expect((await fetch(`${url}/readyz`)).status).toBe(503)
      const metrics = await (await fetch(`${url}/metrics`)).text()
      expect(metrics).toMatch(/spanlens_ingest_backpressure_responses_total\{status="503"\} [1-9]/)

      store.fault = 'ok'
      await app.spanlens.flush()
      expect((await send(url, 'quota', 10)).status).toBe(200)
      await app.spanlens.flush()
      expect(await count(store, "SELECT uniqExact(span_id) AS u FROM spans WHERE name = 'quota'")).toEqual({ u: acked.length + 10 })
    })
  }, 60_000)

  it.skipIf(servedStore)('while inserts are behind, the open batch grows past its age instead of queueing many small inserts', async () => {
    await withFaultyServer({ SPANLENS_BATCH_MAX_AGE_MS: '50' }, async ({ url, store, app }) => {
      store.delayMs = 700
      expect((await send(url, 'adaptive', 10)).status).toBe(200)
      await new Promise((r) => setTimeout(r, 120)) // the first batch is sealed and its slow insert starts
      for (let i = 0; i < 8; i++) {
        expect((await send(url, 'adaptive', 10)).status).toBe(200)
        await new Promise((r) => setTimeout(r, 60)) // each request lands after the previous batch's age
      }
      store.delayMs = 0
      await app.spanlens.flush()
      expect(await count(store, "SELECT count() AS n FROM spans WHERE name = 'adaptive'")).toEqual({ n: 90 })
      // Sealed at every 50 ms age this would be about nine inserts.
      expect(store.insertedRows.length).toBeLessThanOrEqual(3)
      expect(store.insertedRows.reduce((a, b) => a + b, 0)).toBe(90)
    })
  }, 60_000)

  it('graceful shutdown flushes what was acknowledged', async () => {
    const dir = tempDir()
    seedMigratedStore(dir.path)
    const config = quietEnv(dir.path, { SPANLENS_BATCH_MAX_AGE_MS: '1000' })
    const app = await buildServer(config)
    const url = await app.listen({ host: '127.0.0.1', port: 0 })
    const r = await send(url, 'shutdown', 25)
    expect(r.status).toBe(200)
    await app.close()
    const store = await createStore(config.store)
    try {
      const rs = await store.client.query({ query: "SELECT count() AS n FROM spans WHERE name = 'shutdown'", format: 'JSONEachRow' })
      expect(Number((await rs.json<{ n: string }>())[0]?.n)).toBe(25)
    } finally {
      await store.close()
      dir.cleanup()
    }
  })
})

describe('spool format upgrades', () => {
  it('replays a segment left in the previous row format and sets aside one in a format it does not know', async () => {
    const dir = tempDir()
    seedMigratedStore(dir.path)
    const spoolDir = join(dir.path, 'spool')
    mkdirSync(spoolDir, { recursive: true })
    // What the previous version (JSONCompactEachRow, tag c1) spooled and acknowledged before it stopped.
    // (Recent times: rows older than the retention TTL would be dropped at insert.)
    const start = Math.floor(Date.now() / 1000) - 60
    const row = (spanId: string) =>
      JSON.stringify(
        LEGACY_SPAN_COLUMNS.map((c) =>
          ({ project_id: 'acme', trace_id: 'ab'.repeat(16), span_id: spanId, name: 'legacy-spool', kind: 'llm', start_time: `${start}.000000000`, end_time: `${start}.250000000`, duration_ms: 250, status_code: 'ok', input: 'say "hi"\n', tags: [], attributes: { k: 'v' }, resource_attributes: {}, 'events.time': [], 'events.name': [], 'events.attributes': [], 'links.trace_id': [], 'links.span_id': [], 'links.attributes': [], embedding: [] } as Record<string, unknown>)[c] ?? (c.endsWith('tokens') ? 0 : c === 'cost_usd' || c === 'ttft_ms' ? null : ''),
        ),
      )
    const payload = Buffer.from(`${row('1000000000000001')}\n${row('1000000000000002')}\n`)
    writeFileSync(join(spoolDir, '00001767225600000-1-000000.c1.seg'), Buffer.concat([frame(payload, 2), payload]))
    writeFileSync(join(spoolDir, '00001767225600001-1-000001.zz.seg'), Buffer.concat([frame(payload, 2), payload]))

    const app = await buildServer(quietEnv(dir.path))
    try {
      await app.spanlens.flush()
      const rs = await app.spanlens.store.client.query({ query: "SELECT span_id, input, attributes['k'] AS k FROM spans WHERE name = 'legacy-spool' ORDER BY span_id", format: 'JSONEachRow' })
      expect(await rs.json()).toEqual([
        { span_id: '1000000000000001', input: 'say "hi"\n', k: 'v' },
        { span_id: '1000000000000002', input: 'say "hi"\n', k: 'v' },
      ])
      expect(readdirSync(spoolDir).filter((f) => f.endsWith('.seg'))).toEqual([])
      expect(readdirSync(join(spoolDir, 'dead'))).toEqual(['00001767225600001-1-000001.zz.seg'])
    } finally {
      await app.close()
      dir.cleanup()
    }
  })

  it('inserts a segment with the columns its first line names, and sets aside one for a table it does not write', async () => {
    const dir = tempDir()
    seedMigratedStore(dir.path)
    const spoolDir = join(dir.path, 'spool')
    mkdirSync(spoolDir, { recursive: true })
    // An older version's insert list (fewer columns, another order): read by name, the rest take their defaults.
    const start = Math.floor(Date.now() / 1000) - 60
    const columns = ['span_id', 'project_id', 'trace_id', 'name', 'start_time', 'end_time', 'input']
    const line = (spanId: string) => [spanId, 'acme', 'cd'.repeat(16), 'older-columns', `${start}.000000000`, `${start}.5`, 'a\\tb'].join('\t')
    const rows = Buffer.from(`${line('2000000000000001')}\n${line('2000000000000002')}\n`)
    const seg = join(spoolDir, '00001767225600000-1-000000.spans.t3.seg')
    writeFileSync(seg, Buffer.concat([Buffer.from(`${columns.join('\t')}\n`), rows]))
    writeFileSync(seg.replace(/seg$/, 'idx'), indexEntry(rows, 2))
    writeFileSync(join(spoolDir, '00001767225600001-1-000001.someday.t3.seg'), Buffer.concat([Buffer.from('a\n'), Buffer.from('1\n')]))
    const app = await buildServer(quietEnv(dir.path))
    try {
      await app.spanlens.flush()
      const rs = await app.spanlens.store.client.query({
        query: "SELECT span_id, input, kind, duration_ms FROM spans WHERE name = 'older-columns' ORDER BY span_id",
        format: 'JSONEachRow',
      })
      expect(await rs.json()).toEqual([
        { span_id: '2000000000000001', input: 'a\tb', kind: '', duration_ms: 0 },
        { span_id: '2000000000000002', input: 'a\tb', kind: '', duration_ms: 0 },
      ])
      expect(readdirSync(spoolDir).filter((f) => f.endsWith('.seg'))).toEqual([])
      expect(readdirSync(join(spoolDir, 'dead'))).toEqual(['00001767225600001-1-000001.someday.t3.seg'])
    } finally {
      await app.close()
      dir.cleanup()
    }
  })
})

describe.skipIf(servedStore)('plain spool segments (rows in the file, headers in an index)', () => {
  const records = [Buffer.from('a\t1\nb\t2\n'), Buffer.from('c\t3\n'), Buffer.from('d\t4\ne\t5\nf\t6\n')]
  const rowsOf = (p: Buffer) => p.toString().split('\n').length - 1
  const data = Buffer.concat(records)
  const index = Buffer.concat(records.map((p) => indexEntry(p, rowsOf(p))))

  /** What a check keeps and drops, in numbers. */
  const summary = (c: ReturnType<typeof checkSegment>) => ({ rows: c.rows, kept: c.kept.length, unindexedRows: c.unindexed?.rows ?? 0, sealed: c.sealed, tornRecords: c.tornRecords, lost: c.lost })
  const sealedIndex = Buffer.concat([index, SEAL_ENTRY])

  it('keeps every intact record', () => {
    expect(summary(checkSegment(data, index))).toEqual({ rows: 6, kept: 3, unindexedRows: 0, sealed: false, tornRecords: 0, lost: { records: 0, rows: 0 } })
    expect(summary(checkSegment(data, sealedIndex))).toEqual({ rows: 6, kept: 3, unindexedRows: 0, sealed: true, tornRecords: 0, lost: { records: 0, rows: 0 } })
  })

  it('cuts a torn last write of a segment that was not sealed: its entry was written, its rows only in part', () => {
    // Cut at a line end too: complete lines of an unacknowledged record must not be replayed.
    for (const cut of [3, 5]) {
      const torn = data.subarray(0, data.length - cut)
      expect(summary(checkSegment(torn, index))).toEqual({ rows: 3, kept: 2, unindexedRows: 0, sealed: false, tornRecords: 1, lost: { records: 0, rows: 0 } })
    }
    // A group commit writes the entries of all its requests, then their rows, and answers them
    // once all are written: every record of it may be missing.
    const beforeGroup = data.subarray(0, records[0]!.length + 2)
    expect(summary(checkSegment(beforeGroup, index))).toMatchObject({ rows: 2, kept: 1, tornRecords: 2, lost: { records: 0, rows: 0 } })
  })

  it('a sealed segment missing its last rows (truncated) lost them: acknowledged, not torn', () => {
    const truncated = data.subarray(0, data.length - 5)
    expect(summary(checkSegment(truncated, sealedIndex))).toEqual({ rows: 3, kept: 2, unindexedRows: 0, sealed: true, tornRecords: 0, lost: { records: 1, rows: 3 } })
  })

  it('skips a damaged record and keeps the records after it: its entry says where the next one starts', () => {
    const damaged = Buffer.from(data)
    damaged[records[0]!.length] = 0x78
    for (const idx of [index, sealedIndex]) {
      const checked = checkSegment(damaged, idx)
      expect(summary(checked)).toMatchObject({ rows: 5, kept: 2, tornRecords: 0, lost: { records: 1, rows: 1 } })
      expect(checked.kept.map((r) => damaged.subarray(r.start, r.end).toString())).toEqual([records[0]!.toString(), records[2]!.toString()])
    }
  })

  it('keeps complete rows past a lost index tail (the index is synced only at seal) and cuts a partial line', () => {
    const partial = Buffer.concat([data, Buffer.from('g\t')])
    expect(summary(checkSegment(partial, index.subarray(0, 12)))).toEqual({ rows: 6, kept: 1, unindexedRows: 4, sealed: false, tornRecords: 0, lost: { records: 0, rows: 0 } })
    expect(summary(checkSegment(partial, Buffer.alloc(0)))).toEqual({ rows: 6, kept: 0, unindexedRows: 6, sealed: false, tornRecords: 0, lost: { records: 0, rows: 0 } })
  })

  it('recovery cuts a torn write from both files, drops an orphan index and sets aside an unknown format with its index', () => {
    const dir = tempDir()
    try {
      const seg = join(dir.path, '00001767225600000-1-000000.t2.seg')
      writeFileSync(seg, data.subarray(0, data.length - 4))
      writeFileSync(seg.replace(/seg$/, 'idx'), index)
      writeFileSync(join(dir.path, '00001767225600001-1-000001.t2.idx'), index)
      writeFileSync(join(dir.path, '00001767225600002-1-000002.zz.seg'), data)
      writeFileSync(join(dir.path, '00001767225600002-1-000002.zz.idx'), index)
      const spool = testSpool(dir.path)
      const found = spool.recover()
      expect(found.map((f) => ({ name: f.name, rows: f.rows, layout: f.layout }))).toEqual([{ name: '00001767225600000-1-000000.t2.seg', rows: 3, layout: 'plain' }])
      expect(readFileSync(seg).equals(Buffer.concat(records.slice(0, 2)))).toBe(true)
      // Sealed as it is checked: it takes no more rows.
      expect(readFileSync(seg.replace(/seg$/, 'idx')).equals(Buffer.concat([index.subarray(0, 24), SEAL_ENTRY]))).toBe(true)
      expect(spool.bytes).toBe(records[0]!.length + records[1]!.length + 36)
      expect(readdirSync(dir.path).sort()).toEqual(['00001767225600000-1-000000.t2.idx', '00001767225600000-1-000000.t2.seg', 'LOCK', 'dead'])
      expect(readdirSync(join(dir.path, 'dead')).sort()).toEqual(['00001767225600002-1-000002.zz.idx', '00001767225600002-1-000002.zz.seg'])
    } finally {
      dir.cleanup()
    }
  })
})

describe.skipIf(servedStore)('spool segment read-back', () => {
  it('joins the intact records in place and stops at the first torn or damaged one', async () => {
    const payloads = Array.from({ length: 40 }, (_, i) => Buffer.from(`${i}\t${'row'.repeat(1 + ((i * 7919) % 30_000))}\n`.repeat(1 + (i % 3))))
    const file = (list: Buffer[]) => Buffer.concat(list.flatMap((p, i) => [frame(p, i + 1), p]))
    // > 2 MiB, so the join yields to the event loop in between.
    const whole = file(payloads)
    expect(whole.length).toBeGreaterThan(2 * 1024 * 1024)
    const all = await segmentBody(Buffer.from(whole))
    expect(all.body.equals(Buffer.concat(payloads))).toBe(true)
    expect(all.rows).toBe((40 * 41) / 2)

    // A torn last record (a crash mid-write) is left out.
    const torn = await segmentBody(Buffer.from(whole.subarray(0, whole.length - 5)))
    expect(torn.body.equals(Buffer.concat(payloads.slice(0, 39)))).toBe(true)
    expect(torn.rows).toBe((39 * 40) / 2)

    // A damaged record ends the segment there: nothing after it is trusted.
    const damaged = Buffer.from(whole)
    const tenth = payloads.slice(0, 10).reduce((n, p) => n + HEADER_BYTES + p.length, 0)
    damaged.writeUInt8(damaged.readUInt8(tenth + HEADER_BYTES + 3) ^ 0xff, tenth + HEADER_BYTES + 3)
    const cut = await segmentBody(damaged)
    expect(cut.body.equals(Buffer.concat(payloads.slice(0, 10)))).toBe(true)
    expect(cut.rows).toBe(55)
  })
})

describe('buffers reused between requests', () => {
  it.skipIf(servedStore)('the pool hands a given-back buffer out again, and ignores buffers it did not make', () => {
    const pool = new BufferPool(1024, 2)
    expect(pool.take(2048)).toBeUndefined()
    const a = pool.take(10) as Buffer
    expect(a.length).toBe(1024)
    pool.give(a.subarray(5, 20))
    expect(pool.take(10)?.buffer).toBe(a.buffer)
    pool.give(Buffer.allocUnsafeSlow(1024))
    const [b, c, d] = [pool.take(1), pool.take(1), pool.take(1)] as Buffer[]
    for (const x of [a, b, c, d]) pool.give(x as Buffer)
    // At most two kept: two of the four come back, then fresh ones.
    const again = [pool.take(1), pool.take(1), pool.take(1)].map((x) => x?.buffer)
    expect(again.filter((x) => [a, b, c, d].some((y) => y?.buffer === x))).toHaveLength(2)
  })

  // The pools are the receiver's, before any store; on one served engine the rows also go out as
  // one streamed HTTP insert, which the cluster's inserts share (~6 s there).
  it.skipIf(storeMode() === 'cluster')('stores every span of many concurrent requests exactly as sent (pooled bodies and row buffers)', async () => {
    const s = await startServer()
    try {
      const expected = new Map<string, string>()
      for (let wave = 0; wave < 4; wave++) {
        await Promise.all(
          Array.from({ length: 30 }, async (_, r) => {
            // ~2 KB per span, so each body arrives in several chunks and is joined into a pooled buffer.
            const spans = Array.from({ length: 40 }, (_, i) => ({
              name: `pool-${wave}-${r}-${i}-${'x'.repeat((wave * 7 + r * 13 + i) % 50)}`,
              attributes: [{ key: 'gen_ai.input.messages', value: { stringValue: `${wave}-${r}-${i} ${'y'.repeat(2000)}` } }],
            }))
            const req = jsonRequest(spans)
            for (const span of (req.resourceSpans as Array<{ scopeSpans: Array<{ spans: Array<{ spanId: string; name: string }> }> }>)[0]!.scopeSpans[0]!.spans) {
              expected.set(span.spanId, span.name)
            }
            const res = await fetch(`${s.url}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json', ...bearer(KEYS.acme) }, body: JSON.stringify(req) })
            expect(res.status).toBe(200)
            await res.arrayBuffer()
          }),
        )
      }
      await s.app.spanlens.flush()
      const stored = await s.rows<{ span_id: string; name: string }>("SELECT span_id, name FROM spans WHERE startsWith(name, 'pool-')")
      expect(stored).toHaveLength(expected.size)
      expect(stored.filter((r) => expected.get(r.span_id) !== r.name)).toEqual([])
    } finally {
      await s.close()
    }
  })
})

// chDB runs one call at a time behind the call gate; a served ClickHouse runs queries side by side.
describe.skipIf(servedStore)("analysts' queries and ingestion on embedded ClickHouse", () => {
  it('acknowledges spans while a long query is running and others are queued', async () => {
    const s = await startServer()
    try {
      const t0 = performance.now()
      const query = (sql: string) =>
        s.app.spanlens.store.client
          .query({ query: sql, format: 'JSONEachRow' })
          .then((r) => r.json())
          .then(() => performance.now() - t0)
      // ~1 s of CPU, then three calls that chDB queues behind it. Only the first needs to be
      // long: a queued call waits (and used to hold its libuv thread) whatever it costs itself.
      const heavy = query('SELECT count() FROM numbers(25000000) WHERE sipHash64(number) % 7 = 1')
      const queued = Array.from({ length: 3 }, () => query('SELECT count() FROM numbers(10)'))
      await new Promise((r) => setTimeout(r, 100))
      const res = await send(s.url, 'during-queries', 3)
      const ackedAt = performance.now() - t0
      expect(res.status).toBe(200)
      const [heavyDone] = await Promise.all([heavy, ...queued])
      // Queued chDB calls used to hold all four libuv threads, so the spool's write
      // waited for the first query to finish.
      expect(ackedAt).toBeLessThan(heavyDone as number)
      await s.app.spanlens.pipeline.flush()
      const rows = await s.rows<{ n: string }>("SELECT count() AS n FROM spans WHERE name = 'during-queries'")
      expect(Number(rows[0]?.n)).toBe(3)
    } finally {
      await s.close()
    }
  }, 60_000)

  it('runs queued calls one at a time, ingest before queries, in arrival order within a lane', async () => {
    const gate = new CallGate(1)
    const order: string[] = []
    let release!: () => void
    const first = gate.run('query', () => new Promise<void>((r) => (release = r)).then(() => order.push('q0')))
    const rest = [
      gate.run('query', async () => order.push('q1')),
      gate.run('ingest', async () => order.push('i1')),
      gate.run('query', async () => order.push('q2')),
      gate.run('ingest', async () => order.push('i2')),
    ]
    expect(gate.queued).toBe(4)
    release()
    await Promise.all([first, ...rest])
    expect(order).toEqual(['q0', 'i1', 'i2', 'q1', 'q2'])
    // A failing call frees its slot too.
    await expect(gate.run('query', async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom')
    expect(await gate.run('ingest', async () => 'next')).toBe('next')
  })
})

describe.skipIf(servedStore)('spool durability', () => {
  type SealedFile = { rows: number; path: string; indexPath: string | undefined }

  /**
   * A spool holding one acknowledged record ("a1"), whose next write puts 3 bytes
   * on disk and then fails with `code` (the disk filled, or failed), as a spied
   * FileHandle.writev. Call restore() when done.
   */
  async function spoolWithFailingWrite(code: string) {
    const dir = tempDir()
    const probe = await open(join(dir.path, 'probe'), 'w')
    const proto = Object.getPrototypeOf(probe) as FileHandle
    await probe.close()
    const writev = proto.writev
    const spy = vi.spyOn(proto, 'writev')
    const sealed: SealedFile[] = []
    const spool = new Spool({ dir: dir.path, maxBytes: 1 << 20, fsync: 'always', segmentMaxRows: 1000, segmentMaxBytes: 1 << 20, segmentMaxAgeMs: 60_000, onSealed: (s) => sealed.push(s) })
    spool.recover()
    await spool.append(Buffer.from('a1\n'), 1)
    spy.mockImplementationOnce(async function (this: FileHandle, buffers: NodeJS.ArrayBufferView[]) {
      await writev.call(this, [(buffers[0] as Buffer).subarray(0, 3)])
      throw Object.assign(new Error(`${code}: write failed`), { code })
    } as FileHandle['writev'])
    return {
      spool,
      sealed,
      restore: () => {
        spy.mockRestore()
        dir.cleanup()
      },
    }
  }

  it('a write that fails half-way (ENOSPC) is cut back: the request is refused, its rows never inserted, later appends stay whole', async () => {
    const { spool, sealed, restore } = await spoolWithFailingWrite('ENOSPC')
    try {
      await expect(spool.append(Buffer.from('b1\nb2\n'), 2)).rejects.toMatchObject({ code: 'SPANLENS_SPOOL_IO' })
      await spool.append(Buffer.from('c1\n'), 1)
      await spool.close()
      expect(sealed).toHaveLength(1)
      const data = readFileSync(sealed[0]?.path as string)
      const index = readFileSync(sealed[0]?.indexPath as string)
      // After the segment's column line, which goes first.
      expect(data.toString()).toBe(`${SPANS.header}a1\nc1\n`)
      expect(checkSegment(data, index, SPANS.header.length)).toMatchObject({ rows: 2, sealed: true, tornRecords: 0, lost: { records: 0 } })
      expect(sealed[0]?.rows).toBe(2)
      expect(spool.bytes).toBe(data.length + index.length)
    } finally {
      restore()
    }
  })

  it('a failed write that cannot be cut back either seals its segment at once, checked like after a crash', async () => {
    const { spool, sealed, restore } = await spoolWithFailingWrite('EIO')
    const cut = vi.spyOn(fs, 'ftruncateSync').mockImplementation(() => {
      throw Object.assign(new Error('EIO: i/o error, ftruncate'), { code: 'EIO' })
    })
    try {
      await expect(spool.append(Buffer.from('b1\nb2\n'), 2)).rejects.toMatchObject({ code: 'SPANLENS_SPOOL_IO' })
      cut.mockRestore()
      // Sealed without waiting for its age: the torn "b1\n" is cut off by the recovery check.
      await vi.waitFor(() => expect(sealed).toHaveLength(1))
      expect(readFileSync(sealed[0]?.path as string).toString()).toBe(`${SPANS.header}a1\n`)
      expect(sealed[0]?.rows).toBe(1)
      // The next request goes to a new segment.
      await spool.append(Buffer.from('c1\n'), 1)
      await spool.close()
      expect(sealed).toHaveLength(2)
      expect(readFileSync(sealed[1]?.path as string).toString()).toBe(`${SPANS.header}c1\n`)
      const onDisk = sealed.reduce((n, s) => n + readFileSync(s.path).length + readFileSync(s.indexPath as string).length, 0)
      expect(spool.bytes).toBe(onDisk)
    } finally {
      cut.mockRestore()
      restore()
    }
  })

  /** The open flags of the descriptors this process holds on `path` (Linux /proc). */
  function openFlags(path: string): number[] {
    const out: number[] = []
    for (const fd of readdirSync('/proc/self/fd')) {
      let target: string
      try {
        target = readlinkSync(`/proc/self/fd/${fd}`)
      } catch {
        continue
      }
      if (target !== path) continue
      const m = /^flags:\s+([0-7]+)$/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'))
      if (m) out.push(parseInt(m[1] as string, 8))
    }
    return out
  }

  it.skipIf(!existsSync('/proc/self/fdinfo') || constants.O_DSYNC === undefined)(
    'with fsync=always writes through an O_DSYNC file, so an acknowledged append is on disk when its write returns',
    async () => {
      // One system call per group commit instead of writev + fdatasync: under load each
      // threadpool round trip waited for a core, so the second one doubled the wait.
      for (const fsync of ['always', 'never'] as const) {
        const dir = tempDir()
        try {
          const spool = testSpool(dir.path, fsync)
          spool.recover()
          await spool.append(Buffer.from('row\n'), 1)
          const [segment] = readdirSync(dir.path).filter((f) => f.endsWith('.seg'))
          const flags = openFlags(join(dir.path, segment as string))
          expect(flags).toHaveLength(1)
          expect(`${fsync}: O_DSYNC ${(flags[0]! & constants.O_DSYNC) !== 0}`).toBe(`${fsync}: O_DSYNC ${fsync === 'always'}`)
          await spool.close()
        } finally {
          dir.cleanup()
        }
      }
    },
  )
})

describe.skipIf(servedStore)('one server per spool directory', () => {
  const lockOf = (dir: string) => JSON.parse(readFileSync(join(dir, 'LOCK'), 'utf8')) as { pid: number; host: string }
  const writeLock = (dir: string, holder: Record<string, unknown>) => writeFileSync(join(dir, 'LOCK'), JSON.stringify({ token: 'theirs', startTicks: null, ...holder }))
  const lockError = (fn: () => unknown) => {
    try {
      fn()
    } catch (err) {
      return err as { code?: string; message: string }
    }
    throw new Error('expected SPANLENS_SPOOL_LOCKED')
  }
  /** A live process of this host holding `dir`'s lock, as another server would. */
  const lockedByLiveProcess = async (dir: string) => {
    const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' })
    await new Promise((r) => other.once('spawn', r))
    writeLock(dir, { pid: other.pid, host: hostname() })
    return other
  }

  it('refuses a directory a live process holds, takes over once that process is gone, and releases it on close', async () => {
    const dir = tempDir()
    const other = await lockedByLiveProcess(dir.path)
    try {
      const err = lockError(() => testSpool(dir.path).recover())
      expect(err.code).toBe('SPANLENS_SPOOL_LOCKED')
      expect(err.message).toContain(`process ${other.pid}`)
      expect(err.message).toContain(dir.path)
      expect(lockOf(dir.path).pid).toBe(other.pid) // left alone

      const gone = new Promise((r) => other.once('exit', r))
      other.kill('SIGKILL')
      await gone
      const spool = testSpool(dir.path)
      spool.recover()
      expect(lockOf(dir.path)).toEqual(expect.objectContaining({ pid: process.pid, host: hostname() }))
      await spool.close()
      expect(existsSync(join(dir.path, 'LOCK'))).toBe(false)
    } finally {
      if (other.exitCode === null) other.kill('SIGKILL')
      dir.cleanup()
    }
  })

  it('never takes over a lock from another host; does take over a reused pid and an unreadable lock', async () => {
    const dir = tempDir()
    try {
      writeLock(dir.path, { pid: 1, host: `not-${hostname()}` })
      expect(lockError(() => testSpool(dir.path).recover()).code).toBe('SPANLENS_SPOOL_LOCKED')

      // pid 1 runs here, but it started long before the time this lock names.
      writeLock(dir.path, { pid: 1, host: hostname(), startTicks: 1e15 })
      const reused = testSpool(dir.path)
      reused.recover()
      await reused.close()

      writeFileSync(join(dir.path, 'LOCK'), '{"pid":') // a crash while locking
      const torn = testSpool(dir.path)
      torn.recover()
      expect(lockOf(dir.path).pid).toBe(process.pid)
      await torn.close()
    } finally {
      dir.cleanup()
    }
  })

  it.skipIf(!existsSync('/proc/self/stat'))('takes over a lock whose holder died but is not reaped yet (a zombie)', async () => {
    const dir = tempDir()
    // `sleep 2` exits after its parent has exec'd into `sleep 30`, which never reaps it:
    // a zombie, as a server killed with SIGKILL is until its parent waits for it. With
    // `sleep 0` a loaded host can let the shell reap the child before its exec.
    const parent = spawn('sh', ['-c', 'sleep 2 & echo $!; exec sleep 30'], { stdio: ['ignore', 'pipe', 'ignore'] })
    try {
      const pid = Number(await waitForOutput(parent, /^(\d+)$/m))
      const stat = () => parseProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8'))
      await vi.waitFor(() => expect(stat()?.state).toBe('Z'), { timeout: 10_000, interval: 50 })
      // Its own start time: only its state tells it from a live holder.
      writeLock(dir.path, { pid, host: hostname(), startTicks: stat()?.startTicks })
      const spool = testSpool(dir.path)
      spool.recover()
      expect(lockOf(dir.path).pid).toBe(process.pid)
      await spool.close()
    } finally {
      parent.kill('SIGKILL')
      dir.cleanup()
    }
  })

  it('an in-process server refused for a locked spool closes its store, so the process can start another', async () => {
    const spool = tempDir()
    const other = await lockedByLiveProcess(spool.path)
    try {
      await expect(startServer({ SPANLENS_SPOOL_DIR: spool.path })).rejects.toMatchObject({ code: 'SPANLENS_SPOOL_LOCKED' })
      // Embedded chDB takes one data directory per process: this fails if the first store leaked.
      const next = await startServer()
      await next.close()
    } finally {
      other.kill('SIGKILL')
      spool.cleanup()
    }
  }, 60_000)

  it('a spool directory that cannot be created fails with SPANLENS_DATA_DIR_UNUSABLE naming it', async () => {
    const dir = tempDir()
    writeFileSync(join(dir.path, 'file'), 'x')
    const spoolDir = join(dir.path, 'file', 'spool')
    try {
      await expect(startServer({ SPANLENS_SPOOL_DIR: spoolDir })).rejects.toMatchObject({
        code: 'SPANLENS_DATA_DIR_UNUSABLE',
        message: expect.stringContaining(spoolDir),
      })
    } finally {
      dir.cleanup()
    }
  })

  it('a second server on the same SPANLENS_SPOOL_DIR exits with SPANLENS_SPOOL_LOCKED', async () => {
    const spool = tempDir()
    const otherData = tempDir()
    const first = await startServer({ SPANLENS_SPOOL_DIR: spool.path })
    try {
      const second = spawn(process.execPath, ['--conditions=@spanlens/source', '--import', 'tsx', bin, 'serve'], {
        env: { ...process.env, SPANLENS_DATA_DIR: otherData.path, SPANLENS_SPOOL_DIR: spool.path, SPANLENS_PORT: '0', SPANLENS_LOG_LEVEL: 'silent' },
        stdio: ['ignore', 'ignore', 'pipe'],
      })
      let stderr = ''
      second.stderr.on('data', (c: Buffer) => (stderr += c.toString()))
      // A second server that starts (the bug) would run until killed: give it 30 s to exit.
      const code = await new Promise<number | string | null>((r) => {
        const timer = setTimeout(() => r('still running'), 30_000)
        second.once('exit', (c) => {
          clearTimeout(timer)
          r(c)
        })
      })
      if (second.exitCode === null) second.kill('SIGKILL')
      expect(code).toBe(2)
      expect(stderr).toContain('SPANLENS_SPOOL_LOCKED')
      // Refused before it opened its store: nothing was created or migrated in its data directory.
      expect(readdirSync(otherData.path)).toEqual([])
      // The first server is untouched and still accepts.
      expect((await send(first.url, 'still-mine', 3)).status).toBe(200)
    } finally {
      await first.close()
      otherData.cleanup()
    }
    expect(existsSync(join(spool.path, 'LOCK'))).toBe(false)
    spool.cleanup()
  }, 60_000)
})
