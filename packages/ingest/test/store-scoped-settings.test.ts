import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadConfig } from '../src/config/load.js'
import { createStore, type Store } from '../src/store/index.js'
import { tempDir } from './helpers/tmp.js'

let store: Store
let dir: ReturnType<typeof tempDir>

beforeAll(async () => {
  dir = tempDir('spanlens-settings-')
  store = await createStore(loadConfig({ env: { SPANLENS_DATA_DIR: dir.path } }).store)
})
afterAll(async () => {
  await store.close()
  dir.cleanup()
})

const setting = async (query: string) =>
  ((await (await store.client.query({ query, format: 'JSONEachRow', clickhouse_settings: { max_threads: 3 } })).json()) as Array<{ v: number }>)[0]?.v

describe('embedded per-query settings', () => {
  it('apply to a query that ends with a line comment', async () => {
    // On the same line, the SETTINGS clause became part of the comment and the query ran without it.
    expect(await setting("SELECT getSetting('max_threads') AS v -- trailing comment")).toBe(3)
    expect(await setting("SELECT getSetting('max_threads') AS v")).toBe(3)
  })

  it('stay with their query', async () => {
    await setting("SELECT getSetting('max_threads') AS v")
    const after = ((await (await store.client.query({ query: "SELECT getSetting('max_threads') AS v", format: 'JSONEachRow' })).json()) as Array<{ v: number }>)[0]?.v
    expect(after).not.toBe(3)
  })
})
