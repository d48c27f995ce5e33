import { rmSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadConfig } from '../src/config/load.js'
import { buildServer } from '../src/server.js'
import { createStore, type FileInsert, type Store } from '../src/store/index.js'
import { startClickHouseServer, type TestClickHouse } from './helpers/clickhouse-server.js'
import { jsonRequest, llmAttrs } from './helpers/otlp.js'
import { API_KEYS, bearer, KEYS } from './helpers/server.js'
import { provided } from './helpers/store-mode.js'
import { tempDir } from './helpers/tmp.js'
import { activePartPaths } from './helpers/lost-parts.js'

/**
 * Runs in the `remote` project, on an engine of its own, which it kills. A served ClickHouse
 * killed between recording an insert's deduplication id and renaming the insert's part into
 * place starts again remembering the id without the part (restore-missing.test.ts makes the
 * same state for embedded chDB). Here the kill falls after the insert, before its answer:
 * the parts are removed while the engine is down, as the kill would have left them, and the
 * inserter's retry under the same token is answered as a duplicate.
 */
if (provided()?.mode !== 'remote') throw new Error('restore-missing-remote.test.ts runs in the remote vitest project')

let engine: TestClickHouse
const dir = tempDir()
beforeAll(async () => {
  engine = await startClickHouseServer()
}, 60_000)
afterAll(async () => {
  await engine.stop()
  dir.cleanup()
})

const TABLES = ['spans', 'spans_minute', 'trace_hours']

describe('a served ClickHouse killed while it commits an insert', () => {
  it('has the rows its answer to the retry dropped inserted again, each once, and counted once in the rollup', async () => {
    const config = loadConfig({
      env: { SPANLENS_DATA_DIR: dir.path, SPANLENS_API_KEYS: API_KEYS, SPANLENS_LOG_LEVEL: 'silent', SPANLENS_CLICKHOUSE_URL: engine.httpUrl, SPANLENS_CLICKHOUSE_DATABASE: 'restore' },
    })
    const real = await createStore(config.store)
    let killed = false
    const store: Store = {
      ...real,
      client: real.client,
      close: async () => undefined,
      insertFile: async (insert: FileInsert) => {
        await real.insertFile(insert)
        if (killed || insert.table !== 'spans') return
        killed = true
        const parts = await activePartPaths(real, TABLES)
        process.kill(engine.pid, 'SIGKILL')
        await engine.exited
        for (const p of parts) rmSync(p, { recursive: true })
        await engine.restart()
        throw Object.assign(new Error('socket hang up (the engine was killed before it answered)'), { code: 'ECONNRESET' })
      },
    }
    const app = await buildServer(config, { store })
    try {
      await app.spanlens.storeOpened
      const url = await app.listen({ host: '127.0.0.1', port: 0 })
      const res = await fetch(`${url}/v1/traces`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...bearer(KEYS.acme) },
        body: JSON.stringify(jsonRequest(Array.from({ length: 30 }, (_, i) => ({ name: `killed-${i}`, attributes: llmAttrs() })))),
      })
      expect(res.status).toBe(200)
      await app.spanlens.flush()
      expect(killed).toBe(true)

      const rs = await real.client.query({
        query: "SELECT (SELECT count() FROM spans WHERE name LIKE 'killed-%') AS n, (SELECT uniqExact(trace_id, span_id) FROM spans) AS u, (SELECT sum(calls) FROM spans_minute) AS calls",
        format: 'JSONEachRow',
      })
      expect((await rs.json<Record<string, unknown>>()).map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, Number(v)])))).toEqual([{ n: 30, u: 30, calls: 30 }])
      const metrics = (await app.inject({ method: 'GET', url: '/metrics' })).body
      expect(metrics).toMatch(/^spanlens_insert_verified_segments_total\{result="restored"\} 1$/m)
      expect(metrics).toMatch(/^spanlens_insert_restored_rows_total 30$/m)
    } finally {
      await app.close()
      await real.close()
    }
  })
})
