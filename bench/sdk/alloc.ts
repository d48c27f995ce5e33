/**
 * What one call allocates, and where: V8's sampling heap profiler (with the
 * objects the young and old GCs already collected kept in the profile) over a
 * loop of calls against an in-process fetch (fixture.ts's replies), each call
 * followed by settle() and a flush every 100 calls as app.ts's turns, so the
 * SDK's deferred recording and export encoding run as in an app (the export's
 * HTTP request goes to a local sink). One variant per process: `bare` or the
 * path of a build (`../packages/sdk/dist-<tag>/index.js`). Prints bytes
 * allocated per call (an estimate from samples every `--interval` bytes),
 * young and old GCs per 1000 calls, and the largest allocating functions
 * (`--dump` writes them all, to diff two builds). Two runs of one build
 * differ by up to ~0.8 KiB per call in the total (the openai client's own
 * sites move), less in the SDK's own functions. `--http` calls the fixture's
 * server instead (fixture.ts), as app.ts does; with `--interval 0` nothing is
 * sampled and the GC counts stand alone (e.g. under --trace-gc-nvp, with
 * `--mark` printing where the measured calls start).
 *
 *   cd bench && node --import tsx sdk/alloc.ts <plain|stream|tools> <bare|path-to-build> [--calls 5000] [--interval 256] [--top 25] [--dump file.json] [--http] [--mark]
 */
import { writeFileSync } from 'node:fs'
import { Session } from 'node:inspector/promises'
import { resolve } from 'node:path'
import { PerformanceObserver, constants } from 'node:perf_hooks'
import { pathToFileURL } from 'node:url'
import OpenAI from 'openai'
import { request, type Scenario, scenarioFetch, settle, startLlmProcess, startSink } from './fixture.js'

type Sdk = typeof import('@spanlens/sdk')
const [scenario, variant, ...rest] = process.argv.slice(2) as [Scenario, string, ...string[]]
const opt = (name: string, dflt: number) => {
  const i = rest.indexOf(`--${name}`)
  return i >= 0 ? Number(rest[i + 1]) : dflt
}
const CALLS = opt('calls', 5000)
const INTERVAL = opt('interval', 256)
const TOP = opt('top', 25)
const DUMP = rest.includes('--dump') ? rest[rest.indexOf('--dump') + 1] : undefined

const sink = await startSink()
const sinkUrl = sink.url

const reply = scenarioFetch(scenario)
// --http: the fixture's server in a child process (fixture.ts) instead of the in-process fetch, as app.ts calls it.
const llm = rest.includes('--http') ? await startLlmProcess() : undefined
let client = llm ? new OpenAI({ apiKey: 'sk', baseURL: `${llm.url}/v1`, maxRetries: 0 }) : new OpenAI({ apiKey: 'sk', baseURL: 'http://x/v1', maxRetries: 0, fetch: reply })
let flush: () => Promise<unknown> = async () => undefined
if (variant !== 'bare') {
  const sdk = (await import(pathToFileURL(resolve(variant)).href)) as Sdk
  sdk.init({ endpoint: sinkUrl, apiKey: 'bench', flushOnExit: false, env: {} })
  client = sdk.wrapOpenAI(client)
  flush = () => sdk.flush(10_000)
}

async function calls(n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const r = await client.chat.completions.create(request(scenario) as never)
    if (scenario === 'stream') for await (const _ of r as unknown as AsyncIterable<unknown>);
    await settle()
    if (i % 100 === 99) await flush()
  }
  await flush()
}

await calls(2000)
// Marks where the measured calls start in a --trace-opt/--trace-deopt log.
if (rest.includes('--mark')) console.log('--- measured calls start')
let minor = 0
let major = 0
const gcs = new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    const kind = (e as unknown as { detail?: { kind?: number } }).detail?.kind
    if (kind === constants.NODE_PERFORMANCE_GC_MINOR) minor++
    else major++
  }
})
gcs.observe({ entryTypes: ['gc'] })
const session = new Session()
session.connect()
await session.post('HeapProfiler.enable')
// --interval 0: GC counts only, no sampling (e.g. under --cpu-prof).
if (INTERVAL > 0) await session.post('HeapProfiler.startSampling', { samplingInterval: INTERVAL, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true } as never)
await calls(CALLS)
const { profile } = INTERVAL > 0 ? ((await session.post('HeapProfiler.stopSampling')) as unknown as { profile: { head: Node } }) : { profile: { head: { callFrame: { functionName: '', url: '', lineNumber: 0 }, selfSize: 0, children: [] } as Node } }
gcs.disconnect()

interface Node {
  callFrame: { functionName: string; url: string; lineNumber: number }
  selfSize: number
  children: Node[]
}
const byFn = new Map<string, number>()
let total = 0
const walk = (n: Node) => {
  total += n.selfSize
  const url = n.callFrame.url.replace(/^.*\/node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?/, '').replace(/^.*\/packages\//, '')
  const key = `${n.callFrame.functionName || '(anonymous)'} ${url}:${n.callFrame.lineNumber + 1}`
  byFn.set(key, (byFn.get(key) ?? 0) + n.selfSize)
  for (const c of n.children) walk(c)
}
walk(profile.head)
console.log(`command: cd bench && node --import tsx sdk/alloc.ts ${scenario} ${variant} --calls ${CALLS} --interval ${INTERVAL}${llm ? ' --http' : ''}`)
console.log(`${variant} ${scenario}: ${(total / CALLS / 1024).toFixed(2)} KiB allocated per call; ${((minor * 1000) / CALLS).toFixed(1)} young and ${((major * 1000) / CALLS).toFixed(2)} old GCs per 1000 calls`)
for (const [k, v] of [...byFn].sort((a, b) => b[1] - a[1]).slice(0, TOP)) console.log(`  ${(v / CALLS).toFixed(0).padStart(7)} B  ${k}`)
if (DUMP) writeFileSync(DUMP, JSON.stringify(Object.fromEntries([...byFn].map(([k, v]) => [k, v / CALLS]))))
sink.close()
llm?.close()
process.exit(0)
