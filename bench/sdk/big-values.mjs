/**
 * What a large value costs the app's thread: process.cpuUsage() around one traced call given (or
 * returning, throwing, setting) a string of 1, 10 and 50 MB of prose with an email and a line break
 * every ~100 characters, and around the flush that encodes its span (export to a closed port). Default
 * options (content captured, redaction on, maxContentLength 100,000). One call per line, no warm-up:
 * the figures are tens to thousands of ms, far above what warm-up changes.
 *
 * Values that are not content: a non-content attribute, a span name, an attribute key, and an array of
 * 100,000 numbers per MB. A streamed OpenAI chat completion of that much text in chunks of 1,000
 * characters (the client's own SSE parsing is in "call", alike for every build), with the growth of the
 * heap while it streams (--expose-gc for a figure after a GC; without it, as it is).
 *
 *   node bench/sdk/big-values.mjs packages/sdk/dist/index.js [1,10,50] [case name part]
 */
import { pathToFileURL } from 'node:url'
import { resolve } from 'node:path'
import { cpus, loadavg } from 'node:os'
import OpenAI from 'openai'
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
  'setAttribute other key': (s) => sdk.span('f', (h) => h.setAttribute('app.doc', s)),
  'span name': (s) => sdk.span(s, () => 1),
  'updateName': (s) => sdk.span('f', (h) => h.otelSpan.updateName(s)),
  'attribute key': (s) => sdk.span('f', (h) => h.setAttribute(s, 'v')),
  'array attribute (100k/MB)': (list) => sdk.span('f', (h) => h.setAttribute('app.list', list)),
  'stream (1,000-char chunks)': async (client) => {
    const stream = await client.chat.completions.create({ model: 'm', stream: true, messages: [{ role: 'user', content: 'go' }] })
    const before = heap()
    for await (const _ of stream) void _
    grown = heap() - before
  },
}

/** Not a string: what the case is given, made outside the timed call. */
const inputs = {
  'array attribute (100k/MB)': (mb) => Array.from({ length: mb * 100_000 }, (_, i) => i),
  'stream (1,000-char chunks)': (mb, s) => {
    const chunk = (delta, finish = null) => `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`
    let body = chunk({ role: 'assistant', content: '' })
    for (let i = 0; i < s.length; i += 1000) body += chunk({ content: s.slice(i, i + 1000) })
    body += `${chunk({}, 'stop')}data: [DONE]\n\n`
    const fetch = async () => new Response(body, { headers: { 'content-type': 'text/event-stream' } })
    return sdk.wrapOpenAI(new OpenAI({ apiKey: 'k', baseURL: 'http://in-process/v1', maxRetries: 0, fetch }))
  },
}
let grown
const heap = () => {
  globalThis.gc?.()
  return process.memoryUsage().heapUsed
}
console.log(`node bench/sdk/big-values.mjs ${process.argv.slice(2).join(' ')}\nnproc ${cpus().length} (${cpus()[0]?.model}), node ${process.version}, load ${loadavg().map((l) => l.toFixed(2)).join(' ')}`)
for (const [name, run] of Object.entries(cases)) {
  if (only && !name.includes(only)) continue
  for (const mb of sizes) {
    const s = text(mb * 1_000_000)
    const input = inputs[name]?.(mb, s) ?? s
    grown = undefined
    const c0 = process.cpuUsage()
    await run(input)
    const call = process.cpuUsage(c0)
    const c1 = process.cpuUsage()
    await sdk.flush(1)
    const exp = process.cpuUsage(c1)
    const heapNote = grown === undefined ? '' : `  heap while streaming +${(grown / 1048576).toFixed(1)} MiB`
    console.log(`${name.padEnd(26)} ${String(mb).padStart(3)} MB  call ${ms(call).padStart(8)} ms  encode+flush ${ms(exp).padStart(8)} ms${heapNote}`)
  }
}
await sdk.shutdown()
