/**
 * A tight loop of chat.completions.create against an in-process fetch, CPU
 * profiled around the loop only (not start-up, not shutdown), one side per
 * process. The exporter is deferred, as in run.ts's "call path only" phase.
 *
 *   cd bench && node --conditions=@spanlens/source --import tsx sdk/profile.ts wrapped 30000 /tmp/wrapped.cpuprofile
 *   node sdk/cpuprofile-summary.mjs /tmp/wrapped.cpuprofile 40 30000
 *   (PROFILE_HTTP=1 for real HTTP to a server in a child process)
 *
 * Modes: `bare` (client without the wrapper, SDK initialised and one wrapped
 * call made, so AsyncLocalStorage's promise hooks are on as in a real app) or `wrapped`.
 */
import { writeFileSync } from 'node:fs'
import { Session } from 'node:inspector/promises'
import OpenAI from 'openai'
import { init, wrapOpenAI } from '@spanlens/sdk'
import { inProcessFetch, PARAMS, settle, startLlmProcess } from './fixture.js'


const mode = process.argv[2] ?? 'wrapped'
const n = Number(process.argv[3] ?? 40_000)

init({ endpoint: 'http://127.0.0.1:1', flushOnExit: false, env: {}, flushIntervalMs: 3_600_000, maxBatchSize: 100_000, maxQueueSize: 1_000 })
// PROFILE_HTTP=1: real HTTP to a server in a child process, yielding once between calls as run.ts does.
const server = process.env.PROFILE_HTTP ? await startLlmProcess() : undefined
const base = server
  ? new OpenAI({ apiKey: 'sk', baseURL: `${server.url}/v1`, maxRetries: 0 })
  : new OpenAI({ apiKey: 'sk', baseURL: 'http://x/v1', maxRetries: 0, fetch: inProcessFetch })
const client = mode === 'bare' ? base : wrapOpenAI(base)
await wrapOpenAI(base).chat.completions.create(PARAMS)
for (let i = 0; i < 2000; i++) await client.chat.completions.create(PARAMS)
const out = process.argv[4]
const session = new Session()
if (out) {
  session.connect()
  await session.post('Profiler.enable')
  await session.post('Profiler.setSamplingInterval', { interval: 100 })
  await session.post('Profiler.start')
}
const t0 = process.hrtime.bigint()
for (let i = 0; i < n; i++) {
  await client.chat.completions.create(PARAMS)
  if (server) await settle()
}
const us = Number(process.hrtime.bigint() - t0) / 1000 / n
if (out) {
  const { profile } = await session.post('Profiler.stop')
  writeFileSync(out, JSON.stringify(profile))
}
console.log(`${mode}: ${us.toFixed(1)} µs per call (mean of ${n})`)
// No shutdown: its final flush would wait on the closed endpoint.
server?.close()
process.exit(0)
