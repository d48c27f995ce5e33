import { execFile } from 'node:child_process'
import { createServer, type Server } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startLlmServer, type LlmServer } from '@spanlens/fake-llm'
import type { SdkStats } from '../src/index.js'
import { decodeOtlp } from './helpers/receiver.js'

const SDK = fileURLToPath(new URL('../src/index.ts', import.meta.url))
const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url))

/**
 * An app that makes one traced LLM call inside an observed function (two spans; the LLM span
 * waits in its 20 ms batch when the script ends), optionally awaits flush(ms), then ends. It
 * says how long the process lived after its last line, and the SDK's stats as it exited.
 */
const APP = `
  import OpenAI from 'openai'
  const { init, wrapOpenAI, observe, flush, getStats } = await import(${JSON.stringify(SDK)})
  const [endpoint, llm, options, flushMs] = process.argv.slice(1)
  init({ endpoint, apiKey: 'k-0123456789', serviceName: 'exit-test', env: {}, ...JSON.parse(options) })
  const openai = wrapOpenAI(new OpenAI({ apiKey: 'sk-test', baseURL: llm + '/v1', maxRetries: 0 }))
  const answer = observe('answer', async () => (await openai.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] })).choices[0].message.content)
  await answer()
  if (flushMs) console.log(JSON.stringify({ flushed: await flush(Number(flushMs)) }))
  const done = Date.now()
  process.on('exit', () => console.log(JSON.stringify({ livedMs: Date.now() - done, stats: getStats() })))
`

interface Run {
  flushed?: boolean
  livedMs: number
  stats: SdkStats & { queued: number }
  /** What the SDK said through its default logger (stderr), without the prefix. */
  warnings: string[]
}

function runApp(endpoint: string, options: object = {}, flushMs = ''): Promise<Run> {
  return new Promise((resolve, reject) =>
    execFile(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', APP, endpoint, llm.url, JSON.stringify(options), flushMs],
      { cwd: PACKAGE_DIR, timeout: 60_000 },
      (err, stdout, stderr) => {
        if (err) return reject(new Error(`${err.message}\n${stderr}`))
        const lines = stdout.trim().split('\n').map((l) => JSON.parse(l) as Partial<Run>)
        const warnings = stderr.split('\n').flatMap((l) => (l.startsWith('[spanlens] ') ? [l.slice('[spanlens] '.length)] : []))
        resolve(Object.assign({ warnings }, ...lines) as Run)
      },
    ),
  )
}

async function server(onRequest: (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse, body: Buffer) => void): Promise<{ url: string; server: Server }> {
  const s = createServer((req, res) => {
    const parts: Buffer[] = []
    req.on('data', (d: Buffer) => parts.push(d))
    req.on('end', () => onRequest(req, res, Buffer.concat(parts)))
  })
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()))
  servers.push(s)
  return { url: `http://127.0.0.1:${(s.address() as AddressInfo).port}`, server: s }
}

let llm: LlmServer
const servers: Server[] = []
beforeAll(async () => {
  llm = await startLlmServer()
})
afterAll(async () => {
  for (const s of servers) {
    s.closeAllConnections()
    s.close()
  }
  await llm.close()
})

/** Every span that ended was either accepted or counted as dropped. */
function addsUp(stats: Run['stats']): void {
  expect(stats.spansQueued).toBe(2)
  expect(stats.queued).toBe(0)
  expect(stats.spansExported + stats.spansDropped).toBe(stats.spansQueued)
}

// Bounds generous for a loaded 2-core CI runner; each process lived 10-20 s after its last line before.
describe.concurrent('a finished app exits within the exit flush budget (5 s) whatever the endpoint does', () => {
  it('endpoint that accepts the connection and never answers', async () => {
    const { url } = await server(() => {})
    const run = await runApp(url)
    expect(run.livedMs).toBeLessThan(8000)
    expect(run.stats.spansExported).toBe(0)
    addsUp(run.stats)
    expect(run.warnings).toEqual([`export to ${url}/v1/traces stopped with 2 spans unsent (its request had no reply yet); dropped them (2 since init, see getStats())`])
  })

  it('endpoint that refuses connections', async () => {
    const { url, server: s } = await server(() => {})
    await new Promise((r) => s.close(r))
    const run = await runApp(url)
    expect(run.livedMs).toBeLessThan(8000)
    addsUp(run.stats)
    const refused = `Error: connect ECONNREFUSED ${new URL(url).host}`
    expect(run.warnings).toEqual([
      `export to ${url}/v1/traces got no answer (${refused}); retrying up to 5 times, its 2 spans kept meanwhile`,
      `export to ${url}/v1/traces stopped with 2 spans unsent (the last attempt failed: ${refused}); dropped them (2 since init, see getStats())`,
    ])
  })

  it('endpoint that closes every connection without a reply', async () => {
    const { url } = await server((req) => (req.socket as Socket).destroy())
    const run = await runApp(url)
    expect(run.livedMs).toBeLessThan(8000)
    addsUp(run.stats)
    // A connection closed by a server that is there is not said at the first attempt (the retry may pass), but the loss is.
    expect(run.warnings).toEqual([expect.stringMatching(/^export to .* stopped with 2 spans unsent \(the last attempt failed: .+\); dropped them/)])
  })

  it('flushOnExit: false: once the app stops waiting (flush(500) ran out), nothing holds it', async () => {
    const { url } = await server(() => {})
    const run = await runApp(url, { flushOnExit: false }, '500')
    expect(run.flushed).toBe(false)
    expect(run.livedMs).toBeLessThan(3000)
    addsUp(run.stats)
    expect(run.warnings).toEqual([`export to ${url}/v1/traces stopped with 2 spans unsent (its request had no reply yet); dropped them (2 since init, see getStats())`])
  })

  it('flushOnExit: false, and no flush: it says the spans it had not sent as it exits', async () => {
    const received: unknown[] = []
    const { url } = await server((_req, res, body) => {
      received.push(...decodeOtlp(body))
      res.writeHead(200).end()
    })
    // No timer flush before it exits either, however slowly the machine runs it.
    const run = await runApp(url, { flushOnExit: false, flushIntervalMs: 60_000 })
    addsUp(run.stats)
    expect(run.stats.spansDropped).toBe(2)
    expect(received).toEqual([])
    expect(run.warnings).toEqual([`export to ${url}/v1/traces stopped with 2 spans unsent (not sent yet); dropped them (2 since init, see getStats())`])
  })

  it('a live endpoint still gets every span at exit', async () => {
    const received: string[] = []
    const { url } = await server((_req, res, body) => {
      received.push(...decodeOtlp(body).map((s) => s.name))
      res.writeHead(200).end()
    })
    const run = await runApp(url)
    expect(received.sort()).toEqual(['answer', 'chat gpt-4o'])
    expect(run.stats.spansExported).toBe(2)
    addsUp(run.stats)
    expect(run.warnings).toEqual([])
  })
})

/**
 * An app that scores once and ends, waiting for the score in the way `wait` names:
 * `none`, `await`, `shutdown`, `flush`, or `sigterm` (the signal that stops a service).
 */
const SCORING_APP = `
  const { init, score, shutdown, flush } = await import(${JSON.stringify(SDK)})
  const [endpoint, wait, options] = process.argv.slice(1)
  init({ endpoint, apiKey: 'k-0123456789', env: {}, ...JSON.parse(options) })
  const scored = score({ traceId: 'a'.repeat(32), name: wait, value: 1 })
  if (wait === 'await') console.log(JSON.stringify({ ok: await scored }))
  if (wait === 'shutdown') await shutdown()
  if (wait === 'flush') console.log(JSON.stringify({ flushed: await flush() }))
  if (wait === 'sigterm') process.kill(process.pid, 'SIGTERM')
  const done = Date.now()
  process.on('exit', () => console.log(JSON.stringify({ livedMs: Date.now() - done })))
`

function runScoringApp(endpoint: string, wait: string, options: object = {}): Promise<{ ok?: boolean; flushed?: boolean; livedMs?: number; stderr: string }> {
  return new Promise((resolve, reject) =>
    execFile(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', SCORING_APP, endpoint, wait, JSON.stringify(options)],
      { cwd: PACKAGE_DIR, timeout: 20_000 },
      (err, stdout, stderr) => {
        // SIGTERM re-raised ends the process by the signal, as Node's default would.
        if (err && err.signal !== 'SIGTERM') return reject(new Error(`${err.message}\n${stderr}`))
        const lines = stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as object)
        resolve(Object.assign({ stderr }, ...lines))
      },
    ),
  )
}

describe.concurrent('score(): a finished app is not held by a score it did not wait for; one it waits for is sent', () => {
  const REPLY_MS = 1000
  /** A scores endpoint that answers each request REPLY_MS after it arrived; `names` are the scores it received. */
  async function slowScores(): Promise<{ url: string; names: string[] }> {
    const names: string[] = []
    const { url } = await server((_req, res, body) => {
      names.push((JSON.parse(body.toString()) as { name: string }).name)
      setTimeout(() => res.writeHead(200).end('{}'), REPLY_MS)
    })
    return { url, names }
  }

  it('not awaited, with the exit flush on and no spans to send: the process exits at once, and says the score may be lost', async () => {
    const { url } = await slowScores()
    const run = await runScoringApp(url, 'none')
    expect(run.livedMs).toBeLessThan(REPLY_MS / 2)
    expect(run.stderr).toMatch(/1 score\(\) calls not awaited had no reply yet/)
  })

  it('awaited, with nothing else holding the process: it waits for the reply', async () => {
    const { url, names } = await slowScores()
    const run = await runScoringApp(url, 'await', { flushOnExit: false })
    expect(run.ok).toBe(true)
    expect(names).toEqual(['await'])
  })

  it('in flight at shutdown(), flush() or SIGTERM: sent before the process ends', async () => {
    const { url, names } = await slowScores()
    const [byShutdown, byFlush] = await Promise.all([runScoringApp(url, 'shutdown'), runScoringApp(url, 'flush'), runScoringApp(url, 'sigterm')])
    expect(byFlush.flushed).toBe(true)
    expect(byShutdown.stderr).toBe('')
    expect(names.sort()).toEqual(['flush', 'shutdown', 'sigterm'])
  })
})

describe.concurrent('a script that awaits observe() instead of calling what it returns', () => {
  const MISTAKE = `
    const { init, observe } = await import(${JSON.stringify(SDK)})
    init({ endpoint: process.argv[1], env: {} })
    await observe('answer', async () => 'hi')
    if (process.argv[2] === 'sigterm') process.kill(process.pid, 'SIGTERM')
  `
  const run = (how: string) =>
    new Promise<string>((resolve, reject) =>
      execFile(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', MISTAKE, llm.url, how], { cwd: PACKAGE_DIR, timeout: 20_000 }, (err, _out, stderr) =>
        err && err.signal !== 'SIGTERM' ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stderr),
      ),
    )

  it('is told so as it exits, or as SIGTERM stops it', async () => {
    const [exited, stopped] = await Promise.all([run('exit'), run('sigterm')])
    for (const stderr of [exited, stopped]) expect(stderr).toMatch(/\[spanlens\] observe\(\) returned a traced function that was awaited .* never called: 'answer'/)
  })
})
