import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadConfig } from '../src/config/load.js'
import { createStore, type Store } from '../src/store/index.js'
import { tempDir } from './helpers/tmp.js'

let store: Store
let dir: ReturnType<typeof tempDir>

beforeAll(async () => {
  dir = tempDir('spanlens-leftover-')
  store = await createStore(loadConfig({ env: { SPANLENS_DATA_DIR: dir.path } }).store)
})
afterAll(async () => {
  await store.close()
  dir.cleanup()
})

const rows = async (query: string) => (await store.client.query({ query, format: 'JSONEachRow' })).json()

// Each of these left rows on the raw chDB session (store-chdb-leftover.test.ts).
const FAILING: Array<[string, string]> = [
  ['throwIf mid-stream', 'SELECT number FROM numbers(100000) WHERE throwIf(number = 50000) = 0 SETTINGS max_block_size = 1000, max_threads = 1'],
  ['a memory limit', 'SELECT number, groupArray(toString(number)) OVER (ORDER BY number ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS a FROM numbers(1000000) SETTINGS max_memory_usage = 50000000, max_block_size = 100'],
  ['a timeout', 'SELECT number, sleepEachRow(0.01) AS z FROM numbers(1000) SETTINGS max_execution_time = 0.3, max_block_size = 1'],
]

describe('embedded store after a failed call', () => {
  it.each(FAILING)('the next call after %s gets exactly its own output', async (_label, failing) => {
    const before = store.activity?.().leftoverBytesDiscarded ?? 0
    await expect(rows(failing)).rejects.toMatchObject({ code: expect.stringMatching(/^\d+$/) })
    expect(await rows('SELECT 42 AS answer')).toEqual([{ answer: 42 }])
    // The guard found and discarded the failed call's rows (not just got lucky).
    expect(store.activity?.().leftoverBytesDiscarded ?? 0).toBeGreaterThan(before)
  })
})
