import type { FastifyInstance } from 'fastify'
import { describe, expect, it, vi } from 'vitest'
import { loadConfig } from '../src/config/load.js'
import { clickHouseErrorType } from '../src/errors.js'
import { buildServer } from '../src/server.js'
import { loadMigrations } from '../src/store/index.js'
import { jsonRequest } from './helpers/otlp.js'
import { API_KEYS, bearer, KEYS, openStore } from './helpers/server.js'
import { tempDir } from './helpers/tmp.js'

// Embedded only: a served store's migrations run in its server, which the remote tests restart.
const MIGRATIONS = loadMigrations().length

function serverOn(dataDir: string, storeFirstWaitMs: number): Promise<FastifyInstance> {
  const config = loadConfig({ env: { SPANLENS_DATA_DIR: dataDir, SPANLENS_API_KEYS: API_KEYS, SPANLENS_LOG_LEVEL: 'silent', SPANLENS_PORT: '0', SPANLENS_GRPC_PORT: 'off' } })
  return buildServer(config, { storeFirstWaitMs })
}

const postSpan = (url: string, name: string) =>
  fetch(`${url}/v1/traces`, { method: 'POST', headers: { ...bearer(KEYS.acme), 'content-type': 'application/json' }, body: JSON.stringify(jsonRequest([{ name }])) })

describe('an embedded server whose migrations outlast its first wait', () => {
  it('listens meanwhile: /readyz says they run (200, degraded), OTLP is taken, queries are 503 SPANLENS_STORE_MIGRATING until they are applied', async () => {
    const dir = tempDir()
    // A wait of 0: the migrations of a new store (~0.7 s) outlast it, as a backfill over a large store outlasts 5 s.
    const app = await serverOn(dir.path, 0)
    try {
      const url = await app.listen({ host: '127.0.0.1', port: 0 })
      const ready = await fetch(`${url}/readyz`)
      expect(ready.status).toBe(200)
      expect(await ready.json()).toMatchObject({ status: 'degraded', checks: { migrations: 'running' } })
      const query = await fetch(`${url}/api/v1/traces`, { headers: bearer(KEYS.acme) })
      expect(query.status).toBe(503)
      expect(query.headers.get('retry-after')).toBe('5')
      expect(((await query.json()) as { error: { code: string } }).error.code).toBe('SPANLENS_STORE_MIGRATING')
      expect((await postSpan(url, 'during-migrations')).status).toBe(200)

      await app.spanlens.storeOpened
      expect(await (await fetch(`${url}/readyz`)).json()).toMatchObject({ checks: { migrations: 'ok' } })
      await app.spanlens.flush()
      const listed = await fetch(`${url}/api/v1/spans`, { headers: bearer(KEYS.acme) })
      expect(((await listed.json()) as { items: Array<{ name: string }> }).items.map((s) => s.name)).toEqual(['during-migrations'])
    } finally {
      await app.close()
      dir.cleanup()
    }
  })

  it('closed while they run, it stops at once; the next server on that directory applies them all and stores what the first acknowledged', async () => {
    const dir = tempDir()
    try {
      const first = await serverOn(dir.path, 0)
      const url = await first.listen({ host: '127.0.0.1', port: 0 })
      expect((await postSpan(url, 'acknowledged-while-migrating')).status).toBe(200)
      const t0 = Date.now()
      await first.close()
      expect(Date.now() - t0).toBeLessThan(5_000)

      const next = await serverOn(dir.path, 60_000)
      try {
        await next.spanlens.flush()
        const applied = await next.spanlens.store.client.query({ query: 'SELECT count() AS n FROM schema_migrations', format: 'JSONEachRow' })
        expect(await applied.json()).toEqual([{ n: MIGRATIONS }])
        const spans = await next.spanlens.store.client.query({ query: "SELECT name FROM spans WHERE project_id = 'acme'", format: 'JSONEachRow' })
        expect(await spans.json()).toEqual([{ name: 'acknowledged-while-migrating' }])
      } finally {
        await next.close()
      }
    } finally {
      dir.cleanup()
    }
  })
})

describe('closing the embedded store', () => {
  it('cancels a statement still running, so that the process can exit and open another data directory at once', async () => {
    const a = tempDir()
    const b = tempDir()
    try {
      const store = await openStore(a.path)
      // 20 s of one-row blocks (cancelled between blocks): chDB has no interrupt, so without the
      // cancel it runs to its end, and until then the process can neither exit nor open `b`.
      const running = store.client
        .command({ query: 'SELECT sleepEachRow(0.5) FROM numbers(40) SETTINGS max_block_size = 1 FORMAT Null' })
        .then(
          () => 'ran to its end',
          // The engine says QUERY_WAS_CANCELLED either way: "Query was cancelled" mid-run, or
          // "Query '…' is killed in pending state" when the KILL reached it before its pipeline
          // started (a loaded host, the call already past the gate).
          (err: Error) => clickHouseErrorType(err) ?? err.message,
        )
      await vi.waitFor(() => expect(store.activity?.().busySince).not.toBeNull())
      const t0 = Date.now()
      await store.close()
      expect(await running).toBe('QUERY_WAS_CANCELLED')
      expect(Date.now() - t0).toBeLessThan(5_000)
      const other = await openStore(b.path)
      await other.close()
    } finally {
      a.cleanup()
      b.cleanup()
    }
  })
})
