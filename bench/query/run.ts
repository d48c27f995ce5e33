// Query latency over generated spans (default 10 million), on an embedded store,
// a two-shard cluster of served engines, or both side by side in one run.
//   cd bench && npm run query                                (embedded, 10 million spans)
//   cd bench && SPANS=2000000 npm run query -- --store embedded,cluster
// --store cluster: two `spanlens clickhouse serve` engines on this machine forming the
// cluster `spanlens` (one shard each, per-node DDL, docs/clickhouse.md), the spans
// inserted through the Distributed table. With both, every query runs on one store and
// then the other, case by case, so a change of the host's speed hits both alike.
import { mkdtempSync, rmSync } from 'node:fs'
import { cpus, loadavg, totalmem, tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import type { ClickHouseClient } from '@clickhouse/client'
import { createStore, loadConfig, migrate, type Store } from '@spanlens/ingest'
import { attributeKeys, bias, drift, getTrace, listSpans, listTraces, mergeContent, parseSloText, sloStatus, summary } from '@spanlens/query'
import { serveCluster, type ServedCluster } from '../lib/served-clickhouse.js'

const SPANS = Number(process.env.SPANS ?? 10_000_000)
const PER_TRACE = 4
const TRACES = Math.floor(SPANS / PER_TRACE)
const SPAN_WINDOW_MS = 7 * 86_400_000
const storeAt = process.argv.indexOf('--store')
const STORES = (storeAt > 0 ? (process.argv[storeAt + 1] as string) : 'embedded').split(',')
if (STORES.length === 0 || STORES.some((s) => s !== 'embedded' && s !== 'cluster')) throw new Error('--store embedded, cluster or embedded,cluster')
// --only <regex>: only the cases whose name matches (the drift rounds and content reads only if one of theirs does).
// --keep <dir>: the embedded store in <dir>, generated there unless it already holds SPANS spans, and kept.
const arg = (flag: string) => (process.argv.indexOf(flag) > 0 ? process.argv[process.argv.indexOf(flag) + 1] : undefined)
const ONLY = arg('--only') === undefined ? undefined : new RegExp(arg('--only') as string)
const KEEP = arg('--keep')
const flags = `${storeAt > 0 ? ` --store ${STORES.join(',')}` : ''}${ONLY ? ` --only '${ONLY.source}'` : ''}${KEEP ? ` --keep ${KEEP}` : ''}`
const command = `cd bench && ${process.env.SPANS ? `SPANS=${SPANS} ` : ''}npm run query${flags ? ` --${flags}` : ''}`

const log = (s: string) => process.stdout.write(`${s}\n`)
const machine = `${cpus().length} x ${cpus()[0]?.model ?? '?'}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM, Node ${process.version}`
const loadAverage = () => loadavg().map((l) => l.toFixed(2)).join(' ')
const loadAtStart = loadAverage()
log(`machine: ${machine}; load average ${loadAtStart}`)
log(`command: ${command}`)

interface Target {
  name: string
  store: Store
  c: ClickHouseClient
  genSeconds: number
  optimizeSeconds: number
  close(): Promise<void>
}

// Generated inside ClickHouse: 1 chain root + 3 LLM children per trace, spread over 7 days.
// Release v2 (odd traces) is slower and answers longer; 2% errors; 20 tenants. Trace ids are
// random (a hash, then the trace's number): sequential ones put a page's traces in one granule.
// The step between traces in ns: in whole ms it was rounded down (241.9 to 241 at 10 million
// spans), so the data ended 38 minutes (10 M) or 80 minutes (100 M) before the run and the
// listings' newest hour was empty.
const stepNs = Math.max(1, Math.floor((SPAN_WINDOW_MS * 1e6) / TRACES))
const GENERATE = `INSERT INTO spans (project_id, trace_id, span_id, parent_span_id, name, kind, span_kind, service_name,
      start_time, end_time, duration_ms, status_code, provider, operation, request_model, response_model,
      input_tokens, output_tokens, total_tokens, cost_usd, ttft_ms, finish_reason, input, output, user_id,
      environment, release, attributes)
    SELECT 'bench', concat(leftPad(lower(hex(cityHash64(tr))), 16, '0'), leftPad(lower(hex(tr)), 16, '0')), leftPad(lower(hex(number)), 16, '0'),
      if(pos = 0, '', leftPad(lower(hex(number - pos)), 16, '0')),
      if(pos = 0, 'agent run', 'chat'), if(pos = 0, 'chain', 'llm'), 'client', if(tr % 3 = 0, 'batch', 'chat'),
      st, st + toIntervalMillisecond(toUInt64(dur)), dur,
      if(h % 50 = 0, 'error', 'ok'), 'openai', 'chat', if(tr % 4 = 0, 'gpt-4o-mini', 'gpt-4o'), '',
      if(pos = 0, 0, 50 + h % 400), if(pos = 0, 0, out_tok), if(pos = 0, 0, 50 + h % 400 + out_tok),
      if(pos = 0, NULL, (50 + h % 400 + out_tok) * 2e-6), if(pos = 0, NULL, 50 + (h % 300)),
      if(pos = 0, '', if(h % 97 = 0, 'content_filter', 'stop')),
      if(pos = 0, '', concat('question about ', ['billing', 'refund', 'shipping', 'login', 'invoice'][1 + (h % 5)], ' order ', toString(h % 1000))),
      if(pos = 0, '', if(h % 89 = 0, 'I cannot help with that', 'Here is the answer')),
      concat('user-', toString(tr % 5000)), 'prod', if(tr % 2 = 1, 'v2', 'v1'),
      map('tenant', concat('tenant-', toString(tr % 20)))
    FROM (SELECT number, intDiv(number, ${PER_TRACE}) AS tr, number % ${PER_TRACE} AS pos, cityHash64(number) AS h,
                 now64(9) - toIntervalNanosecond(${SPAN_WINDOW_MS * 1e6} - tr * ${stepNs}) + toIntervalMillisecond(pos * 10) AS st,
                 toFloat64(if(pos = 0, 900, 100) + h % 800 + if(tr % 2 = 1, 60, 0)) AS dur,
                 toUInt32(100 + h % 300 + if(tr % 2 = 1, 20, 0)) AS out_tok
          FROM numbers(${SPANS}))`

/** A statement on `spans`' parts: on a cluster each node runs it on its own shard's `spans_local` (the Distributed table holds no parts). */
const onSpanParts = (store: Store, sql: (table: string) => string, settings: Record<string, string> = {}): Array<Promise<unknown>> =>
  store.nodes
    ? store.nodes.map((n) => n.client.command({ query: sql('spans_local'), clickhouse_settings: settings as never }))
    : [store.client.command({ query: sql('spans'), clickhouse_settings: settings as never })]

async function open(name: string): Promise<Target> {
  const dir = KEEP && name === 'embedded' ? KEEP : mkdtempSync(join(tmpdir(), 'spanlens-bench-query-'))
  let cluster: ServedCluster | undefined
  if (name === 'cluster') {
    cluster = await serveCluster(2, 'source')
    log(`cluster: ${cluster.nodes.map((n) => `${n.httpUrl} (engine pid ${n.enginePid})`).join(', ')}`)
  }
  const store = await createStore(loadConfig({ env: { SPANLENS_DATA_DIR: dir, ...(cluster ? cluster.env('bench') : {}) } }).store)
  await migrate(store)
  // The spans a kept store holds, or -1 when a run's content cases changed it (they add content rows first).
  const kept = async () => {
    const rs = await store.client.query({
      query: "SELECT (SELECT count() FROM spans FINAL WHERE project_id = 'bench') AS n, (SELECT count() FROM span_content) AS content",
      format: 'JSONEachRow',
    })
    const row = (await rs.json<{ n: string; content: string }>())[0]
    return Number(row?.content) > 0 ? -1 : Number(row?.n)
  }
  if (dir === KEEP) {
    const n = await kept()
    if (n === SPANS) {
      log(`${name}: ${SPANS.toLocaleString('en')} spans kept in ${dir}`)
      return { name, store, c: store.client, genSeconds: 0, optimizeSeconds: 0, close: () => store.close() }
    }
    // Another SPANS, or a store a full run changed (its content cases add spans and rewrite some):
    // generated again from empty tables, not on top of what is there.
    if (n !== 0) {
      log(`${name}: ${dir} holds ${n < 0 ? 'spans a full run changed' : `${n.toLocaleString('en')} spans`}, not ${SPANS.toLocaleString('en')}: emptied and generated again`)
      const rs = await store.client.query({ query: "SELECT name FROM system.tables WHERE database = currentDatabase() AND engine LIKE '%MergeTree'", format: 'JSONEachRow' })
      for (const { name: table } of await rs.json<{ name: string }>()) await store.client.command({ query: `TRUNCATE TABLE ${table}` })
    }
  }
  const t0 = performance.now()
  // Progress headers every 10 s keep the HTTP reply alive: a served store's insert of 10 million
  // spans through the Distributed table outlasts the client's 30 s request timeout.
  const keepAlive = name === 'cluster' ? { send_progress_in_http_headers: 1, http_headers_progress_interval_ms: '10000' } : {}
  await store.client.command({ query: GENERATE, clickhouse_settings: { max_insert_threads: 2, max_block_size: 1_000_000, ...keepAlive } as never })
  const genSeconds = (performance.now() - t0) / 1000
  log(`${name}: generated ${SPANS.toLocaleString('en')} spans in ${genSeconds.toFixed(1)} s`)
  await Promise.all(onSpanParts(store, (table) => `OPTIMIZE TABLE ${table} FINAL`).map((p) => p.catch(() => undefined)))
  const optimizeSeconds = (performance.now() - t0) / 1000 - genSeconds
  log(`${name}: optimized in ${optimizeSeconds.toFixed(1)} s`)
  // Every span where the queries read it (on the cluster: across both shards), once.
  const rs = await store.client.query({ query: "SELECT count() AS n FROM spans FINAL WHERE project_id = 'bench'", format: 'JSONEachRow' })
  const stored = Number((await rs.json<{ n: string }>())[0]?.n)
  if (stored !== SPANS) throw new Error(`${name}: ${stored} spans stored, ${SPANS} generated`)
  return {
    name,
    store,
    c: store.client,
    genSeconds,
    optimizeSeconds,
    async close() {
      await store.close()
      await cluster?.stop()
      if (dir !== KEEP) rmSync(dir, { recursive: true, force: true })
    },
  }
}

// One store at a time: generating into both at once would halve each one's cores.
const targets: Target[] = []
for (const name of STORES) targets.push(await open(name))

const P = 'bench'
const slos = parseSloText(`
slos:
  - { name: availability, service: chat, objective: 99.5, window: 30d, indicator: { type: success } }
  - { name: latency, service: chat, objective: 99, window: 30d, indicator: { type: latency, thresholdMs: 1500 } }
`)
const someTrace = new Map<Target, string>()
for (const t of targets) someTrace.set(t, (await listTraces(t.c, P, { limit: 1 })).items[0]?.traceId ?? '')

// The third element of an analytics case is its floor: a bare scan of the columns the query
// reads over the rows its filter selects (no FINAL, no grouping), summing a hash so no column
// is skipped. The rollup summary's floor reads the rollup's counters, not its t-digest states.
type Case = [string, (c: ClickHouseClient, traceId: string) => Promise<unknown>, string?]
const scan = (cols: string, where: string) => `SELECT sum(cityHash64(${cols})) FROM spans WHERE project_id = '${P}' AND ${where}`
const LAST_2D = 'start_time >= now() - INTERVAL 2 DAY'
const REPORT_COLS = 'kind, start_time, input_tokens, output_tokens, duration_ms, ttft_ms, cost_usd, request_model, response_model, finish_reason, status_code, input, output, embedding'
const cases: Case[] = [
  ['trace list: newest 50 traces (7 d)', (c) => listTraces(c, P, { limit: 50, filter: { from: new Date(Date.now() - 7 * 86_400_000) } })],
  ['trace list: 50 traces with model=gpt-4o-mini, last 24 h', (c) => listTraces(c, P, { limit: 50, filter: { from: new Date(Date.now() - 86_400_000), model: ['gpt-4o-mini'] } })],
  // What the console asks on every load of the listing (total=1), and a listing sorted by a trace total.
  ['trace list: newest 50 traces with their count, last 24 h', (c) => listTraces(c, P, { limit: 50, total: true, filter: { from: new Date(Date.now() - 86_400_000) } })],
  ['trace list: 50 most costly traces, last 24 h', (c) => listTraces(c, P, { limit: 50, order: { field: 'costUsd', desc: true }, filter: { from: new Date(Date.now() - 86_400_000) } })],
  ['span list: 50 error spans, service=chat', (c) => listSpans(c, P, { limit: 50, filter: { service: ['chat'], status: ['error'] } })],
  ['one trace as a tree', (c, traceId) => getTrace(c, P, traceId)],
  ['attribute keys of the last 7 d, most used first', (c) => attributeKeys(c, P, { from: new Date(Date.now() - 7 * 86_400_000) }), scan('attributes.keys, resource_attributes.keys', '1')],
  // The rollup summary reads whole hours through the rollup's hourly projection (clickhouse/009, 011):
  // its floor is that projection's counters, without the t-digest states.
  ['summary by model, hourly buckets (rollup)', (c) => summary(c, P, { groupBy: ['model'], bucket: '1h' }),
    `SELECT sum(cityHash64(*)) FROM (SELECT toStartOfHour(minute, 'UTC') AS h, service_name, model, provider, operation, kind, environment, release,
       sum(calls), sum(errors), sum(input_tokens), sum(output_tokens), sum(total_tokens), sum(cache_read_tokens), sum(cache_write_tokens), sum(reasoning_tokens),
       sum(cost_usd), sum(cost_unknown), sum(duration_sum_ms), max(duration_max_ms), sum(ttft_count)
     FROM spans_minute WHERE project_id = '${P}' GROUP BY h, service_name, model, provider, operation, kind, environment, release)`],
  // Buckets that are not whole minutes read spans (a minute's rollup row cannot be split).
  ['summary by model, 30-second buckets over 24 h (spans)', (c) => summary(c, P, { groupBy: ['model'], bucket: '30s', filter: { from: new Date(Date.now() - 86_400_000) } }),
    scan('kind, start_time, request_model, response_model, status_code, input_tokens, output_tokens, total_tokens, cache_read_tokens, cache_write_tokens, reasoning_tokens, cost_usd, duration_ms, ttft_ms', 'start_time >= now() - INTERVAL 1 DAY')],
  ['drift latency v1 vs v2 (PSI, KS, Wasserstein)', (c) => drift(c, P, { dimension: 'release', reference: 'v1', current: 'v2', signals: ['latency'] }), scan('kind, release, duration_ms', "release IN ('v1', 'v2')")],
  ['drift model v1 vs v2 (chi2, JS)', (c) => drift(c, P, { dimension: 'release', reference: 'v1', current: 'v2', signals: ['model'] }), scan('kind, release, request_model, response_model', "release IN ('v1', 'v2')")],
  ['drift latency last 24 h vs previous 24 h', (c) => drift(c, P, { reference: { from: 'now-2d', to: 'now-1d' }, current: { from: 'now-1d' }, signals: ['latency'] }), scan('kind, start_time, duration_ms', LAST_2D)],
  ['drift prompt vocabulary last 24 h vs previous 24 h', (c) => drift(c, P, { reference: { from: 'now-2d', to: 'now-1d' }, current: { from: 'now-1d' }, signals: ['prompt'] }), scan('kind, start_time, input', LAST_2D)],
  ['drift full default report, 24 h vs 24 h (11 signals)', (c) => drift(c, P, { reference: { from: 'now-2d', to: 'now-1d' }, current: { from: 'now-1d' } }), scan(REPORT_COLS, LAST_2D)],
  ['bias error rate by tenant (20 groups)', (c) => bias(c, P, { groupBy: 'attr:tenant', outcome: 'error_rate' }), scan('kind, attributes, status_code', '1')],
  // With no content rows in the project, the stored refusal flag (005) is what it reads.
  ['bias refusal rate by tenant', (c) => bias(c, P, { groupBy: 'attr:tenant', outcome: 'refusal_rate' }), scan('kind, attributes, refusal', '1')],
  ['bias p95 latency by release', (c) => bias(c, P, { groupBy: 'release', outcome: 'latency_p95' }), scan('kind, release, duration_ms', '1')],
  ['SLO status: availability (rollup) + latency (spans), all windows', (c) => sloStatus(c, P, slos), scan('service_name, start_time, status_code, duration_ms', 'start_time >= now() - INTERVAL 30 DAY')],
]

/** Rows and bytes read, summed over a case's queries. */
interface Reads {
  rows: number
  bytes: number
  /** queries whose reads are not known: no X-ClickHouse-Summary (chDB's client passes none) and no JSON statistics */
  unknown: number
}

/** The client with each reply's X-ClickHouse-Summary added to `reads`. */
function metered(c: ClickHouseClient, reads: Reads): ClickHouseClient {
  return new Proxy(c, {
    get(target, prop) {
      if (prop !== 'query') return Reflect.get(target, prop, target)
      return async (params: Parameters<ClickHouseClient['query']>[0]) => {
        const rs = await target.query(params)
        const header = rs.response_headers['x-clickhouse-summary']
        if (typeof header !== 'string') reads.unknown++
        else {
          const summary = JSON.parse(header) as { read_rows: string; read_bytes: string }
          reads.rows += Number(summary.read_rows)
          reads.bytes += Number(summary.read_bytes)
        }
        return rs
      }
    },
  })
}

/**
 * The client with each JSONEachRow query asked for in JSON instead, its `statistics` (rows_read,
 * bytes_read) added to `reads` and its rows handed back as JSONEachRow's: for stores whose client
 * passes no X-ClickHouse-Summary (chDB's). Used on one more, untimed run, so the timed runs keep
 * the format the library asks for.
 */
function meteredByStatistics(c: ClickHouseClient, reads: Reads): ClickHouseClient {
  return new Proxy(c, {
    get(target, prop) {
      if (prop !== 'query') return Reflect.get(target, prop, target)
      return async (params: Parameters<ClickHouseClient['query']>[0]) => {
        if (params.format !== 'JSONEachRow') {
          reads.unknown++
          return target.query(params)
        }
        const rs = await target.query({ ...params, format: 'JSON' })
        const body = (await rs.json()) as { data: unknown[]; statistics?: { rows_read?: number; bytes_read?: number } }
        if (body.statistics?.rows_read === undefined) reads.unknown++
        else {
          reads.rows += Number(body.statistics.rows_read)
          reads.bytes += Number(body.statistics.bytes_read ?? 0)
        }
        return Object.assign(rs, { json: async () => body.data })
      }
    },
  })
}

/**
 * The client with one query at a time, each held until its rows are read: the drift report
 * as it ran before its signals ran at once (d05d03d).
 */
function oneAtATime(c: ClickHouseClient): ClickHouseClient {
  let tail: Promise<void> = Promise.resolve()
  return new Proxy(c, {
    get(target, prop) {
      if (prop !== 'query') return Reflect.get(target, prop, target)
      return async (params: Parameters<ClickHouseClient['query']>[0]) => {
        const before = tail
        let done = () => {}
        tail = new Promise((resolve) => (done = resolve))
        await before
        try {
          const rs = await target.query(params)
          const json = rs.json.bind(rs)
          return Object.assign(rs, { json: () => json().finally(done) })
        } catch (err) {
          done()
          throw err
        }
      }
    },
  })
}

const median = (xs: number[]) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number

/** First run and the median of the next three, in ms, with the last run's reads. */
async function time(t: Target, fn: Case[1]): Promise<{ first: number; warm: number; reads: Reads }> {
  const times: number[] = []
  let reads: Reads = { rows: 0, bytes: 0, unknown: 0 }
  for (let i = 0; i < 4; i++) {
    reads = { rows: 0, bytes: 0, unknown: 0 }
    const c = metered(t.c, reads)
    const s = performance.now()
    await fn(c, someTrace.get(t) as string)
    times.push(performance.now() - s)
  }
  if (reads.unknown > 0) {
    // No summary headers (chDB): the reads of one more run, untimed, from JSON's statistics.
    reads = { rows: 0, bytes: 0, unknown: 0 }
    await fn(meteredByStatistics(t.c, reads), someTrace.get(t) as string)
  }
  return { first: times[0] as number, warm: median(times.slice(1)), reads }
}

const fmtReads = (r: Reads) =>
  r.unknown > 0
    ? '—'
    : `${r.rows >= 1e6 ? `${(r.rows / 1e6).toFixed(1)} M` : r.rows.toLocaleString('en')} rows, ${(r.bytes / 2 ** 20).toFixed(r.bytes < 10 * 2 ** 20 ? 1 : 0)} MiB`

const rows: string[] = []
const selected = (name: string) => ONLY === undefined || ONLY.test(name)
for (const [name, fn, floorSql] of cases.filter(([name]) => selected(name))) {
  const cells: string[] = []
  const warm: number[] = []
  for (const t of targets) {
    const r = await time(t, fn)
    const floor = floorSql ? await time(t, (c) => c.query({ query: floorSql, format: 'JSONEachRow' }).then((rs) => rs.json())) : undefined
    const ratio = floor ? `${(r.warm / floor.warm).toFixed(1)}×` : '—'
    log(
      `${t.name}: ${name}: first ${r.first.toFixed(0)} ms, median of next 3 ${r.warm.toFixed(0)} ms; read ${fmtReads(r.reads)}` +
        (floor ? `; bare scan ${floor.warm.toFixed(0)} ms (${fmtReads(floor.reads)}), ${ratio}` : ''),
    )
    cells.push(r.first.toFixed(0), r.warm.toFixed(0), fmtReads(r.reads), floor ? floor.warm.toFixed(0) : '—', ratio)
    warm.push(r.warm)
  }
  const ratio = targets.length === 2 ? ` ${((warm[1] as number) / (warm[0] as number)).toFixed(2)} |` : ''
  rows.push(`| ${name} | ${cells.join(' | ')} |${ratio} ${warm.every((w) => w < 1000) ? 'yes' : 'no'} |`)
}

// The full report with its signals one at a time and up to 4 at once, alternating run by run.
const REPORT = cases.find(([name]) => name.startsWith('drift full default report')) as Case
const ROUNDS = 7
const reportRows: string[] = []
for (const t of selected(REPORT[0]) ? targets : []) {
  const serial: number[] = []
  const atOnce: number[] = []
  for (let i = 0; i < ROUNDS; i++) {
    for (const [c, into] of (i % 2 === 0 ? [[oneAtATime(t.c), serial], [t.c, atOnce]] : [[t.c, atOnce], [oneAtATime(t.c), serial]]) as Array<[ClickHouseClient, number[]]>) {
      const s = performance.now()
      await REPORT[1](c, '')
      into.push(performance.now() - s)
    }
  }
  const line = `| ${t.name} | ${median(serial).toFixed(0)} | ${median(atOnce).toFixed(0)} | ${(median(atOnce) / median(serial)).toFixed(2)} |`
  log(`${t.name}: full drift report, median of ${ROUNDS} alternating runs: signals one at a time ${median(serial).toFixed(0)} ms, up to 4 at once ${median(atOnce).toFixed(0)} ms`)
  reportRows.push(line)
}

// Last, content that arrived as GenAI logs for 1 span in 1,000 (its completion, as a log
// record would carry it): the same three queries run again on the same spans, before and
// after the content merge has written it onto them.
const CONTENT_EVERY = 1000
const contentCases = cases.filter(([name]) => /prompt vocabulary|full default report|refusal rate/.test(name) && selected(name))
/** The content cases on every target, one table row each into `into`; `label` says in the log which state the store is in. */
const contentReads = async (label: string, into: string[]) => {
  for (const [name, fn] of contentCases) {
    const cells: string[] = []
    for (const t of targets) {
      const r = await time(t, fn)
      log(`${t.name}: ${name}, ${label}: first ${r.first.toFixed(0)} ms, median of next 3 ${r.warm.toFixed(0)} ms; read ${fmtReads(r.reads)}`)
      cells.push(r.first.toFixed(0), r.warm.toFixed(0), fmtReads(r.reads))
    }
    into.push(`| ${name} | ${cells.join(' | ')} |`)
  }
}
const contentRows: string[] = []
for (const t of contentCases.length > 0 ? targets : []) {
  await t.c.command({
    query: `INSERT INTO span_content (project_id, trace_id, span_id, time, seq, output, finish_reason)
      SELECT project_id, trace_id, span_id, end_time, 0, concat('[{"role":"assistant","content":"', output, '"}]'), finish_reason
      FROM spans WHERE project_id = '${P}' AND kind = 'llm' AND cityHash64(span_id) % ${CONTENT_EVERY} = 0`,
  })
}
await contentReads('with content rows', contentRows)

// The spans of slice `k` (1 in CONTENT_EVERY LLM spans) lose their own completion and finish
// reason, as spans whose content comes only as logs have none.
async function emptySlice(t: Target, k: number): Promise<void> {
  const empty = (table: string) =>
    `ALTER TABLE ${table} UPDATE output = '', finish_reason = '' WHERE project_id = '${P}' AND kind = 'llm' AND cityHash64(span_id) % ${CONTENT_EVERY} = ${k}`
  await Promise.all(onSpanParts(t.store, empty, { mutations_sync: '2' }))
}

// Then the spans those rows belong to lose their own completion and finish reason: until the
// content merge has run, analytics read them without it (as sent).
const emptiedRows: string[] = []
for (const t of contentCases.length > 0 ? targets : []) await emptySlice(t, 0)
await contentReads("with content rows, their spans' own output emptied, not merged yet", emptiedRows)

// The content merge (content/merge.ts), as a server runs it. Its first run on this store takes
// every content row and every span lacking what content fills (the chain roots have no finish
// reason: 2.5 M at 10 M spans), and writes the new versions of spans spread over the week: until
// ClickHouse merges those parts, FINAL merges them at read time in every day's partition.
const mergeRows: string[] = []
const firstRun = new Map<Target, { ms: number; keys: number }>()
for (const t of contentCases.length > 0 ? targets : []) {
  const s = performance.now()
  const first = await mergeContent(t.c, { kind: 'full' })
  firstRun.set(t, { ms: performance.now() - s, keys: first.keys })
}
const mergedRows: string[] = []
await contentReads('content merged, its versions in parts of their own', mergedRows)

// Then as the store runs: those parts merged (OPTIMIZE FINAL, as background merges do in time),
// and a run every 5 s at 600 LLM calls a second: 3,000 spans that just ended without content and
// their content, arriving as logs, merged; the reads then see the newest hour in parts of its own,
// as a server's always is.
const FRESH = 3000
for (const t of contentCases.length > 0 ? targets : []) {
  await Promise.all(onSpanParts(t.store, (table) => `OPTIMIZE TABLE ${table} FINAL`))
  // The near run a server makes every 5 s, untimed: it takes what arrived just before the first run
  // (the content rows above, for spans over the whole week) out of the timed run's window.
  await mergeContent(t.c, { kind: 'near' })
  await t.c.command({
    query: `INSERT INTO spans (project_id, trace_id, span_id, name, kind, span_kind, service_name, start_time, end_time, duration_ms,
        status_code, provider, operation, request_model, input_tokens, output_tokens, total_tokens, user_id, environment, release, attributes)
      SELECT '${P}', concat('f', leftPad(lower(hex(number)), 31, '0')), leftPad(lower(hex(number)), 16, '0'), 'chat', 'llm', 'client', 'chat',
        now64(9) - toIntervalMillisecond(2000 + number), now64(9) - toIntervalMillisecond(number), 2000, 'ok', 'openai', 'chat', 'gpt-4o',
        100, 200, 300, concat('user-', toString(number % 5000)), 'prod', 'v2', map('tenant', concat('tenant-', toString(number % 20)))
      FROM numbers(${FRESH})`,
  })
  await t.c.command({
    query: `INSERT INTO span_content (project_id, trace_id, span_id, time, seq, input, output, finish_reason)
      SELECT '${P}', concat('f', leftPad(lower(hex(number)), 31, '0')), leftPad(lower(hex(number)), 16, '0'), now64(9), 0,
        '[{"role":"user","content":"where is my order"}]', '[{"role":"assistant","content":"from logs"}]', 'stop'
      FROM numbers(${FRESH})`,
  })
  const s = performance.now()
  const next = await mergeContent(t.c, { kind: 'near' })
  const nextMs = performance.now() - s
  const first = firstRun.get(t) as { ms: number; keys: number }
  log(`${t.name}: content merge, first run ${first.ms.toFixed(0)} ms (${first.keys.toLocaleString('en')} keys), a later run ${nextMs.toFixed(0)} ms (${next.keys.toLocaleString('en')} keys)`)
  mergeRows.push(`| ${t.name} | ${first.ms.toFixed(0)} | ${first.keys.toLocaleString('en')} | ${nextMs.toFixed(0)} | ${next.keys.toLocaleString('en')} |`)
}
const settledRows: string[] = []
await contentReads('content merged, parts merged, then 5 s of fresh traffic merged', settledRows)

const what = (t: Target) =>
  t.name === 'cluster' ? 'a two-shard cluster of served engines (`spanlens clickhouse serve`) on this machine' : 'embedded ClickHouse (chDB)'
const columns = targets.flatMap((t) => [`${t.name} first ms`, `${t.name} warm ms`, `${t.name} read (last run)`, `${t.name} bare scan warm ms`, `${t.name} warm / bare scan`])
const md = `Command: \`${command}\`
Machine: ${machine}; load average ${loadAtStart} at the start, ${loadAverage()} at the end
Stores: ${targets.map(what).join('; ')}
Data: ${SPANS.toLocaleString('en')} spans (${TRACES.toLocaleString('en')} traces of 1 chain + 3 LLM spans over 7 days), generated inside ClickHouse with INSERT ... SELECT FROM numbers() (${targets.map((t) => `${t.name} ${t.genSeconds.toFixed(1)} s`).join(', ')}), then OPTIMIZE FINAL (${targets.map((t) => `${t.optimizeSeconds.toFixed(1)} s`).join(', ')}).
Each query runs 4 times through the library API (same SQL as the HTTP routes); "first" is the first run, "warm" the median of the next three.${targets.length === 2 ? ' Case by case, one store then the other.' : ''}
"read": rows and bytes from each reply's X-ClickHouse-Summary, summed over the query's calls (where the store's client gives none, chDB's, from the \`statistics\` of one more untimed run asked for in JSON). "bare scan": \`sum(cityHash64(columns))\` over the columns the query reads and the rows its filter selects, timed the same way, right after it.

| query | ${columns.join(' | ')} |${targets.length === 2 ? ` ${targets[1]?.name} / ${targets[0]?.name} (warm) |` : ''} every warm < 1 s |
|---|${columns.map(() => '---:').join('|')}|${targets.length === 2 ? '---:|' : ''}:---:|
${rows.join('\n')}

Full drift report (24 h vs 24 h, 11 signals), median of ${ROUNDS} runs alternating: its queries one at a time (as before d05d03d) and up to 4 at once.

| store | one at a time ms | up to 4 at once ms | at once / one at a time |
|---|---:|---:|---:|
${reportRows.join('\n')}

With content from GenAI logs for 1 span in ${CONTENT_EVERY.toLocaleString('en')} (span_content rows; analytics read spans as stored, the content merge puts content on them), the same spans:

| query | ${targets.flatMap((t) => [`${t.name} first ms`, `${t.name} warm ms`, `${t.name} read (last run)`]).join(' | ')} |
|---|${targets.map(() => '---:|---:|---:').join('|')}|
${contentRows.join('\n')}

The same, once the spans those content rows belong to have no output or finish reason of their own (as when content comes only as logs), before the content merge has run:

| query | ${targets.flatMap((t) => [`${t.name} first ms`, `${t.name} warm ms`, `${t.name} read (last run)`]).join(' | ')} |
|---|${targets.map(() => '---:|---:|---:').join('|')}|
${emptiedRows.join('\n')}

The content merge (\`mergeContent\`, as the server runs it): its first (full) run on this store, then a near run (the server's every 5 s) taking ${FRESH.toLocaleString('en')} LLM spans that just ended without content and their content rows (5 s of 600 calls a second):

| store | first run ms | keys | later run ms | keys |
|---|---:|---:|---:|---:|
${mergeRows.join('\n')}

The same reads right after its first run, its new versions spread over every day in parts of their own (FINAL merges them at read time until ClickHouse merges the parts):

| query | ${targets.flatMap((t) => [`${t.name} first ms`, `${t.name} warm ms`, `${t.name} read (last run)`]).join(' | ')} |
|---|${targets.map(() => '---:|---:|---:').join('|')}|
${mergedRows.join('\n')}

And as a running store: those parts merged (OPTIMIZE FINAL, as background merges do in time), then 5 s of fresh traffic (${FRESH.toLocaleString('en')} LLM spans without content, and their content) merged by one run:

| query | ${targets.flatMap((t) => [`${t.name} first ms`, `${t.name} warm ms`, `${t.name} read (last run)`]).join(' | ')} |
|---|${targets.map(() => '---:|---:|---:').join('|')}|
${settledRows.join('\n')}
`
// Recorded by hand in bench/README.md ("Query"), newest first.
log(`\n${md}`)
for (const t of targets) await t.close()
