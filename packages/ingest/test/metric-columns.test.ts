import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadConfig } from '../src/config/load.js'
import { METRIC_COMPUTED_COLUMNS, METRIC_INSERT_COLUMNS } from '../src/schema/metric-columns.js'
import { createStore, migrate, type Store } from '../src/store/index.js'
import { tempDir } from './helpers/tmp.js'

const tmp = tempDir()
let store: Store

beforeAll(async () => {
  store = await createStore(loadConfig({ env: { SPANLENS_DATA_DIR: join(tmp.path, 'data') } }).store)
  await migrate(store)
})
afterAll(async () => {
  await store.close().catch(() => undefined)
  tmp.cleanup()
})

describe('the metric column table', () => {
  it('is the metrics table 008 creates: names, order and types, the computed columns last and not inserted', async () => {
    const rs = await store.client.query({
      query: "SELECT name, type, default_kind FROM system.columns WHERE database = currentDatabase() AND table = 'metrics' ORDER BY position",
      format: 'JSONEachRow',
    })
    const columns = await rs.json<{ name: string; type: string; default_kind: string }>()
    const inserted = columns.filter((c) => c.default_kind === '')
    expect(inserted.map((c) => [c.name, c.type])).toEqual(METRIC_INSERT_COLUMNS.map((c) => [c.name, c.type]))
    expect(columns.filter((c) => c.default_kind !== '').map((c) => [c.name, c.type, c.default_kind.toLowerCase()])).toEqual(
      METRIC_COMPUTED_COLUMNS.map((c) => [c.name, c.type, c.filled]),
    )
    expect(columns.slice(0, inserted.length)).toEqual(inserted)
  })
})
