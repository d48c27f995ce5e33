/**
 * The SDK's own CPU per call, with the client's work taken out: each build wraps a stand-in client whose
 * `chat.completions.create` returns a Stainless-shaped promise (`responsePromise`, `parseResponse`, as
 * openai's APIPromise) over the plain reply (fixture.ts), parsed fresh per call, so nearly all of a wrapped
 * block's CPU is the SDK's: the call path, the deferred recording and encoding, and the export to a local
 * sink (a flush per block). Blocks of 50 calls, each followed by settle() as app.ts's calls, alternated
 * with the stand-in's own blocks in rotating order; per build it prints the median over rounds of its block
 * minus the same round's stand-in block. The real client costs ~1 ms of CPU per call and moves by more
 * than the SDK's whole cost on a loaded host (ab.ts); without it, three runs of one build agree within
 * ~2 µs at load ~5, enough to see a cut of a few µs.
 *
 * With `--lines`, each sentence of the prompts and the answer is on a line of its own: their JSON then holds
 * `\n` escapes, which redaction decodes (redact-escaped.ts), where the plain payload's only escapes are `\"`.
 *
 *   cd bench && node --import tsx sdk/sdk-only.ts ../packages/sdk/dist-a/index.js ../packages/sdk/dist-b/index.js [--rounds 200] [--lines]
 */
import { cpus, loadavg } from 'node:os'
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { COMPLETION as PLAIN_COMPLETION, request as fixtureRequest, settle, startSink } from './fixture.js'

type Sdk = typeof import('@spanlens/sdk')
const args = process.argv.slice(2)
const roundsAt = args.indexOf('--rounds')
const ROUNDS = roundsAt >= 0 ? Number(args[roundsAt + 1]) : 200
const builds = args.filter((a, i) => !a.startsWith('--') && (roundsAt < 0 || i !== roundsAt + 1))
const LINES = args.includes('--lines')

const onLines = (s: string) => (LINES ? s.replaceAll('. ', '.\n') : s)
const COMPLETION = LINES
  ? (() => {
      const c = JSON.parse(PLAIN_COMPLETION) as { choices: { message: { content: string } }[] }
      for (const choice of c.choices) choice.message.content = onLines(choice.message.content)
      return JSON.stringify(c)
    })()
  : PLAIN_COMPLETION
const request = (scenario: 'plain') => {
  const r = fixtureRequest(scenario) as { messages: { content: string }[] }
  if (LINES) for (const m of r.messages) m.content = onLines(m.content)
  return r
}

const sink = await startSink()
const sinkUrl = sink.url

interface StandIn {
  responsePromise: Promise<string>
  parseResponse: (body: string) => Promise<unknown>
  then: (ok: (v: unknown) => unknown, fail: (e: unknown) => unknown) => Promise<unknown>
}
/** What the wrapper reads of an openai client: chat.completions.create returning an APIPromise-like. */
const standInClient = () => ({
  chat: {
    completions: {
      create(_params: unknown): StandIn {
        const p: StandIn = {
          responsePromise: Promise.resolve(COMPLETION),
          parseResponse: (body) => Promise.resolve(JSON.parse(body)),
          // As APIPromise: awaiting it parses the response through the (possibly wrapped) parseResponse.
          then: (ok, fail) => p.responsePromise.then((body) => p.parseResponse(body)).then(ok, fail),
        }
        return p
      },
    },
  },
})

interface Side {
  label: string
  client: ReturnType<typeof standInClient>
  flush: () => Promise<unknown>
  blocks: number[]
}
const sides: Side[] = [{ label: 'stand-in', client: standInClient(), flush: async () => undefined, blocks: [] }]
for (const b of builds) {
  const sdk = (await import(pathToFileURL(resolve(b)).href)) as Sdk
  sdk.init({ endpoint: sinkUrl, apiKey: 'bench', flushOnExit: false, env: {}, flushIntervalMs: 3_600_000, maxBatchSize: 1000 })
  sides.push({ label: b, client: sdk.wrapOpenAI(standInClient()), flush: () => sdk.flush(10_000), blocks: [] })
}

const cpuNow = () => {
  const c = process.cpuUsage()
  return c.user + c.system
}
async function block(side: Side, record: boolean): Promise<void> {
  const c0 = cpuNow()
  for (let i = 0; i < 50; i++) {
    const r = (await side.client.chat.completions.create(request('plain'))) as { choices?: unknown }
    if (!r.choices) throw new Error('bad reply')
    await settle()
  }
  await side.flush()
  if (record) side.blocks.push(cpuNow() - c0)
}

console.log(`command: cd bench && node --import tsx sdk/sdk-only.ts ${builds.join(' ')} --rounds ${ROUNDS}${LINES ? ' --lines' : ''}`)
console.log(`machine: nproc ${cpus().length} (${cpus()[0]?.model}), node ${process.version}, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`)
for (let i = 0; i < 20; i++) for (const s of sides) await block(s, false)
for (let i = 0; i < ROUNDS; i++) for (let k = 0; k < sides.length; k++) await block(sides[(i + k) % sides.length] as Side, true)
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number
const standIn = sides[0] as Side
console.log(`stand-in client alone: ${(median(standIn.blocks) / 50).toFixed(1)} µs per call (median of ${ROUNDS} rounds)`)
for (const s of sides.slice(1)) {
  const added = median(s.blocks.map((c, i) => c - (standIn.blocks[i] as number))) / 50
  console.log(`${s.label}: the SDK's CPU ${added.toFixed(1)} µs per plain call, export included (median of ${ROUNDS} rounds of 50 calls)`)
}
sink.close()
process.exit(0)
