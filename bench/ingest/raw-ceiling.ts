// The raw ceiling: the same normalized rows, in the same format, inserted straight
// into ClickHouse in server-sized batches, the server's way: embedded, each batch a
// file that ClickHouse reads; remote, each file streamed as one HTTP insert, as many
// at once as the server's SPANLENS_INSERT_CONCURRENCY. No OTLP, no decoding, no spool.
// Prints JSON.
//   raw-ceiling.ts <total rows> <max rows per insert> <max bytes per insert> [inserts in flight] [variant]
// The variant (schema-variants.ts) is the table the rows go into: `schema` (default), our
// spans table as migrated; `floor`, a bare MergeTree of the same columns and order, the
// engine's own floor; or the spans table less one index, view, column or its codecs.
// Remote when SPANLENS_CLICKHOUSE_URL / _DATABASE are set (the database is dropped at
// the end); BENCH_ENGINE_PID names the served engine, whose CPU is then counted too.
// Inserts are as big as the server's biggest batch (both of its limits apply):
// insert size alone moves chDB's CPU per row by a third (bench/README.md).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createStore, loadConfig, migrate, normalizeSpan } from '@spanlens/ingest'
import { decodeProtobuf } from '../../packages/ingest/src/otlp/decode.js'
import { PriceTable } from '../../packages/ingest/src/normalize/cost.js'
import { encodeRow, SEGMENT_FORMATS, SPOOL_FORMAT } from '../../packages/ingest/src/pipeline/row-format.js'
import { SPANS } from '../../packages/ingest/src/pipeline/tables.js'
import { cpuSeconds } from '../lib/served-clickhouse.js'
import { createPayloadFactory } from './payload.js'
import { applyVariant, type Variant } from './schema-variants.js'

const totalRows = Number(process.argv[2] ?? 200_000)
const maxRows = Number(process.argv[3] ?? 20_000)
const maxBytes = Number(process.argv[4] ?? 16 * 1024 * 1024)
const inFlight = Number(process.argv[5] ?? 1)
const variant = (process.argv[6] ?? 'schema') as Variant
const dir = mkdtempSync(join(tmpdir(), 'spanlens-raw-'))
const remote = Object.fromEntries(
  ['SPANLENS_CLICKHOUSE_URL', 'SPANLENS_CLICKHOUSE_DATABASE'].flatMap((k) => (process.env[k] ? [[k, process.env[k] as string]] : [])),
)
const store = await createStore(loadConfig({ env: { SPANLENS_DATA_DIR: dir, ...remote } }).store)
const enginePid = process.env.BENCH_ENGINE_PID ? Number(process.env.BENCH_ENGINE_PID) : undefined
const engineCpuSeconds = () => (enginePid === undefined ? 0 : cpuSeconds(enginePid))
await migrate(store)
const table = await applyVariant(store, variant)
const factory = createPayloadFactory(100)
const prices = PriceTable.load()
const files: string[] = []
let bodyBytes = 0
const addBody = (body: string) => {
  const file = join(dir, `batch-${files.length}.tsv`)
  // As a spool segment: the column line, then the rows (TabSeparatedWithNames).
  writeFileSync(file, SPANS.header + body)
  bodyBytes += Buffer.byteLength(body)
  files.push(file)
}
let lines: string[] = []
let bytes = 0
let made = 0
while (made < totalRows) {
  for (const span of decodeProtobuf(factory.next()).spans) {
    const line = `${encodeRow(normalizeSpan(span, 'raw', { prices }))}\n`
    const size = Buffer.byteLength(line)
    if (lines.length > 0 && (lines.length >= maxRows || bytes + size > maxBytes)) {
      addBody(lines.join(''))
      lines = []
      bytes = 0
    }
    lines.push(line)
    bytes += size
    made++
  }
}
if (lines.length > 0) addBody(lines.join(''))
const cpuStart = process.cpuUsage()
const engineStart = engineCpuSeconds()
const started = process.hrtime.bigint()
let next = 0
const worker = async () => {
  while (next < files.length) {
    const path = files[next++] as string
    await store.insertFile({ table, columns: SPANS.columns, format: SEGMENT_FORMATS[SPOOL_FORMAT], path })
  }
}
await Promise.all(Array.from({ length: inFlight }, worker))
const seconds = Number(process.hrtime.bigint() - started) / 1e9
const cpu = process.cpuUsage(cpuStart)
const engineUs = (engineCpuSeconds() - engineStart) * 1e6
const rs = await store.client.query({ query: `SELECT count() AS n FROM ${table} WHERE project_id = 'raw'`, format: 'JSONEachRow' })
const stored = Number((await rs.json<{ n: string }>())[0]?.n)
// What the rows take on disk, the codecs' side of the bargain (the table's active parts).
const disk = await store.client.query({
  query: `SELECT sum(data_compressed_bytes) AS compressed, sum(data_uncompressed_bytes) AS uncompressed FROM system.parts WHERE active AND database = currentDatabase() AND table = '${table}'`,
  format: 'JSONEachRow',
})
const { compressed, uncompressed } = (await disk.json<{ compressed: string; uncompressed: string }>())[0] ?? { compressed: '0', uncompressed: '0' }
if (store.mode === 'remote') await store.client.command({ query: `DROP DATABASE ${store.database}` })
await store.close()
rmSync(dir, { recursive: true, force: true })
process.stdout.write(`${JSON.stringify({ rows: stored, seconds, rowsPerSecond: stored / seconds, bytesPerRow: bodyBytes / made, rowsPerInsert: Math.round(made / files.length), cpuUsPerRow: (cpu.user + cpu.system + engineUs) / stored, engineCpuUsPerRow: engineUs / stored, inFlight, format: SEGMENT_FORMATS[SPOOL_FORMAT], variant, compressedBytesPerRow: Number(compressed) / stored, uncompressedBytesPerRow: Number(uncompressed) / stored })}\n`)
