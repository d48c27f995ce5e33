// What each part of the spans table costs at insert and saves at query time, in one run.
//   cd bench && npm run schema-cost -- [--rows 200000] [--rounds 3] [--spans 2000000]
// 1. Insert: the raw ceiling (raw-ceiling.ts, a process per measurement, embedded chDB,
//    the server's batch sizes; `--rounds 0` skips this part) into each variant of the migrated schema (schema-variants.ts):
//    as migrated, less each skip index, materialized view and MATERIALIZED column one at a
//    time, with default codecs, and the engine's floor. Rounds alternate the order; medians.
// 2. Query: spans generated inside ClickHouse (one store, as migrated, OPTIMIZE FINAL), and
//    the queries each part serves, through @spanlens/query, with it and without it: a skip
//    index ignored (ignore_data_skipping_indices), the rollup's summary read from raw spans
//    (the library's own fallback), the refusal flag computed from the text (the library's
//    custom-phrases path, with the default phrases), and for the codecs a copy of the table
//    with them removed, compared by size on disk and a scan of the columns that have one.
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { cpus, loadavg, tmpdir, totalmem } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { ClickHouseClient } from '@clickhouse/client'
import { createStore, loadConfig, migrate } from '@spanlens/ingest'
import { bias, getTrace, listTraces, summary } from '@spanlens/query'
import { REFUSAL_PHRASES } from '../../packages/query/src/bias/refusal-phrases.js'
import { getSession } from '../../packages/query/src/sessions/session.js'
import { userSummary } from '../../packages/query/src/users/user.js'
import { schemaParts, variantsOf, type Variant } from './schema-variants.js'

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`)
  return i > 0 ? Number(process.argv[i + 1]) : fallback
}
const ROWS = arg('rows', 200_000)
const ROUNDS = arg('rounds', 3)
const SPANS = arg('spans', 2_000_000)
const QUERY_ROUNDS = 5
const P = 'bench'
const here = fileURLToPath(new URL('.', import.meta.url))
const log = (s: string) => process.stdout.write(`${s}\n`)
const loadAverage = () => loadavg().map((l) => l.toFixed(2)).join(' ')
const median = (xs: number[]) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number
const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}`
const loadAtStart = loadAverage()
log(`machine: ${machine}; load average ${loadAtStart}`)
log(`command: cd bench && npm run schema-cost -- --rows ${ROWS} --rounds ${ROUNDS} --spans ${SPANS}`)

const dir = mkdtempSync(join(tmpdir(), 'spanlens-schema-cost-'))
const store = await createStore(loadConfig({ env: { SPANLENS_DATA_DIR: dir } }).store)
await migrate(store)
const parts = await schemaParts(store)
const variants = variantsOf(parts)
log(`schema: skip indexes ${parts.indexes.join(', ')}; views on insert ${parts.views.join(', ')}; MATERIALIZED ${parts.materialized.join(', ')}; ${parts.codecColumns.length} columns with a CODEC`)

// ---- 1. Insert cost -------------------------------------------------------------------
const { batchMaxRows, batchMaxBytes } = loadConfig({ env: {} }).ingest
interface Insert {
  rowsPerSecond: number
  cpuUsPerRow: number
  rowsPerInsert: number
}
const inserts = new Map<Variant, Insert[]>(variants.map((v) => [v, []]))
for (let round = 0; round < ROUNDS; round++) {
  // Each round starts one further along and every other one runs backwards, so no variant always follows the same one.
  const rotated = [...variants.slice(round % variants.length), ...variants.slice(0, round % variants.length)]
  for (const variant of round % 2 === 0 ? rotated : rotated.reverse()) {
    const args = [join(here, 'raw-ceiling.ts'), String(ROWS), String(batchMaxRows), String(batchMaxBytes), '1', variant]
    const r = spawnSync(process.execPath, ['--conditions=@spanlens/source', '--import', 'tsx', ...args], { encoding: 'utf8', cwd: join(here, '..') })
    if (r.status !== 0) throw new Error(`raw ceiling (${variant}) failed: ${r.stderr}`)
    const m = JSON.parse(r.stdout.trim().split('\n').pop() as string) as Insert
    inserts.get(variant)?.push(m)
    log(`insert round ${round + 1}, ${variant}: ${Math.round(m.rowsPerSecond)} rows/s, ${m.cpuUsPerRow.toFixed(1)} µs CPU/row (load ${loadAverage()})`)
  }
}
const cpuOf = (v: Variant) => median((inserts.get(v) ?? []).map((m) => m.cpuUsPerRow))
const rateOf = (v: Variant) => median((inserts.get(v) ?? []).map((m) => m.rowsPerSecond))
const insertRows = ROUNDS === 0 ? [] : variants.map((v) => {
  const delta = cpuOf(v) - cpuOf('schema')
  const change = v === 'schema' ? '—' : `${delta >= 0 ? '+' : '−'}${Math.abs(delta).toFixed(1)} (${delta >= 0 ? '+' : '−'}${Math.abs((delta / cpuOf('schema')) * 100).toFixed(0)}%)`
  return `| ${v} | ${Math.round(rateOf(v))} | ${cpuOf(v).toFixed(1)} | ${change} |`
})

// ---- 2. Query savings -----------------------------------------------------------------
// 1 chain root + 3 LLM children per trace over 7 days (as bench/query generates), plus what the
// indexes need to be tested: 50,000 users spread over the week (a user's 10 traces fall in
// about 10 of the table's 61 index blocks of 4 × 8192 rows), sessions of 4 consecutive traces,
// and prompts and completions of 40 and 25 words drawn per row, so the codecs see varied text.
const PER_TRACE = 4
const TRACES = Math.floor(SPANS / PER_TRACE)
const WINDOW_MS = 7 * 86_400_000
const step = Math.max(1, Math.floor(WINDOW_MS / TRACES))
const WORDS = "['billing','refund','shipping','login','invoice','account','password','order','delivery','warranty','the','a','my','is','not','working','please','help','why','when','can','you','check','status','thanks','urgent','again','since','yesterday','today']"
const words = (n: number, salt: number) => `arrayStringConcat(arrayMap(i -> ${WORDS}[1 + cityHash64(number, i, ${salt}) % 30], range(${n})), ' ')`
const GENERATE = `INSERT INTO spans (project_id, trace_id, span_id, parent_span_id, name, kind, span_kind, service_name,
      start_time, end_time, duration_ms, status_code, provider, operation, request_model, response_model,
      input_tokens, output_tokens, total_tokens, cost_usd, ttft_ms, finish_reason, input, output, user_id, session_id,
      environment, release, attributes)
    SELECT '${P}', leftPad(lower(hex(tr)), 32, '0'), leftPad(lower(hex(number)), 16, '0'),
      if(pos = 0, '', leftPad(lower(hex(number - pos)), 16, '0')),
      if(pos = 0, 'agent run', 'chat'), if(pos = 0, 'chain', 'llm'), 'client', if(tr % 3 = 0, 'batch', 'chat'),
      st, st + toIntervalMillisecond(toUInt64(dur)), dur,
      if(h % 50 = 0, 'error', 'ok'), 'openai', 'chat', if(tr % 4 = 0, 'gpt-4o-mini', 'gpt-4o'), '',
      if(pos = 0, 0, 50 + h % 400), if(pos = 0, 0, out_tok), if(pos = 0, 0, 50 + h % 400 + out_tok),
      if(pos = 0, NULL, (50 + h % 400 + out_tok) * 2e-6), if(pos = 0, NULL, 50 + (h % 300)),
      if(pos = 0, '', if(h % 97 = 0, 'content_filter', 'stop')),
      if(pos = 0, '', ${words(40, 1)}),
      if(pos = 0, '', if(h % 89 = 0, concat('I cannot help with that. ', ${words(10, 2)}), ${words(25, 3)})),
      concat('user-', toString(cityHash64(tr, 7) % 50000)), concat('session-', toString(intDiv(tr, 4))), 'prod', if(tr % 2 = 1, 'v2', 'v1'),
      map('tenant', concat('tenant-', toString(tr % 20)))
    FROM (SELECT number, intDiv(number, ${PER_TRACE}) AS tr, number % ${PER_TRACE} AS pos, cityHash64(number) AS h,
                 now64(9) - toIntervalMillisecond(${WINDOW_MS} - tr * ${step}) + toIntervalMillisecond(pos * 10) AS st,
                 toFloat64(if(pos = 0, 900, 100) + h % 800 + if(tr % 2 = 1, 60, 0)) AS dur,
                 toUInt32(100 + h % 300 + if(tr % 2 = 1, 20, 0)) AS out_tok
          FROM numbers(${SPANS}))`
const c = store.client
let t0 = performance.now()
await c.command({ query: GENERATE, clickhouse_settings: { max_insert_threads: 2, max_block_size: 1_000_000 } as never })
const genSeconds = (performance.now() - t0) / 1000
t0 = performance.now()
await c.command({ query: 'OPTIMIZE TABLE spans FINAL' })
await c.command({ query: 'OPTIMIZE TABLE spans_minute FINAL' })
log(`generated ${SPANS.toLocaleString('en')} spans in ${genSeconds.toFixed(1)} s, optimized in ${((performance.now() - t0) / 1000).toFixed(1)} s (load ${loadAverage()})`)

// The same rows in a copy of the table without its codecs (ClickHouse's default, LZ4).
await c.command({ query: 'CREATE TABLE spans_lz4 AS spans' })
for (const column of parts.codecColumns) await c.command({ query: `ALTER TABLE spans_lz4 MODIFY COLUMN \`${column}\` REMOVE CODEC` })
await c.command({ query: 'INSERT INTO spans_lz4 SELECT * FROM spans' })
await c.command({ query: 'OPTIMIZE TABLE spans_lz4 FINAL' })

/** The client with a setting added to every query it sends. */
function withSettings(client: ClickHouseClient, settings: Record<string, string | number>): ClickHouseClient {
  return new Proxy(client, {
    get(target, prop) {
      if (prop !== 'query') return Reflect.get(target, prop, target)
      return (params: Parameters<ClickHouseClient['query']>[0]) =>
        target.query({ ...params, clickhouse_settings: { ...params.clickhouse_settings, ...settings } as never })
    },
  })
}
const ignoring = (index: string) => withSettings(c, { ignore_data_skipping_indices: index })

const traceId = (await listTraces(c, P, { limit: 1, filter: { from: new Date(Date.now() - 4 * 86_400_000), to: new Date(Date.now() - 3 * 86_400_000) } })).items[0]?.traceId as string
const middle = Math.floor(TRACES / 2)
const sessionId = `session-${Math.floor(middle / 4)}`
const userId = 'user-1234'
const week = { from: new Date(Date.now() - WINDOW_MS - 3_600_000), to: new Date(Date.now() + 60_000) }

// The granules left to read after every index, from EXPLAIN, as `read/total`.
async function granules(client: ClickHouseClient, where: string): Promise<string> {
  const rs = await client.query({ query: `EXPLAIN indexes = 1 SELECT count() FROM spans WHERE project_id = '${P}' AND ${where}`, format: 'TabSeparatedRaw' })
  const steps = (await rs.text()).split('\n').map((l) => l.trim()).filter((l) => l.startsWith('Granules:'))
  return steps.at(-1)?.replace('Granules: ', '') ?? '?'
}

interface QueryCase {
  part: string
  query: string
  withIt: (client: ClickHouseClient) => Promise<unknown>
  without: (client: ClickHouseClient) => Promise<unknown>
  /** EXPLAIN's filter for a skip index. */
  where?: string
}
const cases: QueryCase[] = [
  { part: 'idx_trace_id', query: 'one trace as a tree (getTrace)', withIt: (x) => getTrace(x, P, traceId), without: () => getTrace(ignoring('idx_trace_id'), P, traceId), where: `trace_id = '${traceId}'` },
  { part: 'idx_user_id', query: "50 traces of a user, 7 d (listTraces userId)", withIt: (x) => listTraces(x, P, { limit: 50, filter: { userId, from: week.from } }), without: () => listTraces(ignoring('idx_user_id'), P, { limit: 50, filter: { userId, from: week.from } }), where: `user_id = '${userId}'` },
  { part: 'idx_user_id', query: "a user's summary, 7 d hourly (userSummary)", withIt: (x) => userSummary(x, P, userId, { ...week, bucketSeconds: 3600 }), without: () => userSummary(ignoring('idx_user_id'), P, userId, { ...week, bucketSeconds: 3600 }) },
  { part: 'idx_session_id', query: "50 traces of a session (listTraces sessionId)", withIt: (x) => listTraces(x, P, { limit: 50, filter: { sessionId } }), without: () => listTraces(ignoring('idx_session_id'), P, { limit: 50, filter: { sessionId } }), where: `session_id = '${sessionId}'` },
  { part: 'idx_session_id', query: 'a session with its turns (getSession)', withIt: (x) => getSession(x, P, sessionId, { limit: 100 }), without: () => getSession(ignoring('idx_session_id'), P, sessionId, { limit: 100 }) },
  // Without the view the library reads raw spans (a filter outside the rollup's dimensions: duration ≥ 0, every span).
  { part: parts.views.join(', '), query: 'summary by model, hourly, 7 d', withIt: (x) => summary(x, P, { groupBy: ['model'], bucket: '1h' }), without: (x) => summary(x, P, { groupBy: ['model'], bucket: '1h', filter: { minDurationMs: 0 } }) },
  { part: parts.views.join(', '), query: 'summary, last 24 h, one row', withIt: (x) => summary(x, P, { filter: { from: new Date(Date.now() - 86_400_000) } }), without: (x) => summary(x, P, { filter: { from: new Date(Date.now() - 86_400_000), minDurationMs: 0 } }) },
  // Without the stored flag: the same phrases searched in the completions at query time.
  { part: parts.materialized.join(', '), query: 'bias: refusal rate by tenant', withIt: (x) => bias(x, P, { groupBy: 'attr:tenant', outcome: 'refusal_rate' }), without: (x) => bias(x, P, { groupBy: 'attr:tenant', outcome: 'refusal_rate', refusalPhrases: [...REFUSAL_PHRASES] }) },
]
// The codecs: a scan of each group of columns that has one, ours against the copy without them.
const CODEC_GROUPS: Array<[string, string]> = [
  ['ids (trace_id, span_id, parent_span_id)', 'trace_id, span_id, parent_span_id'],
  ['times (start_time, end_time, Delta + ZSTD)', 'start_time, end_time'],
  ['tokens (6 × UInt32, T64 + ZSTD)', 'input_tokens, output_tokens, total_tokens, cache_read_tokens, cache_write_tokens, reasoning_tokens'],
  ['content (input, output, ZSTD(3))', 'input, output'],
  ['user_id, session_id, attributes', 'user_id, session_id, attributes'],
]
const scan = (table: string, columns: string) => (x: ClickHouseClient) =>
  x.query({ query: `SELECT sum(cityHash64(${columns})) AS h FROM ${table} WHERE project_id = '${P}'`, format: 'JSONEachRow' }).then((rs) => rs.json())
for (const [name, columns] of CODEC_GROUPS) cases.push({ part: 'codecs', query: `scan: ${name}`, withIt: scan('spans', columns), without: scan('spans_lz4', columns) })

const queryRows: string[] = []
for (const q of cases) {
  const withMs: number[] = []
  const withoutMs: number[] = []
  // One run each first (not counted), then rounds alternating which goes first.
  await q.withIt(c)
  await q.without(c)
  for (let i = 0; i < QUERY_ROUNDS; i++) {
    const pair: Array<[(x: ClickHouseClient) => Promise<unknown>, number[]]> = [[q.withIt, withMs], [q.without, withoutMs]]
    for (const [fn, into] of i % 2 === 0 ? pair : pair.reverse()) {
      const s = performance.now()
      await fn(c)
      into.push(performance.now() - s)
    }
  }
  const w = median(withMs)
  const wo = median(withoutMs)
  const g = q.where ? `; granules ${await granules(c, q.where)} with it, ${await granules(ignoring(q.part), q.where)} without` : ''
  log(`${q.part}: ${q.query}: with ${w.toFixed(1)} ms, without ${wo.toFixed(1)} ms (${(wo / w).toFixed(2)}×)${g}`)
  queryRows.push(`| ${q.part} | ${q.query} | ${w.toFixed(1)} | ${wo.toFixed(1)} | ${(wo / w).toFixed(2)}× |`)
}

// Size on disk of the columns that have a codec, ours against the copy's (active parts).
const columnSizes = await (
  await c.query({
    query: `SELECT column AS name, sumIf(column_data_compressed_bytes, table = 'spans') AS ours, sumIf(column_data_compressed_bytes, table = 'spans_lz4') AS lz4,
              sumIf(column_data_uncompressed_bytes, table = 'spans') AS raw
            FROM system.parts_columns
            WHERE active AND database = currentDatabase() AND table IN ('spans', 'spans_lz4') AND column IN (${parts.codecColumns.map((n) => `'${n}'`).join(', ')})
            GROUP BY name ORDER BY raw DESC`,
    format: 'JSONEachRow',
  })
).json<{ name: string; ours: string; lz4: string; raw: string }>()
const total = (k: 'ours' | 'lz4' | 'raw') => columnSizes.reduce((n, r) => n + Number(r[k]), 0)
// The whole tables too: a compact part (under 10 MiB) keeps no per-column sizes.
const tableSizes = await (
  await c.query({
    query: `SELECT table, sum(data_compressed_bytes) AS bytes FROM system.parts WHERE active AND database = currentDatabase() AND table IN ('spans', 'spans_lz4') GROUP BY table`,
    format: 'JSONEachRow',
  })
).json<{ table: string; bytes: string }>()
const tableSize = (t: string) => Number(tableSizes.find((r) => r.table === t)?.bytes ?? 0)
const MiB = (b: number) => (b / 2 ** 20).toFixed(1)

await store.close()
rmSync(dir, { recursive: true, force: true })

log(`
Command: \`cd bench && npm run schema-cost -- --rows ${ROWS} --rounds ${ROUNDS} --spans ${SPANS}\`
Machine: ${machine}; load average ${loadAtStart} at the start, ${loadAverage()} at the end

${ROUNDS === 0 ? '' : `Insert (raw-ceiling.ts, embedded, ${ROWS.toLocaleString('en')} rows of the ingest bench's payload in the server's batch sizes (${inserts.get('schema')?.[0]?.rowsPerInsert} rows per insert), one at a time; median of ${ROUNDS} rounds):

| variant | rows/s | CPU µs/row | CPU µs/row against the schema |
|---|---:|---:|---:|
${insertRows.join('\n')}

`}Query (${SPANS.toLocaleString('en')} generated spans, OPTIMIZE FINAL; median of ${QUERY_ROUNDS} alternating runs after one of each):

| part | query | with ms | without ms | without / with |
|---|---|---:|---:|---:|
${queryRows.join('\n')}

The table on disk: ${MiB(tableSize('spans'))} MiB with our codecs, ${MiB(tableSize('spans_lz4'))} MiB without (${(tableSize('spans_lz4') / tableSize('spans')).toFixed(2)}×).
Columns with a codec on disk: ${MiB(total('ours'))} MiB with ours, ${MiB(total('lz4'))} MiB with LZ4 (${(total('lz4') / total('ours')).toFixed(2)}×), ${MiB(total('raw'))} MiB uncompressed. Per column, ours / LZ4 (largest first):
${columnSizes.map((r) => `${r.name} ${MiB(Number(r.ours))} / ${MiB(Number(r.lz4))}`).join(', ')}
`)
