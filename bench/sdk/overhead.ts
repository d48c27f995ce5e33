/**
 * The in-process "call path only" overhead of one SDK build, for A/B runs of
 * two builds in alternating processes (machine load on this shared box drifts
 * by ±25 % over minutes, more than the differences being measured):
 *
 *   esbuild src/index.ts --bundle --platform=node --format=esm --packages=external --outfile=dist-after/index.js   (in packages/sdk)
 *   for i in 1 2 3 4; do for b in before after; do node --import tsx sdk/overhead.ts ../packages/sdk/dist-$b/index.js; done; done
 *
 * Without an argument it measures `@spanlens/sdk` as resolved.
 */
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import OpenAI from 'openai'
import { inProcessFetch, PARAMS } from './fixture.js'

type Sdk = typeof import('@spanlens/sdk')
const target = process.argv[2]
const sdk: Sdk = await import(target ? pathToFileURL(resolve(target)).href : '@spanlens/sdk')

const make = () => new OpenAI({ apiKey: 'sk', baseURL: 'http://x/v1', maxRetries: 0, fetch: inProcessFetch })
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number
const cpu = () => {
  const u = process.cpuUsage()
  return u.user + u.system
}
async function timeCalls(c: OpenAI, n: number, out: number[]): Promise<number> {
  const c0 = cpu()
  for (let i = 0; i < n; i++) {
    const t = process.hrtime.bigint()
    await c.chat.completions.create(PARAMS)
    out.push(Number(process.hrtime.bigint() - t) / 1000)
  }
  return (cpu() - c0) / n
}

// As run.ts's "call path only": spans are kept (the queue holds what one flush interval would), not sent.
sdk.init({ endpoint: 'http://127.0.0.1:1', flushOnExit: false, env: {}, flushIntervalMs: 3_600_000, maxBatchSize: 100_000, maxQueueSize: 2048, logger: { debug() {}, warn() {}, error() {} } })
const bare = make()
const wrapped = sdk.wrapOpenAI(make())
await timeCalls(bare, 1000, [])
await timeCalls(wrapped, 1000, [])
const rounds = Number(process.argv[3] ?? 20)
const a: number[] = []
const b: number[] = []
const cpuAdded: number[] = []
for (let r = 0; r < rounds; r++) {
  const ca = await timeCalls(bare, 500, a)
  const cb = await timeCalls(wrapped, 500, b)
  cpuAdded.push(cb - ca)
}
const label = target ?? '@spanlens/sdk'
console.log(
  `${label}: wall median bare ${median(a).toFixed(1)} µs, wrapped ${median(b).toFixed(1)} µs, added ${(median(b) - median(a)).toFixed(1)} µs; ` +
    `CPU time added ${median(cpuAdded).toFixed(1)} µs per call (median of ${rounds} paired blocks of 500)`,
)
process.exit(0)
