/**
 * What a large value costs the app's thread: process.cpuUsage() around one traced call given (or
 * returning, throwing, setting) a string of 1, 10 and 50 MB of prose with an email and a line break
 * every ~100 characters, and around the flush that encodes its span (export to a closed port). Default
 * options (content captured, redaction on, maxContentLength 100,000). One call per line, no warm-up:
 * the figures are tens to thousands of ms, far above what warm-up changes.
 *
 *   node bench/sdk/big-values.mjs packages/sdk/dist/index.js [1,10,50] [case name part]
 */
import { pathToFileURL } from 'node:url'
import { resolve } from 'node:path'
import { cpus, loadavg } from 'node:os'
const sdk = await import(pathToFileURL(resolve(process.argv[2])).href)
const sizes = (process.argv[3] ?? '1,10,50').split(',').map(Number)
const only = process.argv[4]
sdk.init({ endpoint: 'http://127.0.0.1:9', flushOnExit: false, maxRetries: 0, logger: { debug() {}, warn() {}, error() {} } })
const ms = (u) => ((u.user + u.system) / 1000).toFixed(1)
const text = (n) => {
  // prose with an email and a line break every ~100 chars
  const unit = 'The quick brown fox jumps over the lazy dog; write to a.b@example.com if lost.\nAnd then some more. '
  return unit.repeat(Math.ceil(n / unit.length)).slice(0, n)
}
const cases = {
  'string input': (s) => sdk.observe('f', (x) => 1)(s),
  'string output': (s) => sdk.observe('f', () => s)(),
  'object input': (s) => sdk.observe('f', (x) => 1)({ text: s }),
  'array input (10k items)': (s) => { const n = 10000; const part = s.slice(0, s.length / n); return sdk.observe('f', (x) => 1)(Array.from({ length: n }, () => ({ t: part }))) },
  'tool input': (s) => sdk.observe('f', (x) => 1, { kind: 'tool' })(s),
  'error message': (s) => { try { sdk.observe('f', () => { throw new Error(s) })() } catch {} },
  'setAttribute metadata': (s) => sdk.span('f', (h) => h.setAttribute('spanlens.metadata.doc', s)),
  'setInput': (s) => sdk.span('f', (h) => h.setInput(s)),
  'generator (5 items)': async (s) => { for await (const _ of sdk.observe('g', async function* () { for (let i = 0; i < 5; i++) yield s })()) void _ },
}
console.log(`node bench/sdk/big-values.mjs ${process.argv.slice(2).join(' ')}\nnproc ${cpus().length} (${cpus()[0]?.model}), node ${process.version}, load ${loadavg().map((l) => l.toFixed(2)).join(' ')}`)
for (const [name, run] of Object.entries(cases)) {
  if (only && !name.includes(only)) continue
  for (const mb of sizes) {
    const s = text(mb * 1_000_000)
    const c0 = process.cpuUsage()
    await run(s)
    const call = process.cpuUsage(c0)
    const c1 = process.cpuUsage()
    await sdk.flush(1)
    const exp = process.cpuUsage(c1)
    console.log(`${name.padEnd(26)} ${String(mb).padStart(3)} MB  call ${ms(call).padStart(8)} ms  encode+flush ${ms(exp).padStart(8)} ms`)
  }
}
await sdk.shutdown()
