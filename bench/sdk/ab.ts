/**
 * Before/after of SDK changes, for the record in RESULTS.md: two or more
 * builds of the SDK loaded side by side in one process, each wrapping its own
 * client, called in turn with a bare client, call by call (the host's drift
 * lands on every build alike). An in-process `fetch` answers with the
 * realistic replies (fixture.ts), so the figures are the SDK's own work:
 * CPU per call, export included (each block timed as a whole with its
 * flush), minus the bare client's, and the median wall time added.
 * The builds share the process: its GC and caches are paid by whichever call
 * is running, so a change that allocates less shows here only in part. For
 * those, app.ts with `--variants bare,spanlens-<a>,spanlens-<b>` (each build in
 * its own process) is the measure.
 *
 *   (in packages/sdk) esbuild src/index.ts --bundle --platform=node --format=esm --packages=external --target=node20 --outfile=dist-<tag>/index.js
 *   cd bench && node --import tsx sdk/ab.ts <scenario: plain|stream|tools> <calls> ../packages/sdk/dist-a/index.js ../packages/sdk/dist-b/index.js
 */
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { cpus, loadavg } from 'node:os'
import OpenAI from 'openai'
import { request, type Scenario, scenarioFetch, settle, startSink } from './fixture.js'

type Sdk = typeof import('@spanlens/sdk')
const [scenario, callsArg, ...builds] = process.argv.slice(2) as [Scenario, string, ...string[]]
const calls = Number(callsArg)

const sink = await startSink()
const sinkUrl = sink.url

const reply = scenarioFetch(scenario)
const make = () => new OpenAI({ apiKey: 'sk', baseURL: 'http://x/v1', maxRetries: 0, fetch: reply })

interface Side {
  label: string
  client: OpenAI
  flush: () => Promise<unknown>
  cpu: number
  /** CPU of each recorded block, by round. */
  blocks: number[]
  wall: number[]
}
const sides: Side[] = [{ label: 'bare', client: make(), flush: async () => undefined, cpu: 0, blocks: [], wall: [] }]
for (const b of builds) {
  const sdk = (await import(pathToFileURL(resolve(b)).href)) as Sdk
  sdk.init({ endpoint: sinkUrl, apiKey: 'bench', flushOnExit: false, env: {}, flushIntervalMs: 3_600_000, maxBatchSize: 1000 })
  sides.push({ label: b, client: sdk.wrapOpenAI(make()), flush: () => sdk.flush(10_000), cpu: 0, blocks: [], wall: [] })
}

const cpuNow = () => {
  const c = process.cpuUsage()
  return c.user + c.system
}
async function one(side: Side, wall: number[] | undefined): Promise<void> {
  const t = performance.now()
  const r = await side.client.chat.completions.create(request(scenario) as never)
  if (scenario === 'stream') for await (const _ of r as unknown as AsyncIterable<unknown>);
  wall?.push((performance.now() - t) * 1000)
  await settle()
}
/** A block of 50 calls and its flush, timed as a whole: what the SDK does later (on a timer) lands inside it. */
async function block(side: Side, record: boolean): Promise<void> {
  const c0 = cpuNow()
  for (let i = 0; i < 50; i++) await one(side, record ? side.wall : undefined)
  await side.flush()
  if (record) {
    const used = cpuNow() - c0
    side.cpu += used
    side.blocks.push(used)
  }
}

console.log(`command: cd bench && node --import tsx sdk/ab.ts ${scenario} ${calls} ${builds.join(' ')}`)
console.log(`machine: nproc ${cpus().length} (${cpus()[0]?.model}), node ${process.version}, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`)
for (let i = 0; i < 6; i++) for (const s of sides) await block(s, false)
// The order rotates each round: a build called right after another paid ~25 µs more (dist-0 against a copy of itself).
const rounds = Math.ceil(calls / 50)
for (let i = 0; i < rounds; i++) {
  for (let k = 0; k < sides.length; k++) await block(sides[(i + k) % sides.length] as Side, true)
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number
const bare = sides[0] as Side
for (const s of sides.slice(1)) {
  // The same round's bare block subtracted, then the median over rounds: a block the host disturbed counts once, not by its size.
  const paired = median(s.blocks.map((c, i) => c - (bare.blocks[i] as number))) / 50
  console.log(
    `${s.label}: ${scenario}, CPU added ${((s.cpu - bare.cpu) / (rounds * 50)).toFixed(1)} µs per call (export included; median of rounds ${paired.toFixed(1)}), ` +
      `wall median added ${(median(s.wall) - median(bare.wall)).toFixed(1)} µs (${rounds * 50} calls each, alternated blocks of 50)`,
  )
}
process.exit(0)
