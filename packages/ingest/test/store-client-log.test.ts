import { createServer, type Server } from 'node:http'
import { Writable } from 'node:stream'
import pino from 'pino'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { loadConfig } from '../src/config/load.js'
import { createStore } from '../src/store/index.js'

// An HTTP endpoint that answers /ping as ClickHouse does (without a login) and every query
// the way ClickHouse answers a refused one (this file is about where the client's log lines
// go, not about ClickHouse).
let refusing: Server
let url: string
beforeAll(async () => {
  refusing = createServer((req, res) => {
    req.resume()
    if (req.url?.startsWith('/ping')) return void res.writeHead(200).end('Ok.\n')
    res.writeHead(500, { 'X-ClickHouse-Exception-Code': '497' }).end('Code: 497. DB::Exception: default: Not enough privileges. (ACCESS_DENIED)\n')
  })
  await new Promise<void>((resolve) => refusing.listen(0, '127.0.0.1', resolve))
  url = `http://127.0.0.1:${(refusing.address() as { port: number }).port}`
})
afterAll(() => new Promise<void>((resolve) => refusing.close(() => resolve())))

// @clickhouse/client's default logger wrote every failed request to stderr, as
// multi-line text, whatever SPANLENS_LOG_LEVEL said (even `silent`).
async function failToConnect(logger?: pino.Logger): Promise<string> {
  const config = loadConfig({ env: { SPANLENS_CLICKHOUSE_URL: url } })
  // The client's default logger writes with console.error/warn.
  const written: string[] = []
  const spies = (['error', 'warn', 'info', 'log', 'debug', 'trace'] as const).map((m) => vi.spyOn(console, m).mockImplementation((...a: unknown[]) => void written.push(a.map(String).join(' '))))
  const write = process.stderr.write.bind(process.stderr)
  process.stderr.write = ((chunk: string | Uint8Array) => {
    written.push(String(chunk))
    return true
  }) as typeof process.stderr.write
  try {
    // An answered ACCESS_DENIED is a refusal, not an unreachable store (refusal.ts).
    await expect(createStore(config.store, logger ? { logger } : {})).rejects.toMatchObject({ code: 'SPANLENS_STORE_REFUSED' })
  } finally {
    process.stderr.write = write
    for (const s of spies) s.mockRestore()
  }
  return written.join('')
}

describe("the ClickHouse client's own log lines", () => {
  it('never reach the console or stderr: without a logger the client is silent', async () => {
    expect(await failToConnect()).not.toContain('@clickhouse/client')
  })

  it('go through the server\'s pino logger, as JSON at debug (the caller logs the error itself)', async () => {
    const lines: Array<Record<string, unknown>> = []
    const sink = new Writable({
      write(chunk, _enc, done) {
        lines.push(JSON.parse(String(chunk)) as Record<string, unknown>)
        done()
      },
    })
    expect(await failToConnect(pino({ level: 'debug' }, sink))).toBe('')
    expect(lines.some((l) => l.component === 'clickhouse-client' && l.level === 20 && typeof l.err === 'object')).toBe(true)
    lines.length = 0
    await failToConnect(pino({ level: 'info' }, sink))
    expect(lines).toEqual([])
  })

  it('keep a failed ping at debug: its caller says what an unreachable ClickHouse means', async () => {
    const lines: Array<Record<string, unknown>> = []
    const sink = new Writable({
      write(chunk, _enc, done) {
        lines.push(JSON.parse(String(chunk)) as Record<string, unknown>)
        done()
      },
    })
    const closed = createServer()
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve))
    const port = (closed.address() as { port: number }).port
    await new Promise<void>((resolve) => closed.close(() => resolve()))
    const config = loadConfig({ env: { SPANLENS_CLICKHOUSE_URL: `http://127.0.0.1:${port}` } })
    await expect(createStore(config.store, { logger: pino({ level: 'debug' }, sink) })).rejects.toMatchObject({ code: 'SPANLENS_STORE_UNREACHABLE' })
    const client = lines.filter((l) => l.component === 'clickhouse-client')
    expect({ any: client.length > 0, warnings: client.filter((l) => (l.level as number) >= 40) }).toEqual({ any: true, warnings: [] })
  })
})
