import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadConfig } from '../src/config/load.js'
import { LOGS, METRICS, SPANS, SPAN_CONTENT } from '../src/pipeline/tables.js'
import type { ComputedColumn, InsertedColumn } from '../src/schema/columns.js'
import { LOG_COMPUTED_COLUMNS, LOG_INSERT_COLUMNS } from '../src/schema/log-columns.js'
import { METRIC_COMPUTED_COLUMNS, METRIC_INSERT_COLUMNS } from '../src/schema/metric-columns.js'
import { SPAN_COMPUTED_COLUMNS, SPAN_INSERT_COLUMNS } from '../src/schema/span-columns.js'
import { SPAN_CONTENT_COMPUTED_COLUMNS, SPAN_CONTENT_INSERT_COLUMNS } from '../src/schema/span-content-columns.js'
import { createStore, migrate, type Store } from '../src/store/index.js'
import { CODEC_TYPES } from './helpers/codec-types.js'
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

// Each table's column list is declared once (schema/*-columns.ts); the insert list and
// the spool's encoder are made from it. Checked here against what the migrations made.
const TABLES: Array<[string, readonly InsertedColumn[], readonly ComputedColumn[], readonly string[]]> = [
  ['spans', SPAN_INSERT_COLUMNS, SPAN_COMPUTED_COLUMNS, SPANS.columns],
  ['metrics', METRIC_INSERT_COLUMNS, METRIC_COMPUTED_COLUMNS, METRICS.columns],
  ['logs', LOG_INSERT_COLUMNS, LOG_COMPUTED_COLUMNS, LOGS.columns],
  ['span_content', SPAN_CONTENT_INSERT_COLUMNS, SPAN_CONTENT_COMPUTED_COLUMNS, SPAN_CONTENT.columns],
]

describe.each(TABLES)('the %s column table', (table, inserted, computedColumns, spoolColumns) => {
  it('is the table the migrations create: names, order and types, the computed columns last and not inserted', async () => {
    const rs = await store.client.query({
      query: 'SELECT name, type, default_kind FROM system.columns WHERE database = currentDatabase() AND table = {t:String} ORDER BY position',
      query_params: { t: table },
      format: 'JSONEachRow',
    })
    const columns = await rs.json<SystemColumn>()
    const plain = columns.filter((c) => c.default_kind === '')
    const computed = columns.filter((c) => c.default_kind !== '')
    expect(plain.map((c) => [c.name, c.type])).toEqual(inserted.map((c) => [c.name, c.type]))
    expect(computed.map((c) => [c.name, c.type, c.default_kind.toLowerCase()])).toEqual(computedColumns.map((c) => [c.name, c.type, c.filled]))
    expect(columns.slice(0, plain.length)).toEqual(plain)
    // The spool writes exactly the inserted columns, each through a codec its type reads.
    expect(spoolColumns).toEqual(inserted.map((c) => c.name))
    for (const c of inserted) expect(c.type, `${c.name} (${c.codec})`).toMatch(CODEC_TYPES[c.codec])
  })
})
