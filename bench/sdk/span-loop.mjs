/**
 * The CPU of observe()/span() spans, which start on the SDK's tracer (not the LLM calls' direct
 * record): 10,000 calls per round, 15 rounds after 20,000 warm-up calls, export to a closed port
 * (encoded, then dropped at the queue). Prints the median round.
 * - default: `span('step', (h) => h.setAttribute(...))`;
 * - `observe`: a function observe() traced, input and output not captured (the wrapper's own path
 *   on top of the span).
 *
 *   node bench/sdk/span-loop.mjs packages/sdk/dist/index.js [observe]   (absolute path or file URL of a build)
 */
import { pathToFileURL } from 'node:url'
import { resolve } from 'node:path'

const sdk = await import(pathToFileURL(resolve(process.argv[2])).href)
const mode = process.argv[3] === 'observe' ? 'observe' : 'span'
sdk.init({ endpoint: 'http://127.0.0.1:9', apiKey: 'k', flushOnExit: false, env: {}, logger: { debug() {}, warn() {}, error() {} }, maxQueueSize: 100 })
const step = sdk.observe('step', (i) => i, { captureInput: false, captureOutput: false })
const run =
  mode === 'observe'
    ? (n) => { for (let i = 0; i < n; i++) step(i) }
    : (n) => { for (let i = 0; i < n; i++) sdk.span('step', (h) => { h.setAttribute('app.i', i); return i }) }
run(20000)
const rounds = []
for (let r = 0; r < 15; r++) {
  const c0 = process.cpuUsage()
  run(10000)
  const c = process.cpuUsage(c0)
  rounds.push((c.user + c.system) / 10000)
  await new Promise((res) => setTimeout(res, 30))
}
rounds.sort((a, b) => a - b)
console.log(process.argv[2], `${mode}() CPU µs per call, median of 15 rounds:`, rounds[7].toFixed(2), 'min', rounds[0].toFixed(2))
await sdk.shutdown()
process.exit(0)
