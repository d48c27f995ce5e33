/**
 * The SDK's cost measured the way an app pays it (issue 19).
 *
 * Each variant runs in its own process (worker.ts): the bare `openai` client
 * (the baseline: no SDK, no OpenTelemetry, nothing loaded), the client wrapped
 * by Spanlens, and peer instrumentations as reference lines. All call the same
 * local OpenAI-compatible server (fixture.ts: realistic plain, streaming and
 * tool-call replies, in a child process) and all export to the same real
 * Spanlens server (`spanlens serve` from packages/ingest/dist, temp data dir).
 *
 * Turns are interleaved: each round runs one turn per variant and scenario,
 * in a shuffled order, one process at a time, so the host's drift and the
 * server's background work land on every variant alike. Per variant and
 * scenario it reports the wall time per call (median, p99), the CPU per call
 * with export included (process.cpuUsage over the turn, flush included, all
 * threads), and the heap after GC at the end; each minus the bare process's.
 * The added CPU is also split into user and system time, and into the main
 * thread's and every other thread's (V8's GC helpers, libuv's pool; Linux's
 * per-thread schedstat), to tell the SDK's work on the app's thread from what
 * it causes beside it.
 *
 * `bare-control` is a second bare process: what it "adds" is the run's own noise.
 * Two processes of one build differ by up to ~±35 µs CPU per call however many
 * rounds they run, so the measurement repeats with fresh processes (--repeat)
 * and reports each repeat's added figures, their mean and its standard error.
 *
 *   cd bench && npm run sdk            (this, then the in-process line, in-process.ts)
 * Each process first runs --warmup turns per scenario, unmeasured but reported on a line of their own:
 * V8 keeps compiling for thousands of calls, and what a long-running app pays on every call is the
 * figure after that.
 *
 *   cd bench && node --import tsx sdk/app.ts [--rounds 20] [--calls 100] [--variants bare,bare-control,spanlens,otel,openinference] [--scenarios plain,stream,tools] [--seed 1] [--no-build] [--cpu-prof dir] [--receiver null] [--repeat 3] [--warmup 20] [--settle-ms 10] [--node-flags '--single-threaded-gc']
 */
import { fork, spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { cpus, loadavg, tmpdir, totalmem } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { request, SCENARIOS, startLlmProcess, type Scenario } from './fixture.js'

const here = fileURLToPath(new URL('.', import.meta.url))
const repo = join(here, '../..')
const args = process.argv.slice(2)
const opt = (name: string, dflt: string) => {
  const i = args.indexOf(`--${name}`)
  return i >= 0 ? (args[i + 1] ?? dflt) : dflt
}
/** A whole-number option; anything else stops the run before it starts (a NaN would run no rounds and report nothing). */
const intOpt = (name: string, dflt: string, min: number): number => {
  const raw = opt(name, dflt)
  const v = Number(raw)
  if (!Number.isInteger(v) || v < min) throw new Error(`--${name} must be a whole number ≥ ${min}, got "${raw}"`)
  return v
}
const ROUNDS = intOpt('rounds', '20', 1)
const CALLS = intOpt('calls', '100', 1)
const VARIANTS = opt('variants', 'bare,bare-control,spanlens,otel,openinference').split(',')
const SEED = intOpt('seed', String(Date.now() % 100_000), 0)
const ONLY = opt('scenarios', SCENARIOS.join(',')).split(',') as Scenario[]
// --cpu-prof <dir>: each worker writes a V8 CPU profile of the measured turns there, <variant>.cpuprofile (summarize with cpuprofile-summary.mjs).
const CPU_PROF = opt('cpu-prof', '')
// --receiver null: export to a receiver that reads each request and answers 200, in its own process,
// instead of spanlens serve: separates what the SDK costs from the machine's work for the server.
const RECEIVER = opt('receiver', 'spanlens')
// --node-flags '<flags>': extra node flags for every worker (e.g. --single-threaded-gc), for investigating.
const NODE_FLAGS = opt('node-flags', '').split(' ').filter(Boolean)
// --repeat N: the whole measurement N times, each with fresh processes (see the header), one per variant at a
// time as in a single run: more processes alive at once leave each one's caches colder and raise every figure.
const REPEATS = intOpt('repeat', '3', 1)
// --settle-ms: idle event loop at the end of every variant's turn, inside the measured window (worker.mjs says why).
const SETTLE_MS = intOpt('settle-ms', '10', 0)
const KEY = 'bench-sdk-key-0001'
// --warmup N: turns per scenario and process before measuring. V8 is still compiling the client's code
// (and the SDK's) for thousands of calls: with --trace-opt, a bare process compiled 79 µs of TurboFan
// work per plain call over calls 1,500–4,500 and 7 µs over calls 6,000–9,000, and its CPU per call
// fell from 845 to 611 µs. A long-running app pays the settled figure on every call and the warm-up
// once; the warm-up turns are reported too, on a line of their own.
const WARMUP_TURNS = intOpt('warmup', '20', 0)

// Calls per turn: a streamed call reads 95 chunks, so fewer of them keep the turns of similar length.
const callsFor = (s: Scenario) => (s === 'stream' ? Math.max(1, Math.round(CALLS / 2)) : CALLS)

function rng(seed: number) {
  let x = seed || 1
  return () => {
    // xorshift32: a reproducible order for a given --seed.
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    return (x >>> 0) / 0x1_0000_0000
  }
}
const random = rng(SEED)
function shuffled<T>(xs: T[]): T[] {
  const a = [...xs]
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    ;[a[i], a[j]] = [a[j] as T, a[i] as T]
  }
  return a
}

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number
const ascending = (xs: number[]) => [...xs].sort((a, b) => a - b)

function build(): void {
  const r = spawnSync('npx', ['--yes', 'pnpm@10.34.8', '--filter', '@spanlens/sdk', 'run', 'build'], { cwd: repo, encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`SDK build failed (exit ${r.status}):\n${r.stdout}\n${r.stderr}`)
  // The receiver too, every time: a dist older than the repository's clickhouse/ migrations
  // (read from the repository) refuses to start, and an older server is not the one measured.
  const b = spawnSync('npx', ['--yes', 'pnpm@10.34.8', '--filter', '@spanlens/ingest...', 'run', 'build'], { cwd: repo, encoding: 'utf8' })
  if (b.status !== 0) throw new Error(`ingest build failed (exit ${b.status}):\n${b.stdout}\n${b.stderr}`)
}

// Whatever ends this process (an error, a failed worker) ends the server and workers it started.
const children = new Set<ChildProcess>()
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL')
})

async function startSpanlens(dataDir: string): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, [join(repo, 'packages/ingest/dist/bin.js'), 'serve'], {
    cwd: here,
    env: { ...process.env, SPANLENS_DATA_DIR: dataDir, SPANLENS_PORT: '0', SPANLENS_GRPC_PORT: 'off', SPANLENS_API_KEYS: `bench:${KEY}`, SPANLENS_LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  children.add(child)
  const url = await new Promise<string>((resolve, reject) => {
    let out = ''
    const onData = (c: Buffer) => {
      out += c.toString()
      const m = /"address":"(http:\/\/[^"]+)"/.exec(out)
      if (m) {
        child.stdout?.off('data', onData)
        child.stdout?.resume()
        resolve(m[1] as string)
      }
    }
    child.stdout?.on('data', onData)
    child.once('exit', (code) => reject(new Error(`spanlens serve exited (${code}):\n${out.slice(-2000)}`)))
  })
  return { url, child }
}

async function startNullReceiver(): Promise<{ url: string; child: ChildProcess }> {
  const code = `require('node:http').createServer((req, res) => { req.resume(); req.on('end', () => res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end()) })
  .listen(0, '127.0.0.1', function () { process.stdout.write('http://127.0.0.1:' + this.address().port + '\\n') })`
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] })
  children.add(child)
  const url = await new Promise<string>((resolve) => child.stdout?.once('data', (d: Buffer) => resolve(d.toString().trim())))
  return { url, child }
}

interface Worker {
  variant: string
  child: ChildProcess
  ask<T>(m: object): Promise<T>
}

async function startWorker(variant: string, k: number, llmUrl: string, spanlensUrl: string): Promise<Worker> {
  const profile = CPU_PROF ? [join(CPU_PROF, `${variant}${k ? `-${k}` : ''}.cpuprofile`)] : []
  const child = fork(join(here, 'worker.mjs'), [variant, llmUrl, spanlensUrl, KEY, ...profile], {
    execArgv: ['--expose-gc', ...NODE_FLAGS],
    cwd: join(here, '..'),
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  children.add(child)
  const waiting: ((m: unknown) => void)[] = []
  child.on('message', (m) => waiting.shift()?.(m))
  child.once('exit', (code) => {
    children.delete(child)
    if (code !== 0) {
      console.error(`worker ${variant} exited with ${code}`)
      process.exit(1)
    }
  })
  await new Promise((resolve) => waiting.push(resolve))
  child.send({ type: 'init', requests: Object.fromEntries(SCENARIOS.map((s) => [s, request(s)])) })
  await new Promise((resolve) => waiting.push(resolve))
  return {
    variant,
    child,
    ask: <T>(m: object) =>
      new Promise<T>((resolve) => {
        waiting.push(resolve as (m: unknown) => void)
        child.send(m)
      }),
  }
}

async function metric(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${KEY}` } })).text()
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text)
  // No sample line until the first span of a project is counted.
  return m ? Number(m[1]) : 0
}

/** One variant in one scenario. */
interface Row {
  /** Each repeat's measured turns (fresh processes each): wall time of every call, CPU and calls summed. */
  repeats: { wall: number[]; cpu: number; calls: number }[]
  /** CPU per call of each turn, by round (over all repeats). */
  turns: number[]
  /** The same CPU split two ways (µs, summed over turns): user/system, and the main thread/every other thread. */
  split: { user: number; system: number; main: number; other: number }
}
/** A row's repeats pooled. */
const pooled = (row: Row) => ({
  wall: row.repeats.flatMap((r) => r.wall),
  cpu: row.repeats.reduce((n, r) => n + r.cpu, 0),
  calls: row.repeats.reduce((n, r) => n + r.calls, 0),
})

async function main() {
  console.log(`command: cd bench && node --import tsx sdk/app.ts --rounds ${ROUNDS} --calls ${CALLS} --variants ${VARIANTS.join(',')} --scenarios ${ONLY.join(',')} --seed ${SEED}${REPEATS > 1 ? ` --repeat ${REPEATS}` : ''} --warmup ${WARMUP_TURNS} --settle-ms ${SETTLE_MS}${RECEIVER === 'null' ? ' --receiver null' : ''}${NODE_FLAGS.length ? ` --node-flags '${NODE_FLAGS.join(' ')}'` : ''}`)
  const cpu0 = cpus()[0]
  console.log(`machine: nproc ${cpus().length} (${cpu0?.model}), ${(totalmem() / 2 ** 30).toFixed(1)} GiB, node ${process.version}, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')} at start`)
  if (!args.includes('--no-build')) build()
  // The workers write their profiles there when they stop: a missing directory failed the run at the very end.
  if (CPU_PROF) mkdirSync(CPU_PROF, { recursive: true })

  const dataDir = mkdtempSync(join(tmpdir(), 'spanlens-bench-sdk-'))
  const llm = await startLlmProcess()
  process.on('exit', () => llm.close())
  const server = RECEIVER === 'null' ? await startNullReceiver() : await startSpanlens(dataDir)
  const accepted0 = RECEIVER === 'null' ? 0 : await metric(server.url, 'spanlens_ingest_spans_accepted_total')
  const results = new Map<string, Row>()
  /** Warm-up turns' CPU and calls, by variant/scenario, over every repeat. */
  const warmup = new Map<string, { cpu: number; calls: number }>()
  /** One turn of `w`; measured ones (a repeat's index, not a warm-up's undefined) go into its row. */
  const turn = async (w: Worker, scenario: Scenario, repeat?: number) => {
    const r = await w.ask<{ wall: number[]; cpu: number; user: number; system: number; main: number; other: number }>({ type: 'turn', scenario, calls: callsFor(scenario), settleMs: SETTLE_MS })
    const key = `${w.variant}/${scenario}`
    if (repeat === undefined) {
      const wu = warmup.get(key) ?? { cpu: 0, calls: 0 }
      wu.cpu += r.cpu
      wu.calls += r.wall.length
      warmup.set(key, wu)
      return
    }
    const row = results.get(key) ?? { repeats: [], turns: [], split: { user: 0, system: 0, main: 0, other: 0 } }
    const rep = (row.repeats[repeat] ??= { wall: [], cpu: 0, calls: 0 })
    rep.wall.push(...r.wall)
    rep.cpu += r.cpu
    rep.calls += r.wall.length
    for (const k of ['user', 'system', 'main', 'other'] as const) row.split[k] += r[k]
    row.turns.push(r.cpu / r.wall.length)
    results.set(key, row)
  }
  // Per variant, the mean over the repeats' processes.
  const heap = new Map<string, { heapUsed: number; rss: number; exported?: number }>()
  let seconds = 0
  for (let rep = 0; rep < REPEATS; rep++) {
    const workers: Worker[] = []
    for (const v of VARIANTS) workers.push(await startWorker(v, rep, llm.url, server.url))
    for (let i = 0; i < WARMUP_TURNS; i++) for (const s of ONLY) for (const w of workers) await turn(w, s)
    for (const w of workers) await w.ask({ type: 'profile' })
    const t0 = Date.now()
    for (let r = 0; r < ROUNDS; r++) {
      for (const s of shuffled(ONLY)) for (const w of shuffled(workers)) await turn(w, s, rep)
    }
    seconds += (Date.now() - t0) / 1000
    for (const w of workers) {
      const h = await w.ask<{ heapUsed: number; rss: number; exported?: number }>({ type: 'heap' })
      const prev = heap.get(w.variant)
      heap.set(w.variant, {
        heapUsed: (prev?.heapUsed ?? 0) + h.heapUsed / REPEATS,
        rss: (prev?.rss ?? 0) + h.rss / REPEATS,
        exported: h.exported === undefined ? undefined : (prev?.exported ?? 0) + h.exported,
      })
    }
    for (const w of workers) w.child.send({ type: 'exit' })
  }
  // The server acknowledges a request before its spans are counted as accepted: give it a moment.
  await new Promise((r) => setTimeout(r, 500))
  const accepted = RECEIVER === 'null' ? NaN : (await metric(server.url, 'spanlens_ingest_spans_accepted_total')) - accepted0
  console.log(`measured ${REPEATS > 1 ? `${REPEATS} × ` : ''}${ROUNDS} rounds in ${seconds.toFixed(0)} s; load average ${loadavg().map((l) => l.toFixed(2)).join(' ')} at the end`)

  const fmt = (x: number) => (x >= 0 ? '+' : '') + x.toFixed(0)
  const summary: Record<string, Record<string, number>> = {}
  for (const s of ONLY) {
    const baseRow = results.get(`bare/${s}`)
    if (!baseRow) continue
    const base = pooled(baseRow)
    const bs = ascending(base.wall)
    const bMed = quantile(bs, 0.5)
    const bP99 = quantile(bs, 0.99)
    const bCpu = base.cpu / base.calls
    const rows: [string, Row, number[]][] = []
    console.log(`\n${s} (${base.calls} calls per variant, µs per call; added = variant − bare, same run)`)
    console.log(`  ${'variant'.padEnd(20)} ${'wall p50'.padStart(9)} ${'added'.padStart(6)} ${'wall p99'.padStart(9)} ${'added'.padStart(6)} ${'CPU'.padStart(7)} ${'added'.padStart(6)} ${'added, median of rounds'.padStart(24)}`)
    for (const variant of VARIANTS) {
      const row = results.get(`${variant}/${s}`) as Row
      const all = pooled(row)
      const ws = ascending(all.wall)
      const med = quantile(ws, 0.5)
      const p99 = quantile(ws, 0.99)
      const c = all.cpu / all.calls
      // The same round's bare turn subtracted, then the median over rounds: a round the host disturbed counts once, not by its size.
      const paired = quantile(ascending(row.turns.map((t, i) => t - (baseRow.turns[i] as number))), 0.5)
      console.log(
        `  ${variant.padEnd(20)} ${med.toFixed(0).padStart(9)} ${fmt(med - bMed).padStart(6)} ${p99.toFixed(0).padStart(9)} ${fmt(p99 - bP99).padStart(6)} ${c.toFixed(0).padStart(7)} ${fmt(c - bCpu).padStart(6)} ${fmt(paired).padStart(24)}`,
      )
      rows.push([variant, row, ws])
      summary[`${variant}/${s}`] = { wallMedian: med, wallAdded: med - bMed, p99, p99Added: p99 - bP99, cpu: c, cpuAdded: c - bCpu, cpuAddedMedianOfRounds: paired }
    }
    if (REPEATS > 1) {
      // Each repeat's added CPU (mean over calls) and wall (median) against the same repeat's bare process, then their mean and its standard error.
      const meanSe = (xs: number[]) => {
        const m = xs.reduce((a, b) => a + b, 0) / xs.length
        const sd = Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / Math.max(1, xs.length - 1))
        return `${fmt(m)} ± ${(sd / Math.sqrt(xs.length)).toFixed(0)}`
      }
      console.log(`  added by repeat (fresh processes each), then mean ± standard error:`)
      for (const [variant, row] of rows) {
        if (variant === 'bare') continue
        const each = row.repeats.map((o, i) => {
          const b = baseRow.repeats[i] as Row['repeats'][number]
          return { cpu: o.cpu / o.calls - b.cpu / b.calls, wall: quantile(ascending(o.wall), 0.5) - quantile(ascending(b.wall), 0.5) }
        })
        console.log(`  ${variant.padEnd(20)} CPU ${each.map((e) => fmt(e.cpu)).join(' ')} = ${meanSe(each.map((e) => e.cpu))};  wall p50 ${each.map((e) => fmt(e.wall)).join(' ')} = ${meanSe(each.map((e) => e.wall))}`)
        summary[`${variant}/${s}/repeats`] = { cpuAddedMean: each.reduce((a, e) => a + e.cpu, 0) / REPEATS, wallAddedMean: each.reduce((a, e) => a + e.wall, 0) / REPEATS }
      }
    }
    // Whether the added wall time is on every call (a shift of every quantile) or on a few (the upper ones only).
    const qs = [0.1, 0.25, 0.5, 0.75, 0.9]
    console.log(`  wall added at ${qs.map((q) => `p${q * 100}`).join(' / ')}:`)
    for (const [v, , ws] of rows) {
      if (v === 'bare') continue
      console.log(`  ${v.padEnd(25)} ${qs.map((q) => fmt(quantile(ws, q) - quantile(bs, q))).join(' / ')}`)
    }
    // Where the CPU went (mean over calls, added vs bare): the kernel's share (sockets, page faults) and the threads beside the app's.
    const per = (r: Row, k: keyof Row['split']) => r.split[k] / pooled(r).calls
    console.log(`  CPU split, added per call: ${'user'.padStart(6)} ${'system'.padStart(7)} ${'main thread'.padStart(12)} ${'other threads'.padStart(14)}`)
    for (const [v, r] of rows) {
      if (v === 'bare') continue
      const d = (k: keyof Row['split']) => fmt(per(r, k) - per(baseRow, k))
      console.log(`  ${v.padEnd(25)} ${d('user').padStart(6)} ${d('system').padStart(7)} ${d('main').padStart(12)} ${d('other').padStart(14)}`)
    }
    console.log(`  (bare: user ${per(baseRow, 'user').toFixed(0)}, system ${per(baseRow, 'system').toFixed(0)}, main thread ${per(baseRow, 'main').toFixed(0)}, other threads ${per(baseRow, 'other').toFixed(0)})`)
    const wBase = warmup.get(`bare/${s}`)
    if (wBase && wBase.calls > 0) {
      // What each process paid while V8 was still compiling, before the measured rounds (paid once per process).
      const wCpu = (v: string) => {
        const w = warmup.get(`${v}/${s}`) as { cpu: number; calls: number }
        return w.cpu / w.calls
      }
      console.log(
        `  warm-up (first ${WARMUP_TURNS} turns, ${wBase.calls / REPEATS} calls per process): CPU per call bare ${wCpu('bare').toFixed(0)}; added ` +
          VARIANTS.filter((v) => v !== 'bare')
            .map((v) => `${v} ${fmt(wCpu(v) - wCpu('bare'))}`)
            .join(', '),
      )
      for (const v of VARIANTS) summary[`${v}/${s}/warmup`] = { cpu: wCpu(v), cpuAdded: wCpu(v) - wCpu('bare') }
    }
  }
  const bareHeap = heap.get('bare')
  console.log('\nheap after GC at the end (MiB; added = variant − bare), RSS')
  for (const variant of VARIANTS) {
    const h = heap.get(variant)
    if (!h) continue
    const mib = h.heapUsed / 2 ** 20
    const added = bareHeap ? mib - bareHeap.heapUsed / 2 ** 20 : NaN
    console.log(`  ${variant.padEnd(20)} ${mib.toFixed(1).padStart(6)} ${(added >= 0 ? '+' : '') + added.toFixed(1)}   RSS ${(h.rss / 2 ** 20).toFixed(0)} MiB${h.exported !== undefined ? `   (SDK says ${h.exported} spans exported)` : ''}`)
    summary[`${variant}/heap`] = { heapMiB: mib, heapAddedMiB: added }
  }
  const traced = [...results].filter(([k]) => !k.startsWith('bare')).reduce((n, [, r]) => n + pooled(r).calls, 0)
  const warm = WARMUP_TURNS * ONLY.reduce((n, s) => n + callsFor(s), 0) * VARIANTS.filter((v) => !v.startsWith('bare')).length * REPEATS
  console.log(`\nspans accepted by the Spanlens server: ${accepted} (traced calls: ${traced} measured + ${warm} warm-up)`)
  console.log(`summary-json: ${JSON.stringify(summary)}`)

  server.child.kill('SIGTERM')
  await new Promise((r) => server.child.once('exit', r))
  children.delete(server.child)
  llm.close()
  rmSync(dataDir, { recursive: true, force: true })
}

await main().catch((err: unknown) => {
  console.error(err)
  process.exitCode = 1
})
