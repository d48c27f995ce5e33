import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { insertSettings } from '../src/pipeline/isolating-insert.js'
import { missingRows } from '../src/pipeline/stored-rows.js'
import { SPANS } from '../src/pipeline/tables.js'
import { migrate, type Store } from '../src/store/index.js'
import { openStore } from './helpers/server.js'
import { span } from './helpers/spool-segment.js'
import { seedMigratedStore } from './helpers/store-template.js'
import { tempDir } from './helpers/tmp.js'

// Which of a segment's rows the table holds (stored-rows.ts), asked of the real store: a
// time range that holds little but the rows is read whole, a crowded one is asked about the
// rows' keys a chunk at a time. Also on a served engine (vitest.config.ts), which reads a
// query's parameters as form fields of limited length, and on the cluster, through Distributed tables.

const dir = tempDir()
let store: Store
const START = Math.floor(Date.now() / 1000) - 120
const rowsOf = (names: string[], start = START) => names.map((n) => Buffer.from(span('acme', n, start)))
const segment = (rows: Buffer[]) => ({ table: SPANS.name, columns: SPANS.columns, format: 'TabSeparated' as const, rows })
let inserts = 0
// As the spool inserts: on a cluster, confirmed once the shards have the rows.
const insert = (rows: Buffer[]) =>
  store.insertRaw({ table: SPANS.name, columns: SPANS.columns, format: 'TabSeparated', body: [Buffer.concat(rows.flatMap((r) => [r, Buffer.from('\n')]))], settings: insertSettings(store, `stored-rows-${inserts++}`) })
const names = (rows: Buffer[]) => rows.map((r) => r.toString().split('\t')[4]).sort()

beforeAll(async () => {
  seedMigratedStore(dir.path)
  store = await openStore(dir.path)
  // A served engine's database is new: the template is embedded only.
  await migrate(store)
})
afterAll(async () => {
  await store.close()
  dir.cleanup()
})

describe('the rows of a segment the table does not hold', () => {
  it('are found in a range that holds little but them, read whole', async () => {
    const stored = rowsOf(Array.from({ length: 20 }, (_, i) => `whole-stored-${i}`))
    const lost = rowsOf(Array.from({ length: 5 }, (_, i) => `whole-lost-${i}`))
    await insert(stored)
    expect(names(await missingRows(store, segment([...stored, ...lost])))).toEqual(names(lost))
    expect(await missingRows(store, segment(stored))).toEqual([])
  })

  it('are found among many other rows of the same time, the keys asked about in chunks that a served engine accepts', async () => {
    // The same second as the rows looked up, five times as many: the range is not read whole.
    const crowd = rowsOf(Array.from({ length: 15_000 }, (_, i) => `crowd-${i}`), START + 1)
    await insert(crowd)
    // 3,000 keys are ~165 KB of parameter text: more than one chunk.
    const stored = crowd.slice(0, 1_500)
    const lost = rowsOf(Array.from({ length: 1_500 }, (_, i) => `crowded-lost-${i}`), START + 1)
    const missing = await missingRows(store, segment([...lost.slice(0, 750), ...stored, ...lost.slice(750)]))
    expect(names(missing)).toEqual(names(lost))
  })

  it('leave out a key too long to ask about, rather than a query the engine refuses every time', async () => {
    // Around the crowd's second (the test before): the range is not read whole, the keys are asked about.
    const [huge] = rowsOf(['huge-id'], START)
    const fields = (huge as Buffer).toString().split('\t')
    fields[1] = 'ab'.repeat(70_000)
    const [lost] = rowsOf(['beside-huge'], START + 2)
    // Not stored, either of them: the one that can be asked about is found missing, the other counted as stored.
    expect(names(await missingRows(store, segment([Buffer.from(fields.join('\t')), lost as Buffer])))).toEqual(['beside-huge'])
  })

  it('count a row twice in the segment twice, and none of a segment whose rows all have their keys stored', async () => {
    const [row] = rowsOf(['twice'])
    expect(await missingRows(store, segment([row as Buffer, row as Buffer]))).toHaveLength(2)
    await insert([row as Buffer])
    expect(await missingRows(store, segment([row as Buffer, row as Buffer]))).toEqual([])
    expect(await missingRows(store, segment([]))).toEqual([])
  })
})
