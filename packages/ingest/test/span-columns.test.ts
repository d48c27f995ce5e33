import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadConfig } from '../src/config/load.js'
import { SPAN_COMPUTED_COLUMNS, SPAN_INSERT_COLUMNS } from '../src/schema/span-columns.js'
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

interface SystemColumn {
  name: string
  type: string
  default_kind: string
}

describe('the span column table', () => {
  it('is the spans table the migrations create: names, order and types, the computed columns last and not inserted', async () => {
    const rs = await store.client.query({
      query: "SELECT name, type, default_kind FROM system.columns WHERE database = currentDatabase() AND table = 'spans' ORDER BY position",
      format: 'JSONEachRow',
    })
    const columns = await rs.json<SystemColumn>()
    const inserted = columns.filter((c) => c.default_kind === '')
    const computed = columns.filter((c) => c.default_kind !== '')

    expect(inserted.map((c) => [c.name, c.type])).toEqual(SPAN_INSERT_COLUMNS.map((c) => [c.name, c.type]))
    expect(computed.map((c) => [c.name, c.type, c.default_kind.toLowerCase()])).toEqual(
      SPAN_COMPUTED_COLUMNS.map((c) => [c.name, c.type, c.filled]),
    )
    // The insert list is the table's columns in table order, without the computed ones.
    expect(columns.slice(0, inserted.length)).toEqual(inserted)
  })
})
