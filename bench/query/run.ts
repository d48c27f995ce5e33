// Query latency over 10 million spans in an embedded store.
// Run: cd bench && npm run query   (SPANS=1000000 for a quicker run)
import { mkdtempSync, rmSync } from 'node:fs'
import { cpus, totalmem, tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { createStore, loadConfig, migrate } from '@spanlens/ingest'
import { bias, drift, getTrace, listSpans, listTraces, parseSloText, sloStatus, summary } from '@spanlens/query'

const SPANS = Number(process.env.SPANS ?? 10_000_000)
const PER_TRACE = 4
const TRACES = Math.floor(SPANS / PER_TRACE)
const SPAN_WINDOW_MS = 7 * 86_400_000
const command = `cd bench && ${process.env.SPANS ? `SPANS=${SPANS} ` : ''}npm run query`

const dir = mkdtempSync(join(tmpdir(), 'spanlens-bench-query-'))
const store = await createStore(loadConfig({ env: { SPANLENS_DATA_DIR: dir } }).store)
await migrate(store)
const c = store.client
const log = (s: string) => process.stdout.write(`${s}\n`)
log(`machine: ${cpus().length} x ${cpus()[0]?.model ?? '?'}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, node ${process.version}`)
log(`command: ${command}`)

// Generated inside ClickHouse: 1 chain root + 3 LLM children per trace, spread over 7 days.
// Release v2 (odd traces) is slower and answers longer; 2% errors; 20 tenants.
const step = Math.max(1, Math.floor(SPAN_WINDOW_MS / TRACES))
const t0 = performance.now()
await c.command({
  query: `INSERT INTO spans (project_id, trace_id, span_id, parent_span_id, name, kind, span_kind, service_name,
      start_time, end_time, duration_ms, status_code, provider, operation, request_model, response_model,
      input_tokens, output_tokens, total_tokens, cost_usd, ttft_ms, finish_reason, input, output, user_id,
      environment, release, attributes)
    SELECT 'bench', leftPad(lower(hex(tr)), 32, '0'), leftPad(lower(hex(number)), 16, '0'),
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
                 now64(9) - toIntervalMillisecond(${SPAN_WINDOW_MS} - tr * ${step}) + toIntervalMillisecond(pos * 10) AS st,
                 toFloat64(if(pos = 0, 900, 100) + h % 800 + if(tr % 2 = 1, 60, 0)) AS dur,
                 toUInt32(100 + h % 300 + if(tr % 2 = 1, 20, 0)) AS out_tok
          FROM numbers(${SPANS}))`,
  clickhouse_settings: { max_insert_threads: 2, max_block_size: 1_000_000 } as never,
})
const genSeconds = (performance.now() - t0) / 1000
log(`generated ${SPANS.toLocaleString('en')} spans in ${genSeconds.toFixed(1)} s`)
await c.command({ query: 'OPTIMIZE TABLE spans FINAL' }).catch(() => undefined)
log(`optimized in ${((performance.now() - t0) / 1000 - genSeconds).toFixed(1)} s`)

const P = 'bench'
const slos = parseSloText(`
slos:
  - { name: availability, service: chat, objective: 99.5, window: 30d, indicator: { type: success } }
  - { name: latency, service: chat, objective: 99, window: 30d, indicator: { type: latency, thresholdMs: 1500 } }
`)
const someTrace = (await listTraces(c, P, { limit: 1 })).items[0]?.traceId ?? ''

const cases: Array<[string, () => Promise<unknown>]> = [
  ['trace list: newest 50 traces (7 d)', () => listTraces(c, P, { limit: 50, filter: { from: new Date(Date.now() - 7 * 86_400_000) } })],
  ['trace list: 50 traces with model=gpt-4o-mini, last 24 h', () => listTraces(c, P, { limit: 50, filter: { from: new Date(Date.now() - 86_400_000), model: ['gpt-4o-mini'] } })],
  ['span list: 50 error spans, service=chat', () => listSpans(c, P, { limit: 50, filter: { service: ['chat'], status: ['error'] } })],
  ['one trace as a tree', () => getTrace(c, P, someTrace)],
  ['summary by model, hourly buckets (rollup)', () => summary(c, P, { groupBy: ['model'], bucket: '1h' })],
  ['drift latency v1 vs v2 (PSI, KS, Wasserstein)', () => drift(c, P, { dimension: 'release', reference: 'v1', current: 'v2', signals: ['latency'] })],
  ['drift model v1 vs v2 (chi2, JS)', () => drift(c, P, { dimension: 'release', reference: 'v1', current: 'v2', signals: ['model'] })],
  ['drift latency last 24 h vs previous 24 h', () => drift(c, P, { reference: { from: 'now-2d', to: 'now-1d' }, current: { from: 'now-1d' }, signals: ['latency'] })],
  ['drift prompt vocabulary last 24 h vs previous 24 h', () => drift(c, P, { reference: { from: 'now-2d', to: 'now-1d' }, current: { from: 'now-1d' }, signals: ['prompt'] })],
  ['drift full default report, 24 h vs 24 h (11 signals)', () => drift(c, P, { reference: { from: 'now-2d', to: 'now-1d' }, current: { from: 'now-1d' } })],
  ['bias error rate by tenant (20 groups)', () => bias(c, P, { groupBy: 'attr:tenant', outcome: 'error_rate' })],
  ['bias refusal rate by tenant', () => bias(c, P, { groupBy: 'attr:tenant', outcome: 'refusal_rate' })],
  ['bias p95 latency by release', () => bias(c, P, { groupBy: 'release', outcome: 'latency_p95' })],
  ['SLO status: availability (rollup) + latency (spans), all windows', () => sloStatus(c, P, slos)],
]

const rows: string[] = []
for (const [name, fn] of cases) {
  const times: number[] = []
  for (let i = 0; i < 4; i++) {
    const s = performance.now()
    await fn()
    times.push(performance.now() - s)
  }
  const cold = times[0] as number
  const warm = times.slice(1).sort((a, b) => a - b)[1] as number
  log(`${name}: first ${cold.toFixed(0)} ms, median of next 3 ${warm.toFixed(0)} ms`)
  rows.push(`| ${name} | ${cold.toFixed(0)} | ${warm.toFixed(0)} | ${warm < 1000 ? 'yes' : 'no'} |`)
}

const md = `Command: \`${command}\`
Machine: ${cpus().length} x ${cpus()[0]?.model ?? '?'}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM, Node ${process.version}, embedded ClickHouse (chDB)
Data: ${SPANS.toLocaleString('en')} spans (${TRACES.toLocaleString('en')} traces of 1 chain + 3 LLM spans over 7 days), generated inside ClickHouse with INSERT ... SELECT FROM numbers() in ${genSeconds.toFixed(1)} s, then OPTIMIZE FINAL.
Each query runs 4 times through the library API (same SQL as the HTTP routes); "first" is the first run, "warm" the median of the next three.

| query | first ms | warm ms | < 1 s |
|---|---:|---:|:---:|
${rows.join('\n')}
`
// Recorded by hand in bench/README.md ("Query"), newest first.
log(`\n${md}`)
await store.close()
rmSync(dir, { recursive: true, force: true })
