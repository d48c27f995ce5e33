/**
 * Where the wrapper's per-call cost goes: the same in-process call through
 * wrappers that each add one layer of what wrapOpenAI does, interleaved round
 * by round, median per variant. Uses the SDK's internals from source.
 *
 *   cd bench && [BISECT_HTTP=1] node --conditions=@spanlens/source --import tsx sdk/bisect.ts [rounds=30] [perRound=300]
 */
// bench has no direct dependency on the OTel API; use the SDK's copy.
import { context } from '../../packages/sdk/node_modules/@opentelemetry/api/build/esm/index.js'
import OpenAI from 'openai'
import { init, wrapOpenAI } from '@spanlens/sdk'
import { wrapClient } from '../../packages/sdk/src/instrument/proxy.js'
import { observeApiPromise } from '../../packages/sdk/src/instrument/stainless.js'
import { traced } from '../../packages/sdk/src/instrument/traced.js'
import { openaiChatInput, openaiChatOutput } from '../../packages/sdk/src/content.js'
import { inProcessFetch, PARAMS, settle, startLlmProcess } from './fixture.js'

// BISECT_HTTP=1: real HTTP to a server in a child process (the setting) instead of the in-process fetch.
const server = process.env.BISECT_HTTP ? await startLlmProcess() : undefined
const make = () =>
  server
    ? new OpenAI({ apiKey: 'sk', baseURL: `${server.url}/v1`, maxRetries: 0 })
    : new OpenAI({ apiKey: 'sk', baseURL: 'http://x/v1', maxRetries: 0, fetch: inProcessFetch })

const rounds = Number(process.argv[2] ?? 30)
const perRound = Number(process.argv[3] ?? 300)

// BISECT_DROP=1: a spanFilter drops every span, so none is retained for export (isolates the GC cost of retention).
init({
  endpoint: 'http://127.0.0.1:1',
  flushOnExit: false,
  env: {},
  flushIntervalMs: 3_600_000,
  maxBatchSize: 100_000,
  maxQueueSize: Number(process.env.BISECT_QUEUE ?? 2048),
  spanFilter: process.env.BISECT_DROP ? () => false : undefined,
})

const noop = { provider: 'openai', value() {}, error() {}, unparsed() {} }
const variants: [string, OpenAI][] = [
  ['bare', make()],
  ['proxy, pass-through hook', wrapClient(make(), { 'chat.completions.create': (fn, self, args) => fn.apply(self, args) })],
  ['+ observeApiPromise (no-op hooks)', wrapClient(make(), { 'chat.completions.create': (fn, self, args) => observeApiPromise(fn.apply(self, args), noop) })],
  [
    '+ context.with(active)',
    wrapClient(make(), {
      'chat.completions.create': (fn, self, args) => observeApiPromise(context.with(context.active(), () => fn.apply(self, args)), noop),
    }),
  ],
  ['traced(): empty span', wrapClient(make(), { 'chat.completions.create': traced({ provider: 'openai', describe: (c) => c.begin('chat', 'llm', {}), keep: (v) => v, record: () => {} }) })],
  [
    '+ request/response attributes',
    wrapClient(make(), {
      'chat.completions.create': traced({
        provider: 'openai',
        keep: (v) => v,
        describe: (c, p) =>
          c.begin('chat gpt-4o-mini', 'llm', { 'gen_ai.operation.name': 'chat', 'gen_ai.provider.name': 'openai', 'gen_ai.request.model': String(p.model), 'gen_ai.request.temperature': 0.2 }),
        record: (c, v) => c.set({ 'gen_ai.response.model': String(v.model), 'gen_ai.response.id': String(v.id), 'gen_ai.usage.input_tokens': 12, 'gen_ai.usage.output_tokens': 7, 'gen_ai.response.finish_reasons': ['stop'] }),
      }),
    }),
  ],
  [
    '+ content (input, output)',
    wrapClient(make(), {
      'chat.completions.create': traced({
        provider: 'openai',
        keep: (v) => v,
        describe: (c, p) => {
          c.begin('chat gpt-4o-mini', 'llm', { 'gen_ai.operation.name': 'chat', 'gen_ai.provider.name': 'openai', 'gen_ai.request.model': String(p.model), 'gen_ai.request.temperature': 0.2 })
          c.messages('gen_ai.input.messages', openaiChatInput(p.messages))
        },
        record: (c, v) => {
          c.set({ 'gen_ai.response.model': String(v.model), 'gen_ai.response.id': String(v.id), 'gen_ai.usage.input_tokens': 12, 'gen_ai.usage.output_tokens': 7, 'gen_ai.response.finish_reasons': ['stop'] })
          c.messages('gen_ai.output.messages', openaiChatOutput(v.choices))
        },
      }),
    }),
  ],
  ['wrapOpenAI', wrapOpenAI(make())],
]

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number
const samples = variants.map(() => [] as number[])
const paired = variants.map(() => [] as number[])
for (const [, c] of variants) for (let i = 0; i < 1000; i++) await c.chat.completions.create(PARAMS)
// Variants alternate call by call (in a rotating order), so load drift on this shared machine
// hits all of them alike; `paired` is each call minus the bare call of the same turn.
const times = new Array<number>(variants.length)
for (let r = 0; r < rounds; r++) {
  for (let i = 0; i < perRound; i++) {
    for (let k = 0; k < variants.length; k++) {
      const v = (k + i + r) % variants.length
      const t = process.hrtime.bigint()
      await variants[v]![1].chat.completions.create(PARAMS)
      times[v] = Number(process.hrtime.bigint() - t) / 1000
      // What a wrapper does after the call (building the span) runs here, in no variant's time.
      await settle()
    }
    for (let v = 0; v < variants.length; v++) {
      samples[v]!.push(times[v]!)
      paired[v]!.push(times[v]! - times[0]!)
    }
  }
}
const base = median(samples[0]!)
console.log(`${'variant'.padEnd(36)} median µs  added  median of paired differences`)
for (let v = 0; v < variants.length; v++) {
  const m = median(samples[v]!)
  console.log(`${variants[v]![0].padEnd(36)} ${m.toFixed(1).padStart(9)} ${(m - base).toFixed(1).padStart(6)} ${median(paired[v]!).toFixed(1).padStart(8)}`)
}
server?.close()
process.exit(0)
