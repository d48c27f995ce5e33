import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createStore, loadConfig, storeQueryOptions, type Store } from '@spanlens/ingest'
import { select, withQueryLimits } from '../src/db.js'
import { provided, storeEnv } from '../../ingest/test/helpers/store-mode.js'

/**
 * Runs in the `remote` project: clickhouse-js's request timeout applies to a served
 * ClickHouse only (the embedded engine's calls have none).
 */
if (provided()?.mode !== 'remote') throw new Error('route-timeout-remote.test.ts runs in the remote vitest project')

// The route limit above the request timeout, as the defaults are (60 s and 30 s), scaled down.
const env = { SPANLENS_CLICKHOUSE_REQUEST_TIMEOUT_MS: '1000', SPANLENS_QUERY_MAX_EXECUTION_SECONDS: '2', SPANLENS_SQL_MAX_EXECUTION_SECONDS: '1' }
const dir = mkdtempSync(join(tmpdir(), 'spanlens-route-timeout-'))
const config = loadConfig({ env: { SPANLENS_DATA_DIR: dir, ...storeEnv(dir), ...env } })
let store: Store

beforeAll(async () => {
  store = await createStore(config.store)
})
afterAll(async () => {
  await store?.close()
  rmSync(dir, { recursive: true, force: true })
})

describe('a query route read on a served ClickHouse', () => {
  it('that runs past SPANLENS_QUERY_MAX_EXECUTION_SECONDS answers SPANLENS_QUERY_LIMIT, though the request timeout is shorter', async () => {
    // The client the routes read with (routes/index.ts), under the limits the server gives them.
    const reads = withQueryLimits(storeQueryOptions(store).client, { maxExecutionSeconds: config.query.maxExecutionSeconds, maxMemoryBytes: config.query.maxMemoryBytes })
    // Half a second a row, a row a block: ClickHouse checks its time limit after each block, at 2 s. Summed,
    // so that no row is sent before the end, as with the routes' aggregations (rows sent as they come
    // would keep the connection busy, and clickhouse-js's timeout counts from the last byte). It was
    // 503 SPANLENS_STORE_UNREACHABLE after 1 s: only the progress headers keep the connection busy now.
    const sleeping = select(reads, 'SELECT sum(sleepEachRow(0.5)) AS z FROM numbers(10) SETTINGS max_block_size = 1')
    await expect(sleeping).rejects.toMatchObject({ code: 'SPANLENS_QUERY_LIMIT' })
  })

  it('has ClickHouse send progress at most every third of the request timeout, and sparsely enough for the longest limit', () => {
    expect(config.store.progressIntervalMs).toBe(333)
    const defaults = loadConfig({ env: { SPANLENS_DATA_DIR: dir } }).store
    expect(defaults.progressIntervalMs).toBe(10_000)
    // A limit of an hour: a header a minute would overflow no header budget, but not under half the timeout.
    expect(loadConfig({ env: { SPANLENS_DATA_DIR: dir, SPANLENS_QUERY_MAX_EXECUTION_SECONDS: '3600' } }).store.progressIntervalMs).toBe(15_000)
  })
})
