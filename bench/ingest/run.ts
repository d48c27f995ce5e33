// bench/ingest: load against the real server (the `spanlens serve` CLI in its own
// process), over OTLP/HTTP and/or OTLP/gRPC, plus the raw insert ceiling and the
// engine's own floor measured the same way in the same run.
//   cd bench && npm run ingest -- [--duration 20] [--connections 16] [--store embedded|remote] [--transport http,grpc]
// --transport: the same generated requests (the same ExportTraceServiceRequest bytes) over
// each transport in turn, each against a fresh server, between the same two ceilings.
// --store remote: the store is a served ClickHouse (`spanlens clickhouse serve`, a process
// of its own) that the server and the ceiling reach over HTTP; --engine-nice N starts it
// under `nice -n N` (embedded mode lowers chDB's threads to nice 10 itself).
import { spawnSync } from 'node:child_process'
import { cpus, loadavg, totalmem } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { loadConfig } from '@spanlens/ingest'
import { serveClickHouse, type ServedClickHouse } from '../lib/served-clickhouse.js'
import { createPayloadFactory } from './payload.js'
import type { Variant } from './schema-variants.js'
import { TRANSPORTS, type Transport } from './senders.js'
import { byStatusText, serverRun, type ServerRun } from './server-run.js'

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`)
  return i > 0 ? Number(process.argv[i + 1]) : fallback
}
const textArg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`)
  return i > 0 ? (process.argv[i + 1] as string) : fallback
}
const DURATION = arg('duration', 20)
const storeArg = textArg('store', 'embedded')
if (storeArg !== 'embedded' && storeArg !== 'remote') throw new Error(`--store embedded|remote, not ${storeArg}`)
const REMOTE = storeArg === 'remote'
const transports = textArg('transport', 'http').split(',') as Transport[]
if (transports.length === 0 || transports.some((t) => !TRANSPORTS.includes(t))) throw new Error(`--transport ${TRANSPORTS.join(',')} (one or more), not ${textArg('transport', '')}`)
const CONNECTIONS = arg('connections', 16)
const SPANS = 100
const KEY = 'bench-key-0123456789'
const here = fileURLToPath(new URL('.', import.meta.url))
const repo = join(here, '../..')
const tsx = ['--conditions=@spanlens/source', '--import', 'tsx']
// Extra node flags for the server only, e.g. BENCH_SERVER_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof".
const serverNodeArgs = (process.env.BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean)

const STORE_VARS = ['SPANLENS_CLICKHOUSE_URL', 'SPANLENS_CLICKHOUSE_DATABASE', 'SPANLENS_CLICKHOUSE_CLUSTER', 'SPANLENS_CLICKHOUSE_NODES']
/** The bench's environment without a store of its own: the store is the one this run chose. */
const baseEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !STORE_VARS.includes(k)))
/** --store remote: the served engine, started before the first ceiling and stopped after the last. */
let engine: ServedClickHouse | undefined
const storeEnv = (database: string): Record<string, string> =>
  engine ? { SPANLENS_CLICKHOUSE_URL: engine.httpUrl, SPANLENS_CLICKHOUSE_DATABASE: database } : {}

interface Ceiling {
  rowsPerSecond: number
  bytesPerRow: number
  rowsPerInsert: number
  format: string
  cpuUsPerRow: number
  engineCpuUsPerRow: number
  inFlight: number
}
function rawCeiling(label: string, variant: Variant): Ceiling {
  // The server's batch limits and inserts in flight, as it reads them from this environment
  // (remote: 2 inserts at once by default): the ceiling inserts batches as big, as many at once.
  const { batchMaxRows, batchMaxBytes, insertConcurrency } = serverConfig().ingest
  const args = [String(Math.max(200_000, 5 * batchMaxRows)), String(batchMaxRows), String(batchMaxBytes), String(insertConcurrency), variant]
  const env = { ...baseEnv, ...storeEnv(`bench_${variant}_${label}`), ...(engine ? { BENCH_ENGINE_PID: String(engine.enginePid) } : {}) }
  const r = spawnSync(process.execPath, [...tsx, join(here, 'raw-ceiling.ts'), ...args], { encoding: 'utf8', cwd: join(here, '..'), env })
  if (r.status !== 0) throw new Error(`raw ceiling (${variant}) failed: ${r.stderr}`)
  return JSON.parse(r.stdout.trim().split('\n').pop() as string)
}
const serverConfig = () => loadConfig({ env: { ...baseEnv, ...storeEnv('bench') } })

// The server runs as users run it: the built dist/ (what `pnpm start` builds and
// starts). Until session 7 it ran from source through tsx, whose keepNames
// wrapping cost ~3% of the event loop's time in a profile. `--source` skips
// the build for quick iterations.
const fromSource = process.argv.includes('--source')
function buildServer(): void {
  const r = spawnSync('npx', ['--yes', 'pnpm@10.34.8', 'run', 'build'], { cwd: repo, encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`build failed (exit ${r.status}):\n${r.stdout}\n${r.stderr}`)
}

const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}`
const loadAverage = () => loadavg().map((l) => l.toFixed(2)).join(' ')
const loadAtStart = loadAverage()
console.log(`machine: ${machine}; load average ${loadAtStart}`)
// The options as given, with the defaults of --duration and --connections written out.
const given = process.argv.slice(2).filter((a, i, all) => !['--duration', '--connections'].includes(a) && !['--duration', '--connections'].includes(all[i - 1] ?? ''))
console.log(`command: cd bench && npm run ingest -- ${['--duration', DURATION, '--connections', CONNECTIONS, ...given].join(' ')}`)
// Built before anything is measured: the build itself would disturb the ceiling.
if (!fromSource) buildServer()
console.log(`server: ${fromSource ? 'from source (tsx)' : 'packages/ingest/dist (built by `pnpm run build`)'}`)
if (REMOTE) {
  const nice = arg('engine-nice', 0)
  engine = await serveClickHouse({ from: fromSource ? 'source' : 'dist', nice })
  console.log(
    `store: served ClickHouse (\`spanlens clickhouse serve\`${nice ? `, under nice -n ${nice}` : ''}) at ${engine.httpUrl}, engine pid ${engine.enginePid}, ready in ${engine.startMs} ms`,
  )
} else {
  console.log('store: embedded ClickHouse (chDB) in the server process')
}
const ceilingName = REMOTE ? 'raw ceiling (HTTP inserts into the served ClickHouse)' : 'raw chDB ceiling'
const describeCeiling = (c: Ceiling) =>
  `${Math.round(c.rowsPerSecond)} rows/s (${Math.round(c.bytesPerRow)} B/row, ${c.format}, inserts of ${c.rowsPerInsert} rows, ${c.inFlight} at once, ` +
  `${c.cpuUsPerRow.toFixed(1)} µs CPU/row${engine ? `, of which the engine ${c.engineCpuUsPerRow.toFixed(1)}` : ''})`

// Measured before and again after the servers' runs: on a shared host the ceiling alone moved by
// up to 1.8x between runs minutes apart, and the ratio is against the mean of the two. The floor
// (the same rows into a bare MergeTree, schema-variants.ts) beside it, in the order ceiling, floor
// before and floor, ceiling after, so a steady drift of the host weighs on both alike.
const ceilingBefore = rawCeiling('before', 'schema')
console.log(`${ceilingName}, before the server: ${describeCeiling(ceilingBefore)}`)
const floorBefore = rawCeiling('before', 'floor')
console.log(`engine floor (the same rows into a bare MergeTree), before the server: ${describeCeiling(floorBefore)}`)

const { batchMaxRows, batchMaxBytes, batchMaxAgeMs, insertConcurrency } = serverConfig().ingest
console.log(`server batches: up to ${batchMaxRows} rows, ${(batchMaxBytes / 2 ** 20).toFixed(0)} MiB, ${batchMaxAgeMs} ms; ${insertConcurrency} insert(s) in flight`)

// One generator for every transport: the same template, ids fresh per request.
const factory = createPayloadFactory(SPANS)
console.log(`request: ${SPANS} LLM spans, ${(factory.bytes / 1024).toFixed(0)} KiB protobuf; transports: ${transports.join(', ')}, ${CONNECTIONS} connections each`)
// The paced phase's issue-3 target: p99 < 100 ms at half the persisted-rate target (70% of the
// ceiling), i.e. at 35% of the ceiling. --paced-rate N (spans/s) fixes the rate, to compare
// configurations across runs whose ceilings differ.
const pacedRate = Math.max(1, Math.round(arg('paced-rate', ceilingBefore.rowsPerSecond * 0.35) / SPANS))
const runs: ServerRun[] = []
for (const transport of transports) {
  const suffix = transports.length > 1 ? `.${transport}` : ''
  runs.push(
    await serverRun({
      transport,
      entry: fromSource ? [...tsx, join(repo, 'packages/ingest/src/bin.ts')] : [join(repo, 'packages/ingest/dist/bin.js')],
      nodeArgs: serverNodeArgs,
      cwd: join(here, '..'),
      env: { ...baseEnv, ...storeEnv('bench') },
      storeEnv: storeEnv('bench'),
      key: KEY,
      factory,
      connections: CONNECTIONS,
      seconds: DURATION,
      pacedRequestsPerSecond: pacedRate,
      pacedSeconds: Math.min(DURATION, 15),
      // --settle N: seconds to wait after the drain (server-run.ts).
      settleSeconds: arg('settle', 0),
      enginePid: engine?.enginePid,
      // BENCH_SERVER_LOG=file keeps the server's output (e.g. with BENCH_SERVER_NODE_ARGS=--trace-gc);
      // BENCH_TRACE=file every paced request's send time and latency (a file per transport).
      serverLog: process.env.BENCH_SERVER_LOG,
      traceFile: process.env.BENCH_TRACE ? `${process.env.BENCH_TRACE}${suffix}` : undefined,
      log: (line) => console.log(line),
    }),
  )
}

const floorAfter = rawCeiling('after', 'floor')
console.log(`engine floor, after the server: ${describeCeiling(floorAfter)}`)
const ceilingAfter = rawCeiling('after', 'schema')
console.log(`${ceilingName}, after the server: ${describeCeiling(ceilingAfter)}`)
await engine?.stop()
const ceiling = (ceilingBefore.rowsPerSecond + ceilingAfter.rowsPerSecond) / 2
const floor = (floorBefore.rowsPerSecond + floorAfter.rowsPerSecond) / 2
const floorCpu = (floorBefore.cpuUsPerRow + floorAfter.cpuUsPerRow) / 2
const ceilingCpu = (ceilingBefore.cpuUsPerRow + ceilingAfter.cpuUsPerRow) / 2
console.log(
  `our schema against the engine's floor: ceiling / floor ${(ceiling / floor).toFixed(2)} in rows/s, ` +
    `${ceilingCpu.toFixed(1)} / ${floorCpu.toFixed(1)} µs CPU per row (${(ceilingCpu / floorCpu).toFixed(2)}×)`,
)
// The same work measured twice: how far its CPU per row moved says how steady the
// host was around the run (session 7: from -9% to +49% across ten runs), and so
// how much one run's ratio and paced p99 can be trusted.
const hostShift = ceilingAfter.cpuUsPerRow / ceilingBefore.cpuUsPerRow
if (hostShift > 1.25 || hostShift < 1 / 1.25) {
  console.log(
    `note: the ceiling's CPU per row moved ${ceilingBefore.cpuUsPerRow.toFixed(1)} -> ${ceilingAfter.cpuUsPerRow.toFixed(1)} µs during this run: ` +
      'the host changed speed, so the ratio and the paced rate (35% of the ceiling before) compare unlike moments',
  )
}

const perTransport = runs.map((r) => {
  const persisted = r.persistedFull / r.totalSeconds
  return {
    transport: r.transport,
    acknowledgedSpansPerSecond: Math.round(r.ackedFull / r.loadSeconds),
    persistedSpansPerSecond: Math.round(persisted),
    persistedToCeiling: Number((persisted / ceiling).toFixed(2)),
    persistedToFloor: Number((persisted / floor).toFixed(2)),
    serverMainThreadCpuUsPerSpan: Number(r.cpuPerSpan.mainUs.toFixed(1)),
    serverProcessCpuUsPerSpan: Number(r.cpuPerSpan.allUs.toFixed(1)),
    ...(REMOTE ? { engineCpuUsPerSpan: Number(r.cpuPerSpan.engineUs.toFixed(1)) } : {}),
    loadGeneratorCpuUsPerSpan: Number(r.cpuPerSpan.clientUs.toFixed(1)),
    maxLoadAckP50Ms: r.full.latencyMs.p50,
    maxLoadAckP99Ms: r.full.latencyMs.p99,
    maxLoadNotOk: r.full.notOk,
    maxLoadNotOkByStatus: r.full.byStatus,
    maxLoadErrors: r.full.errors,
    pacedAckP50Ms: r.paced.latencyMs.p50,
    pacedAckP99Ms: r.paced.latencyMs.p99,
    pacedOver100Ms: r.paced.over100,
    pacedSecondsWithOver100Ms: r.paced.secondsWithOver100,
    pacedNotOk: r.paced.non2xx,
    pacedNotOkByStatus: r.paced.byStatus,
    pacedErrors: r.paced.errors,
    peakRssMiB: Math.round(r.peakRssMiB),
    ...(REMOTE ? { enginePeakRssMiB: Math.round(r.enginePeakRssMiB) } : {}),
    acknowledged: r.acked,
    stored: r.stored,
    missing: Math.max(0, r.acked - r.stored),
  }
})
const summary = {
  machine,
  loadAverageAtStartAndEnd: [loadAtStart, loadAverage()],
  store: REMOTE ? `remote (spanlens clickhouse serve${arg('engine-nice', 0) ? `, nice ${arg('engine-nice', 0)}` : ''})` : 'embedded',
  insertsInFlight: insertConcurrency,
  rawCeilingRowsPerSecond: Math.round(ceiling),
  rawCeilingBeforeAfter: [Math.round(ceilingBefore.rowsPerSecond), Math.round(ceilingAfter.rowsPerSecond)],
  rawCeilingCpuUsPerRowBeforeAfter: [Number(ceilingBefore.cpuUsPerRow.toFixed(1)), Number(ceilingAfter.cpuUsPerRow.toFixed(1))],
  ...(REMOTE
    ? { rawCeilingEngineCpuUsPerRowBeforeAfter: [Number(ceilingBefore.engineCpuUsPerRow.toFixed(1)), Number(ceilingAfter.engineCpuUsPerRow.toFixed(1))] }
    : {}),
  engineFloorRowsPerSecond: Math.round(floor),
  engineFloorBeforeAfter: [Math.round(floorBefore.rowsPerSecond), Math.round(floorAfter.rowsPerSecond)],
  engineFloorCpuUsPerRowBeforeAfter: [Number(floorBefore.cpuUsPerRow.toFixed(1)), Number(floorAfter.cpuUsPerRow.toFixed(1))],
  ceilingToFloor: Number((ceiling / floor).toFixed(2)),
  pacedSpansPerSecond: pacedRate * SPANS,
  pacedShareOfCeiling: Number(((pacedRate * SPANS) / ceiling).toFixed(2)),
  transports: perTransport,
}
console.log(JSON.stringify(summary, null, 2))
// One line per transport, the columns of bench/README.md's Ingest table for a run.
console.log('\n| transport | acknowledged spans/s | persisted spans/s | ratio to ceiling | paced p50 / p99 | max-load ack p50 / p99 | not OK (max load; paced) | load generator CPU µs/span | peak RSS | missing |')
console.log('|---|---:|---:|---:|---:|---:|---|---:|---:|---:|')
for (const [i, t] of perTransport.entries()) {
  const r = runs[i] as ServerRun
  console.log(
    `| ${t.transport} | ${t.acknowledgedSpansPerSecond} | ${t.persistedSpansPerSecond} | ${t.persistedToCeiling} | ${t.pacedAckP50Ms} / ${t.pacedAckP99Ms} ms | ` +
      `${t.maxLoadAckP50Ms} / ${t.maxLoadAckP99Ms} ms | ${t.maxLoadNotOk}${byStatusText(r.full.byStatus)}; ${t.pacedNotOk}${byStatusText(r.paced.byStatus)} | ` +
      `${t.loadGeneratorCpuUsPerSpan} | ${t.peakRssMiB} MiB | ${t.missing} of ${t.acknowledged} |`,
  )
}
