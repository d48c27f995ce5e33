/**
 * One variant of the app-cost benchmark (app.ts), alone in its process: the
 * bare `openai` client, or the same client traced by Spanlens or by a peer
 * instrumentation, exporting to the same Spanlens server. Plain JavaScript,
 * run by plain `node` as an app would be (no tsx loader in the process).
 *
 * The coordinator sends the requests to make (fixture.ts), then turns over IPC;
 * a turn is `calls` awaited calls of one scenario, back to back as an app's
 * request handler makes them, then a flush of whatever the variant queued for
 * export. It answers with each call's wall time and the process's CPU time
 * (all threads) over the turn, flush included.
 *
 *   node --expose-gc sdk/worker.mjs <bare|bare-<tag>|bare+http|spanlens[-<tag>][+nowrap|+noexport|+noinit]|otel|openinference> <llm-url> <spanlens-url> <api-key> [profile.cpuprofile]
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { Session } from 'node:inspector/promises'
import { createRequire } from 'node:module'

const [variant, llmUrl, spanlensUrl, apiKey, profileOut] = process.argv.slice(2)
const require = createRequire(import.meta.url)
// Every variant loads the client the same way (CommonJS), the way the peers' module patching expects it.
const openaiModule = require('openai')
const make = () => new openaiModule.OpenAI({ apiKey: 'sk-bench', baseURL: `${llmUrl}/v1`, maxRetries: 0 })

/** A peer's OpenTelemetry set-up as its docs show it: a provider, a batch processor, OTLP/HTTP protobuf to the same server. */
async function otelProvider(serviceName) {
  const { context, trace } = await import('@opentelemetry/api')
  const { AsyncLocalStorageContextManager } = await import('@opentelemetry/context-async-hooks')
  const { BatchSpanProcessor, TracerProvider } = await import('@opentelemetry/sdk-trace')
  const { resourceFromAttributes } = await import('@opentelemetry/resources')
  const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-proto')
  const exporter = new OTLPTraceExporter({ url: `${spanlensUrl}/v1/traces`, headers: { authorization: `Bearer ${apiKey}` } })
  const provider = new TracerProvider({ resource: resourceFromAttributes({ 'service.name': serviceName }), spanProcessors: [new BatchSpanProcessor({ exporter })] })
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())
  trace.setGlobalTracerProvider(provider)
  return provider
}

/** { client, flush: sends every span queued so far, exported?: spans the variant says it exported } */
async function setup() {
  // `bare-<tag>`: a second bare process, the control that shows the run's own noise between two identical variants.
  if (variant === 'bare' || variant.startsWith('bare-')) return { client: make(), flush: async () => undefined }
  if (variant === 'bare+idle') {
    // The bare client, and a turn that ends with 3 ms of idle event loop, as a traced turn's flush waits for its
    // export's reply: V8 runs deferred GC work in idle time, and this puts it inside the measured turn too.
    // It shows that effect against `bare` only with `--settle-ms 0` (the default idle gives every turn one).
    return { client: make(), flush: () => new Promise((resolve) => setTimeout(resolve, 3)) }
  }
  if (variant === 'bare+http') {
    // The bare client, plus one node:http POST of ~200 KB per turn (what the SDK's export sends per 100 calls) to
    // a path the server answers with 404: the cost of the app's process merely using node:http beside fetch.
    const { request: post, Agent } = await import('node:http')
    const agent = new Agent({ keepAlive: true })
    const body = Buffer.alloc(200_000, 120)
    const flush = () =>
      new Promise((resolve) => {
        const req = post(`${spanlensUrl}/bench-nothing`, { method: 'POST', agent, headers: { 'content-length': body.length } }, (res) => {
          res.resume()
          res.on('end', resolve)
        })
        req.on('error', resolve)
        req.end(body)
      })
    return { client: make(), flush }
  }
  if (variant === 'spanlens' || variant.startsWith('spanlens-') || variant.startsWith('spanlens+')) {
    // The built package, as an app installs it (the coordinator builds it first). `spanlens-<tag>` loads
    // packages/sdk/dist-<tag>/index.js instead: another build, for a before/after in one run. For
    // bisecting, `+nowrap` initializes the SDK without wrapping the client, `+noexport` drops every span, and
    // `+noinit` wraps the client without init(), so every call passes straight through the hook: the floor of
    // the wrapping itself (the Proxy's gets, the hook, the SDK loaded).
    const [name, ...mods] = variant.split('+')
    const tag = name.slice('spanlens-'.length)
    const sdk = await import(tag ? new URL(`../../packages/sdk/dist-${tag}/index.js`, import.meta.url).href : '@spanlens/sdk')
    if (!mods.includes('noinit')) sdk.init({ endpoint: spanlensUrl, apiKey, serviceName: 'bench-spanlens', flushOnExit: false, env: {}, spanFilter: mods.includes('noexport') ? () => false : undefined })
    return { client: mods.includes('nowrap') ? make() : sdk.wrapOpenAI(make()), flush: () => sdk.flush(30_000), exported: () => sdk.getStats().spansExported }
  }
  if (variant === 'otel') {
    const provider = await otelProvider('bench-otel')
    const { OpenAIInstrumentation } = await import('@opentelemetry/instrumentation-openai')
    // Content capture on, as an app that wants prompts sets it (it goes to log events, not spans: see RESULTS.md).
    const instrumentation = new OpenAIInstrumentation({ captureMessageContent: true })
    instrumentation.setTracerProvider(provider)
    // As registerInstrumentations() does: its metric instruments are made here (the global no-op meter).
    instrumentation.setMeterProvider((await import('@opentelemetry/api')).metrics.getMeterProvider())
    // Its module definition declares openai `>=4.19.0 <7`, and the bench runs 7.x: apply its patch to the
    // loaded module directly (chat.completions.create keeps its shape in 7.x; the patch works as is).
    const [definition] = instrumentation.getModuleDefinitions()
    definition.patch(openaiModule)
    return { client: make(), flush: () => provider.forceFlush() }
  }
  if (variant === 'openinference') {
    const provider = await otelProvider('bench-openinference')
    const { OpenAIInstrumentation } = await import('@arizeai/openinference-instrumentation-openai')
    const instrumentation = new OpenAIInstrumentation({ tracerProvider: provider })
    instrumentation.manuallyInstrument(openaiModule)
    return { client: make(), flush: () => provider.forceFlush() }
  }
  throw new Error(`unknown variant ${variant}`)
}

const s = await setup()
let requests

/** A fresh request object per call, as an app builds one (the wrappers may keep references to it). */
const fresh = (t) => ({ ...t, messages: t.messages.map((m) => ({ ...m })) })

async function call(scenario) {
  const params = fresh(requests[scenario])
  if (scenario === 'stream') {
    const stream = await s.client.chat.completions.create(params)
    let text = ''
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? ''
    if (text.length < 500) throw new Error('short stream')
  } else {
    const r = await s.client.chat.completions.create(params)
    if (r.choices.length !== 1) throw new Error('bad reply')
  }
}

const cpuNow = () => {
  const c = process.cpuUsage()
  return c.user + c.system
}
/**
 * On-CPU time of the main thread and of all other threads (V8's GC helpers, libuv's pool), µs, from
 * Linux's per-thread schedstat (ns): tells work on the app's thread from work beside it. Zero elsewhere.
 */
const threadsNow = () => {
  let main = 0
  let other = 0
  try {
    for (const tid of readdirSync('/proc/self/task')) {
      let ns
      try {
        ns = Number(readFileSync(`/proc/self/task/${tid}/schedstat`, 'utf8').split(' ')[0])
      } catch {
        continue // the thread ended meanwhile
      }
      if (Number(tid) === process.pid) main += ns / 1000
      else other += ns / 1000
    }
  } catch {}
  return { main, other }
}
const gc = globalThis.gc ?? (() => {})
let session

process.on('message', (m) => {
  void (async () => {
    if (m.type === 'init') {
      requests = m.requests
      process.send({ type: 'init' })
    } else if (m.type === 'profile' && profileOut) {
      // After the warm-up: the profile holds the measured turns, not start-up.
      session = new Session()
      session.connect()
      await session.post('Profiler.enable')
      await session.post('Profiler.setSamplingInterval', { interval: 100 })
      await session.post('Profiler.start')
      process.send({ type: 'profile' })
    } else if (m.type === 'profile') {
      process.send({ type: 'profile' })
    } else if (m.type === 'turn') {
      const wall = new Array(m.calls)
      const t0 = threadsNow()
      const u0 = process.cpuUsage()
      const c0 = cpuNow()
      for (let i = 0; i < m.calls; i++) {
        const t = performance.now()
        await call(m.scenario)
        wall[i] = (performance.now() - t) * 1000
      }
      await s.flush()
      // Every variant's turn ends with the same idle event loop, inside the measured window. V8 runs deferred
      // work (GC tasks) when the loop is idle: a traced turn's flush waits for its export's reply and so
      // counted that work, while a bare turn's did not (it ran between turns, outside the window). A bare
      // turn ending with 3 ms idle measured +27 ± 11 µs CPU per plain call against plain bare turns.
      if (m.settleMs > 0) await new Promise((resolve) => setTimeout(resolve, m.settleMs))
      const cpu = cpuNow() - c0
      const u = process.cpuUsage(u0)
      const t1 = threadsNow()
      process.send({ type: 'turn', wall, cpu, user: u.user, system: u.system, main: t1.main - t0.main, other: t1.other - t0.other })
    } else if (m.type === 'heap') {
      if (session) {
        const { profile } = await session.post('Profiler.stop')
        writeFileSync(profileOut, JSON.stringify(profile))
      }
      await s.flush()
      for (let i = 0; i < 4; i++) {
        gc()
        await new Promise((r) => setImmediate(r))
      }
      const mem = process.memoryUsage()
      process.send({ type: 'heap', heapUsed: mem.heapUsed, rss: mem.rss, exported: s.exported?.() })
    } else {
      process.exit(0)
    }
  })().catch((err) => {
    console.error(`worker ${variant}:`, err)
    process.exit(1)
  })
})
process.send({ type: 'ready' })
