// The raw ceiling: the same normalized rows, in the same format, inserted straight
// into embedded ClickHouse in server-sized batches: no HTTP, no spool. Prints JSON.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createStore, loadConfig, migrate, normalizeSpan } from '@spanlens/ingest'
import { decodeProtobuf } from '../../packages/ingest/src/otlp/decode.js'
import { PriceTable } from '../../packages/ingest/src/normalize/cost.js'
import { encodeRow, ROW_COLUMNS, SEGMENT_FORMATS, SPOOL_FORMAT } from '../../packages/ingest/src/pipeline/row-format.js'
import { createPayloadFactory } from './payload.js'

const batches = Number(process.argv[2] ?? 8)
const batchRows = Number(process.argv[3] ?? 20000)
const dir = mkdtempSync(join(tmpdir(), 'spanlens-raw-'))
const store = await createStore(loadConfig({ env: { SPANLENS_DATA_DIR: dir } }).store)
await migrate(store)
const factory = createPayloadFactory(100)
const prices = PriceTable.load()
const bodies: Buffer[] = []
for (let b = 0; b < batches; b++) {
  const lines: string[] = []
  while (lines.length < batchRows) {
    for (const span of decodeProtobuf(factory.next()).spans) lines.push(encodeRow(normalizeSpan(span, 'raw', { prices })))
  }
  bodies.push(Buffer.from(`${lines.join('\n')}\n`))
}
const cpuStart = process.cpuUsage()
const started = process.hrtime.bigint()
for (const body of bodies) {
  await store.insertRaw({ table: 'spans', columns: ROW_COLUMNS, format: SEGMENT_FORMATS[SPOOL_FORMAT], body: [body] })
}
const seconds = Number(process.hrtime.bigint() - started) / 1e9
const cpu = process.cpuUsage(cpuStart)
const rs = await store.client.query({ query: "SELECT count() AS n FROM spans WHERE project_id = 'raw'", format: 'JSONEachRow' })
const stored = Number((await rs.json<{ n: string }>())[0]?.n)
await store.close()
rmSync(dir, { recursive: true, force: true })
process.stdout.write(`${JSON.stringify({ rows: stored, seconds, rowsPerSecond: stored / seconds, bytesPerRow: bodies[0]!.length / batchRows, cpuUsPerRow: (cpu.user + cpu.system) / stored, format: SEGMENT_FORMATS[SPOOL_FORMAT] })}\n`)
