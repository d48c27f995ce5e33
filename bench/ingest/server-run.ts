// One transport's part of `npm run ingest`: a fresh server (`spanlens serve` in its own
// process, a fresh data directory), max load, paced load, peak RSS, then SIGTERM and a
// count of what ClickHouse holds. run.ts calls it once per transport, between the same
// two raw ceilings.
import { spawn } from 'node:child_process'
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import autocannon from 'autocannon'
import { createStore, loadConfig } from '@spanlens/ingest'
import { cpuSeconds, peakRssMiB, resetPeakRss } from '../lib/served-clickhouse.js'
import { closedLoop, type MaxLoad } from './closed-loop.js'
import { pacedLoad, type PacedResult } from './paced.js'
import type { PayloadFactory } from './payload.js'
import { grpcSender, httpSender, type Sender, type Transport } from './senders.js'

export interface ServerRunOptions {
  transport: Transport
  /** node arguments before `serve`: the built bin.js, or src/bin.ts through tsx. */
  entry: string[]
  /** Extra node flags for the server only (BENCH_SERVER_NODE_ARGS). */
  nodeArgs: string[]
  cwd: string
  /** The server's environment; the data directory, ports and key are added. */
  env: Record<string, string | undefined>
  /** The store's part of it (--store remote), to count the stored rows after the server stopped. */
  storeEnv: Record<string, string>
  key: string
  factory: PayloadFactory
  connections: number
  seconds: number
  /** Paced phase: requests per second and seconds. */
  pacedRequestsPerSecond: number
  pacedSeconds: number
  settleSeconds: number
  /** --store remote: the served engine, whose CPU and peak RSS are counted. */
  enginePid: number | undefined
  /** Where the server's stdout goes (BENCH_SERVER_LOG), and each paced request's latency (BENCH_TRACE). */
  serverLog: string | undefined
  traceFile: string | undefined
  log: (line: string) => void
}

export interface ServerRun {
  transport: Transport
  loadSeconds: number
  totalSeconds: number
  full: MaxLoad
  ackedFull: number
  persistedFull: number
  cpuPerSpan: { mainUs: number; allUs: number; engineUs: number; clientUs: number }
  paced: PacedResult
  peakRssMiB: number
  enginePeakRssMiB: number
  acked: number
  stored: number
}

async function startServer(o: ServerRunOptions, dataDir: string) {
  const child = spawn(process.execPath, [...o.nodeArgs, ...o.entry, 'serve'], {
    cwd: o.cwd,
    // Port 0 for both receivers: the listening line says which ports they got.
    env: { ...o.env, SPANLENS_DATA_DIR: dataDir, SPANLENS_PORT: '0', SPANLENS_GRPC_PORT: '0', SPANLENS_API_KEYS: `bench:${o.key}`, SPANLENS_LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const listening = await new Promise<{ url: string; grpc: string }>((resolve, reject) => {
    let out = ''
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString()
      const line = out.split('\n').slice(0, -1).find((l) => l.includes('spanlens is listening'))
      if (!line) return
      const { address, grpc } = JSON.parse(line) as { address: string; grpc?: string }
      if (!grpc) reject(new Error('the server listens without OTLP/gRPC'))
      else resolve({ url: address, grpc })
    })
    child.once('exit', (code) => reject(new Error(`server exited (${code})`)))
  })
  if (o.serverLog) child.stdout.pipe(createWriteStream(o.serverLog, { flags: 'a' }))
  else child.stdout.resume()
  return { child, ...listening }
}

/** One scrape of the server's /metrics: unlabelled samples by name. */
async function scrape(url: string): Promise<(name: string) => number> {
  const text = await (await fetch(`${url}/metrics`)).text()
  return (name) => {
    const m = new RegExp(`^${name.replace(/[{}".]/g, (c) => `\\${c}`)} (\\S+)$`, 'm').exec(text)
    return m ? Number(m[1]) : 0
  }
}

async function drained(url: string): Promise<void> {
  for (;;) {
    const r = (await (await fetch(`${url}/readyz`)).json()) as { spool: { bytes: number } }
    if (r.spool.bytes === 0) return
    await new Promise((res) => setTimeout(res, 100))
  }
}

/** OTLP/HTTP max load through autocannon, as this bench has always measured it. */
async function autocannonLoad(o: ServerRunOptions, url: string): Promise<MaxLoad> {
  const r = await autocannon({
    url: `${url}/v1/traces`,
    connections: o.connections,
    duration: o.seconds,
    timeout: 30,
    requests: [
      {
        method: 'POST',
        headers: { 'content-type': 'application/x-protobuf', authorization: `Bearer ${o.key}` },
        setupRequest: (req: Record<string, unknown>) => ({ ...req, body: o.factory.next() }),
      },
    ],
  })
  const stats = (r.statusCodeStats ?? {}) as Record<string, { count: number }>
  const byStatus = Object.fromEntries(Object.entries(stats).filter(([code]) => !code.startsWith('2')).map(([code, s]) => [code, s.count]))
  return { ok: r['2xx'], notOk: r.non2xx, byStatus, errors: r.errors, latencyMs: { p50: r.latency.p50, p99: r.latency.p99 } }
}

/** The not-OK answers by status, e.g. " (503: 61)". */
export const byStatusText = (byStatus: Record<string, number>): string => {
  const codes = Object.entries(byStatus)
  return codes.length ? ` (${codes.map(([code, n]) => `${code}: ${n}`).join(', ')})` : ''
}

export async function serverRun(o: ServerRunOptions): Promise<ServerRun> {
  const { log, factory, enginePid } = o
  const spans = factory.spansPerRequest
  const dataDir = mkdtempSync(join(tmpdir(), 'spanlens-bench-'))
  // The engine's peak RSS is the server's run's, not the ceiling's.
  if (enginePid) resetPeakRss(enginePid)
  const { child, url, grpc } = await startServer(o, dataDir)
  log(`[${o.transport}] server at ${url}, OTLP/gRPC at ${grpc}`)
  const sender: Sender = o.transport === 'grpc' ? grpcSender(grpc, o.key, o.connections) : httpSender(`${url}/v1/traces`, o.key)
  await sender.ready()

  // Phase 1: as fast as it goes.
  const pid = child.pid as number
  const cpuBefore = { main: cpuSeconds(pid, pid), all: cpuSeconds(pid), engine: enginePid ? cpuSeconds(enginePid) : 0, client: process.cpuUsage() }
  const t0 = Date.now()
  const full =
    o.transport === 'grpc'
      ? await closedLoop({ sender, connections: o.connections, seconds: o.seconds, body: () => factory.next() })
      : await autocannonLoad(o, url)
  const client = process.cpuUsage(cpuBefore.client)
  const loadSeconds = (Date.now() - t0) / 1000
  await drained(url)
  const totalSeconds = (Date.now() - t0) / 1000
  const ackedFull = full.ok * spans
  const persistedFull = (await scrape(url))('spanlens_insert_rows_total')
  // The event loop's thread vs the whole server (embedded: chDB's insert and merge threads
  // included), the served engine's process (remote), and this process, the load generator.
  const cpuPerSpan = {
    mainUs: ((cpuSeconds(pid, pid) - cpuBefore.main) / persistedFull) * 1e6,
    allUs: ((cpuSeconds(pid) - cpuBefore.all) / persistedFull) * 1e6,
    engineUs: enginePid ? ((cpuSeconds(enginePid) - cpuBefore.engine) / persistedFull) * 1e6 : 0,
    clientUs: (client.user + client.system) / ackedFull,
  }
  log(
    `[${o.transport}] server CPU per persisted span: event-loop thread ${cpuPerSpan.mainUs.toFixed(1)} µs, whole process ${cpuPerSpan.allUs.toFixed(1)} µs` +
      `${enginePid ? `; served ClickHouse ${cpuPerSpan.engineUs.toFixed(1)} µs` : ''} (clock tick 10 ms); load generator ${cpuPerSpan.clientUs.toFixed(1)} µs per acknowledged span`,
  )
  log(
    `[${o.transport}] max load: acknowledged ${Math.round(ackedFull / loadSeconds)} spans/s, persisted ${Math.round(persistedFull / totalSeconds)} spans/s ` +
      `(${persistedFull} rows in ${totalSeconds.toFixed(1)} s incl. drain), ack p50 ${full.latencyMs.p50} ms p99 ${full.latencyMs.p99} ms, ` +
      `not ${o.transport === 'grpc' ? 'OK' : '2xx'} ${full.notOk}${byStatusText(full.byStatus)}, errors ${full.errors}`,
  )

  // --settle N: seconds to wait after the drain, so ClickHouse's merges of the max-load backlog are
  // not all still running during the paced phase (0 by default: the tail then includes that aftermath).
  if (o.settleSeconds > 0) await new Promise((r) => setTimeout(r, o.settleSeconds * 1000))

  // Phase 2: paced, Poisson arrivals, open loop (paced.ts says why not autocannon).
  const means = ['spanlens_ingest_ack_duration_seconds', 'spanlens_ingest_prepare_duration_seconds', 'spanlens_spool_write_duration_seconds']
  // One scrape before and one after: prom-client resets its event-loop lag histogram on every scrape.
  const scrapeBefore = await scrape(url)
  const paced = await pacedLoad({
    sender,
    body: () => factory.next(),
    requestsPerSecond: o.pacedRequestsPerSecond,
    seconds: o.pacedSeconds,
    ...(o.traceFile ? { traceFile: o.traceFile } : {}),
  })
  await drained(url)
  sender.close()
  log(
    `[${o.transport}] paced at ${o.pacedRequestsPerSecond * spans} spans/s (Poisson arrivals): ack p50 ${paced.latencyMs.p50} ms, p99 ${paced.latencyMs.p99} ms, ` +
      `max ${paced.latencyMs.max} ms, ${paced.ok}/${paced.sent} OK, not OK ${paced.non2xx}${byStatusText(paced.byStatus)}, errors ${paced.errors}`,
  )
  const scrapeAfter = await scrape(url)
  const mean = (m: string) => ((scrapeAfter(`${m}_sum`) - scrapeBefore(`${m}_sum`)) / (scrapeAfter(`${m}_count`) - scrapeBefore(`${m}_count`))) * 1000
  const [ack, prep, spool] = means as [string, string, string]
  log(
    `[${o.transport}] paced, server side (means): handler ${mean(ack).toFixed(1)} ms = prepare ${mean(prep).toFixed(1)} ms + spool write/fsync ${mean(spool).toFixed(1)} ms; ` +
      `the rest of the client's ${paced.latencyMs.mean.toFixed(1)} ms mean is queueing before the handler and the network`,
  )
  // How many paced requests took over 50 / 100 ms inside the server, and in which step (histogram buckets).
  const over = (scr: (n: string) => number, m: string, le: string) => scr(`${m}_count`) - scr(`${m}_bucket{le="${le}"}`)
  const tail = (m: string, le: string) => over(scrapeAfter, m, le) - over(scrapeBefore, m, le)
  log(
    `[${o.transport}] paced, server side, requests over 50 / 100 ms: whole handler ${tail(ack, '0.05')} / ${tail(ack, '0.1')}, ` +
      `prepare ${tail(prep, '0.05')} / ${tail(prep, '0.1')}, spool write ${tail(spool, '0.05')} / ${tail(spool, '0.1')}; ` +
      `client: ${paced.over50} / ${paced.over100} of ${paced.sent} (the ones over 100 ms in ${paced.secondsWithOver100} of ${o.pacedSeconds} seconds)`,
  )
  const lag = (name: string) => (scrapeAfter(name) * 1000).toFixed(1)
  log(`[${o.transport}] server event-loop lag during the paced phase: p99 ${lag('spanlens_nodejs_eventloop_lag_p99_seconds')} ms, max ${lag('spanlens_nodejs_eventloop_lag_max_seconds')} ms`)
  const rss = peakRssMiB(pid)
  const engineRss = enginePid ? peakRssMiB(enginePid) : 0

  // Graceful stop, then count what ClickHouse holds.
  const exited = new Promise((r) => child.once('exit', r))
  child.kill('SIGTERM')
  await exited
  const store = await createStore(loadConfig({ env: { SPANLENS_DATA_DIR: dataDir, ...o.storeEnv } }).store)
  const rs = await store.client.query({ query: "SELECT uniqExact(span_id) AS n FROM spans WHERE project_id = 'bench'", format: 'JSONEachRow' })
  const stored = Number((await rs.json<{ n: string }>())[0]?.n)
  // Remote: the server's rows go, so what runs next runs on an engine as empty as before.
  if (store.mode === 'remote') await store.client.command({ query: `DROP DATABASE ${store.database}` })
  await store.close()
  rmSync(dataDir, { recursive: true, force: true })
  return {
    transport: o.transport,
    loadSeconds,
    totalSeconds,
    full,
    ackedFull,
    persistedFull,
    cpuPerSpan,
    paced,
    peakRssMiB: rss,
    enginePeakRssMiB: engineRss,
    acked: ackedFull + paced.ok * spans,
    stored,
  }
}
