// What the lookup after a doubtful insert costs (stored-rows.ts): when an earlier attempt at a
// spool segment may have reached ClickHouse (it failed after its request was sent, or the
// segment is replayed at start), the inserter asks the table which of the segment's rows it
// holds once the retry is answered, and inserts the missing ones again. Compared here with
// the insert it follows, on a table that already holds `--spans` spans over the last day,
// embedded (chDB) and on one served engine (`spanlens clickhouse serve`), in one run.
//
//   cd bench && node --conditions=@spanlens/source --import tsx ingest/restore-lookup.ts [--spans 2000000] [--rows 40000] [--rounds 5]
//
// Per store and round: a new segment of `--rows` LLM spans (the default SPANLENS_BATCH_MAX_ROWS)
// inserted under a token of its own (timed); the lookup of that segment, all of it stored; the
// lookup of a segment never inserted, none of it stored; the lookup of a segment of late spans
// (spread over the day, so asked about a chunk of keys at a time), inserted first. Medians.
import { mkdtempSync, rmSync } from 'node:fs'
import { cpus, loadavg, tmpdir, totalmem } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { createStore, loadConfig, migrate, type Store } from '@spanlens/ingest'
import { PriceTable } from '../../packages/ingest/src/normalize/cost.js'
import { normalizeSpan } from '../../packages/ingest/src/normalize/normalize.js'
import type { OtlpSpan } from '../../packages/ingest/src/otlp/model.js'
import { encodeRow } from '../../packages/ingest/src/pipeline/row-format.js'
import { missingRows } from '../../packages/ingest/src/pipeline/stored-rows.js'
import { SPANS } from '../../packages/ingest/src/pipeline/tables.js'
import { serveClickHouse } from '../lib/served-clickhouse.js'

const { values } = parseArgs({ options: { spans: { type: 'string', default: '2000000' }, rows: { type: 'string', default: '40000' }, rounds: { type: 'string', default: '5' } } })
const SPAN_COUNT = Number(values.spans)
const ROWS = Number(values.rows)
const ROUNDS = Number(values.rounds)
const P = 'bench'
const log = (s: string) => process.stdout.write(`${s}\n`)
const median = (xs: number[]) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number
const ms = async (f: () => Promise<unknown>) => {
  const t = process.hrtime.bigint()
  await f()
  return Number(process.hrtime.bigint() - t) / 1e6
}

const prices = PriceTable.load(undefined)
const prompt = 'Summarize the quarterly revenue guidance for the retail segment and list the three largest risks. '.repeat(6)
const answer = 'Revenue guidance was raised by two percent; the risks are supply costs, currency and demand. '.repeat(4)
let seq = 0

/**
 * `n` LLM spans encoded as the spool holds them: of the last minute, 1 µs apart (a segment of
 * new spans), or `spread` over the last day (a segment of late spans: the range holds every
 * span generated, and the lookup asks about the keys a chunk at a time).
 */
function segmentRows(n: number, spread = false): Buffer[] {
  const now = BigInt(Date.now()) * 1_000_000n
  return Array.from({ length: n }, (_, i) => {
    seq++
    const ns = String(spread ? now - 86_400_000_000_000n + (BigInt(i) * 86_000_000_000_000n) / BigInt(n) : now - 60_000_000_000n + BigInt(seq) * 1000n)
    const span: OtlpSpan = {
      resource: { 'service.name': 'bench' },
      scopeName: 'bench',
      scopeVersion: '',
      scopeAttributes: {},
      traceId: `${(seq >> 2).toString(16).padStart(24, '0')}ffffffff`,
      spanId: seq.toString(16).padStart(16, '0'),
      parentSpanId: '',
      name: 'chat gpt-4o',
      kind: 3,
      startNs: ns,
      endNs: String(BigInt(ns) + 900_000_000n),
      attributes: {
        'gen_ai.operation.name': 'chat',
        'gen_ai.system': 'openai',
        'gen_ai.request.model': 'gpt-4o',
        'gen_ai.usage.input_tokens': 180,
        'gen_ai.usage.output_tokens': 60,
        'gen_ai.prompt.0.role': 'user',
        'gen_ai.prompt.0.content': prompt,
        'gen_ai.completion.0.role': 'assistant',
        'gen_ai.completion.0.content': answer,
      },
      events: [],
      links: [],
      statusCode: 0,
      statusMessage: '',
    }
    return Buffer.from(encodeRow(normalizeSpan(span, P, { prices })))
  })
}

const asSegment = (rows: Buffer[]) => ({ table: SPANS.name, columns: SPANS.columns, format: 'TabSeparated' as const, rows })

/** `SPAN_COUNT` spans over the last day, generated inside ClickHouse: what the lookup searches among. */
async function fill(store: Store): Promise<void> {
  await store.client.command({
    query: `INSERT INTO spans (project_id, trace_id, span_id, name, kind, span_kind, service_name, start_time, end_time, duration_ms, provider, request_model, input, output)
      SELECT '${P}', leftPad(lower(hex(intDiv(number, 4))), 32, '0'), leftPad(lower(hex(number)), 16, '0'), 'chat gpt-4o', 'llm', 'client', 'bench',
        now64(9) - toIntervalSecond(86400 * number / ${SPAN_COUNT}) - toIntervalMinute(2), now64(9) - toIntervalSecond(86400 * number / ${SPAN_COUNT}), 900, 'openai', 'gpt-4o',
        '${prompt}', '${answer}'
      FROM numbers(${SPAN_COUNT})`,
    clickhouse_settings: { max_partitions_per_insert_block: '1000' },
  })
}

interface Row {
  store: string
  insertMs: number
  foundMs: number
  absentMs: number
  spreadMs: number
}

async function measure(name: string, store: Store): Promise<Row> {
  await migrate(store)
  const filled = await ms(() => fill(store))
  log(`${name}: ${SPAN_COUNT.toLocaleString('en')} spans generated in ${(filled / 1000).toFixed(1)} s`)
  const insert: number[] = []
  const found: number[] = []
  const absent: number[] = []
  const spread: number[] = []
  const insertRows = (rows: Buffer[]) => {
    const body = Buffer.concat(rows.flatMap((r) => [r, Buffer.from('\n')]))
    return ms(() => store.insertRaw({ table: SPANS.name, columns: SPANS.columns, format: 'TabSeparated', body: [body], settings: { insert_deduplication_token: `bench-${seq}`, max_partitions_per_insert_block: '1000' } }))
  }
  for (let round = 0; round < ROUNDS; round++) {
    const rows = segmentRows(ROWS)
    insert.push(await insertRows(rows))
    let missing = -1
    found.push(await ms(async () => void (missing = (await missingRows(store, asSegment(rows))).length)))
    if (missing !== 0) throw new Error(`${name}: ${missing} rows of an inserted segment looked missing`)
    const never = segmentRows(ROWS)
    absent.push(await ms(async () => void (missing = (await missingRows(store, asSegment(never))).length)))
    if (missing !== ROWS) throw new Error(`${name}: ${missing} of ${ROWS} rows never inserted looked missing`)
    const late = segmentRows(ROWS, true)
    await insertRows(late)
    spread.push(await ms(async () => void (missing = (await missingRows(store, asSegment(late))).length)))
    if (missing !== 0) throw new Error(`${name}: ${missing} rows of an inserted segment of late spans looked missing`)
  }
  return { store: name, insertMs: median(insert), foundMs: median(found), absentMs: median(absent), spreadMs: median(spread) }
}

const results: Row[] = []
const dir = mkdtempSync(join(tmpdir(), 'spanlens-restore-lookup-'))
try {
  const embedded = await createStore(loadConfig({ env: { SPANLENS_DATA_DIR: dir } }).store)
  try {
    results.push(await measure('embedded', embedded))
  } finally {
    await embedded.close()
  }
  const served = await serveClickHouse({ from: 'source' })
  try {
    const store = await createStore(loadConfig({ env: { SPANLENS_DATA_DIR: join(dir, 'remote'), SPANLENS_CLICKHOUSE_URL: served.httpUrl } }).store)
    try {
      results.push(await measure('served', store))
    } finally {
      await store.close()
    }
  } finally {
    await served.stop()
  }
} finally {
  rmSync(dir, { recursive: true, force: true })
}

log(`\nrestore-lookup: a ${ROWS.toLocaleString('en')}-row segment among ${SPAN_COUNT.toLocaleString('en')} spans, median of ${ROUNDS}`)
log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}; load ${loadavg().map((l) => l.toFixed(2)).join(' ')}`)
log('| store | insert | lookup, all stored | lookup, none stored | lookup / insert | lookup of late spans (in chunks), all stored | / insert |')
log('|---|---:|---:|---:|---:|---:|---:|')
for (const r of results) {
  const ratio = (x: number) => (x / r.insertMs).toFixed(2)
  log(`| ${r.store} | ${r.insertMs.toFixed(0)} ms | ${r.foundMs.toFixed(0)} ms | ${r.absentMs.toFixed(0)} ms | ${ratio(r.foundMs)}, ${ratio(r.absentMs)} | ${r.spreadMs.toFixed(0)} ms | ${ratio(r.spreadMs)} |`)
}
