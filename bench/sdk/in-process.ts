/**
 * The SDK's cost per call inside one process, the second line of `npm run sdk`
 * (app.ts is the first, and the one that says what an app pays): bare and
 * wrapped clients alternate call by call in the same process, against an
 * in-process `fetch` (no socket), so process-wide costs (GC, the exporter's
 * requests) land on both sides and only the wrapper's own work shows. Also:
 *  - CPU per call with the export included, the same way (alternated calls,
 *    flush() every 500 wrapped calls charged to the wrapped side);
 *  - memory with the Spanlens endpoint down for 100k wrapped calls (the queue
 *    is bounded: the heap must stay flat).
 * Run: cd bench && node --import tsx sdk/in-process.ts   (the built SDK; with
 * --conditions=@spanlens/source, the SDK from source)
 */
import { createServer } from 'node:http'
import { relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { cpus, loadavg, totalmem } from 'node:os'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import OpenAI from 'openai'
import { flush, getStats, init, shutdown, wrapOpenAI } from '@spanlens/sdk'
import { inProcessFetch, PARAMS, settle, startLlmProcess } from './fixture.js'

setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void


async function listen(handler: Parameters<typeof createServer>[1]): Promise<{ url: string; close: () => void }> {
  const server = createServer(handler)
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()))
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, close: () => server.close() }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)] as number
}


/**
 * `n` awaited calls, timed one by one. Between calls the loop yields (settle()),
 * as an app does when it goes back to its own I/O. What the SDK does after a
 * call (building and encoding the span, on a 20 ms timer for many calls, see
 * llm-span.ts) lands in whichever call or yield is under way when it fires, on
 * either side alike; the median leaves it out, and cpuPerCall() counts it.
 */
async function timeCalls(client: OpenAI, n: number, out: number[]): Promise<void> {
  for (let i = 0; i < n; i++) {
    const t = process.hrtime.bigint()
    await client.chat.completions.create(PARAMS)
    out.push(Number(process.hrtime.bigint() - t) / 1000)
    await settle()
  }
}

async function overhead(label: string, make: () => OpenAI, rounds: number, perRound: number, wrap = true) {
  const bare = make()
  const wrapped = wrap ? wrapOpenAI(make()) : make()
  const a: number[] = []
  const b: number[] = []
  await timeCalls(bare, 500, [])
  await timeCalls(wrapped, 500, [])
  // Alternate call by call: machine load on a shared box drifts over seconds, and
  // blocks of calls put that drift into the difference (bare vs a second bare client
  // measured this way differ by < 2 µs; in blocks of 250 by tens of µs).
  for (let r = 0; r < rounds * perRound; r++) {
    await timeCalls(bare, 1, a)
    await timeCalls(wrapped, 1, b)
  }
  const mb = median(a)
  const mw = median(b)
  console.log(`${label}: bare ${mb.toFixed(1)} µs, wrapped ${mw.toFixed(1)} µs, added ${(mw - mb).toFixed(1)} µs per call (median of ${a.length} each)`)
  return { bare: mb, wrapped: mw, added: mw - mb, n: a.length }
}

/**
 * All the CPU the SDK adds per call, wherever it runs: on the call path, in the
 * batches that describe calls and record them after they end (llm-span.ts), and
 * the export (encoding, gzip, the request). Blocks of 100 calls alternate bare
 * and wrapped, each timed with process.cpuUsage() as a whole; a wrapped block
 * ends with flush(), so every span of its calls was recorded and sent inside
 * it (the recording batch runs on a timer, and per-call timing would charge it
 * to whichever call it landed in). The exporter sends nothing between flushes.
 * Includes the in-process sink's share of the export requests, so it errs
 * high; process.cpuUsage() counts all threads (GC helpers, the threadpool's gzip).
 */
async function cpuPerCall(label: string, make: () => OpenAI, n: number) {
  const bare = make()
  const wrapped = wrapOpenAI(make())
  const BLOCK = 100
  const block = async (client: OpenAI, drain: boolean) => {
    const c0 = process.cpuUsage()
    for (let i = 0; i < BLOCK; i++) {
      await client.chat.completions.create(PARAMS)
      await settle()
    }
    if (drain) await flush(10_000)
    const d = process.cpuUsage(c0)
    return d.user + d.system
  }
  for (let i = 0; i < 5; i++) await block(bare, false), await block(wrapped, true)
  let b = 0
  let w = 0
  const rounds = Math.ceil(n / BLOCK)
  for (let i = 0; i < rounds; i++) {
    b += await block(bare, false)
    w += await block(wrapped, true)
  }
  const calls = rounds * BLOCK
  const added = (w - b) / calls
  console.log(`${label}: bare ${(b / calls).toFixed(1)} µs CPU per call, added ${added.toFixed(1)} µs CPU per call (${calls} calls a side in alternated blocks of ${BLOCK}, export included)`)
  return added
}

async function main() {
  // The built package unless run with --conditions=@spanlens/source.
  const sdkPath = fileURLToPath(import.meta.resolve('@spanlens/sdk'))
  const fromSource = sdkPath.endsWith('.ts')
  console.log(`command: cd bench && node ${fromSource ? '--conditions=@spanlens/source ' : ''}--import tsx sdk/in-process.ts`)
  console.log(`sdk: ${fromSource ? 'source through tsx' : 'built package'} (${relative(process.cwd(), sdkPath)})`)
  console.log(`machine: nproc ${cpus().length} (${cpus()[0]?.model}), ${(totalmem() / 2 ** 30).toFixed(1)} GiB, node ${process.version}, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`)

  // A sink that answers every export, in this process (its share of the requests counts on the wrapped side).
  const sink = await listen((req, res) => {
    req.resume()
    req.on('end', () => res.writeHead(200).end())
  })
  const inProc = () => new OpenAI({ apiKey: 'sk', baseURL: 'http://x/v1', maxRetries: 0, fetch: inProcessFetch })

  init({ endpoint: sink.url, apiKey: 'bench', flushOnExit: false, env: {} })
  const inproc = await overhead('in-process fetch, exporting', inProc, 20, 500)
  // The same over real HTTP to the fixture's server in its own process: the call path's own wall time beside
  // a real socket. The app benchmark's added median is larger by what the whole process loses, which calls
  // alternated in one process share (bench/sdk/RESULTS.md, session 13).
  const llm = await startLlmProcess()
  const overHttp = await overhead('real HTTP to the fixture server, exporting', () => new OpenAI({ apiKey: 'sk', baseURL: `${llm.url}/v1`, maxRetries: 0 }), 10, 500)
  llm.close()
  await flush(10_000)
  const st = getStats()
  console.log(`  spans exported ${st.spansExported}, dropped ${st.spansDropped}`)
  await shutdown()

  // CPU: exports leave only when flush() is called (see cpuPerCall).
  init({ endpoint: sink.url, apiKey: 'bench', flushOnExit: false, env: {}, flushIntervalMs: 3_600_000, maxBatchSize: 1000 })
  const cpuInproc = await cpuPerCall('CPU, in-process fetch', inProc, 10_000)
  await shutdown()

  // Endpoint down: nothing listens on port 1; spans pile into the bounded queue and are dropped oldest-first.
  init({ endpoint: 'http://127.0.0.1:1', flushOnExit: false, env: {}, logger: { debug() {}, warn() {}, error() {} } })
  const client = wrapOpenAI(inProc())
  const heap: { calls: number; mib: number }[] = []
  const sample = (calls: number) => {
    gc()
    heap.push({ calls, mib: process.memoryUsage().heapUsed / 2 ** 20 })
  }
  const t0 = Date.now()
  sample(0)
  for (let i = 1; i <= 100_000; i++) {
    await client.chat.completions.create(PARAMS)
    if (i % 10_000 === 0) sample(i)
  }
  const s = getStats()
  console.log(`endpoint down, 100k calls in ${((Date.now() - t0) / 1000).toFixed(1)} s: heap after GC (MiB) ${heap.map((h) => `${h.calls / 1000}k=${h.mib.toFixed(1)}`).join(' ')}`)
  console.log(`  spans queued ${s.spansQueued}, dropped ${s.spansDropped}, in queue ${s.queued}, export failures ${s.exportFailures}`)
  await shutdown()
  sink.close()
  return { inproc, overHttp, cpuInproc, heap }
}

const r = await main()
const heapMax = Math.max(...r.heap.slice(1).map((h) => h.mib))
const heapAt10k = r.heap[1]?.mib ?? 0
console.log(
  `summary: in-process, added per call ${r.inproc.added.toFixed(1)} µs (median; over real HTTP ${r.overHttp.added.toFixed(1)}), CPU added per call ${r.cpuInproc.toFixed(1)} µs (export included); ` +
    `heap growth 10k→100k calls with the endpoint down ${(heapMax - heapAt10k).toFixed(1)} MiB`,
)
process.exit(0)
