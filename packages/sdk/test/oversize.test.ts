import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { buildServer, loadConfig } from '@spanlens/ingest'
import { flush, getStats, init, shutdown, span } from '../src/index.js'
import { captureLogger } from './helpers/logger.js'

// Own file: one embedded ClickHouse data directory per process (vitest forks per file).
// The server takes bodies of 3 MiB: a span of four 1 MB values is too large for it; one with a value and an event
// attribute of 3 MB each, which the SDK cuts to 1 MiB, is not.
const KEY = 'acme-key-0123456789'
const BODY_LIMIT = 3 * 1024 * 1024
let app: Awaited<ReturnType<typeof buildServer>>
let dir: string

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'spanlens-sdk-oversize-'))
  app = await buildServer(
    loadConfig({ env: { SPANLENS_DATA_DIR: dir, SPANLENS_PORT: '0', SPANLENS_API_KEYS: `acme:${KEY}`, SPANLENS_LOG_LEVEL: 'silent', SPANLENS_BODY_LIMIT_BYTES: String(BODY_LIMIT) } }),
  )
  await app.listen({ host: '127.0.0.1', port: 0 })
})

afterEach(async () => {
  await shutdown()
})

afterAll(async () => {
  await app?.close()
  rmSync(dir, { recursive: true, force: true })
})

function start(logger: ReturnType<typeof captureLogger>): void {
  const addr = app.server.address() as { port: number }
  // compression none: the body the server measures is the request as encoded.
  init({ endpoint: `http://127.0.0.1:${addr.port}`, apiKey: KEY, compression: 'none', flushOnExit: false, env: {}, logger })
}

async function stored(run: string): Promise<{ name: string; attributes: Record<string, string> }[]> {
  await app.spanlens.flush()
  const result = await app.spanlens.store.client.query({
    query: 'SELECT name, attributes FROM spans FINAL WHERE attributes[\'run\'] = {run:String} ORDER BY start_time',
    query_params: { run },
    format: 'JSONEachRow',
  })
  return (await result.json()) as { name: string; attributes: Record<string, string> }[]
}

const SDK_MARK = /…\[truncated \d+ chars\]$/

describe('values too large for the server', () => {
  it('stores names, keys and values over the SDK bounds cut with its marker, with every other span of their request', async () => {
    const logger = captureLogger()
    start(logger)
    const big = 'x'.repeat(3_000_000)
    for (let i = 0; i < 3; i++) span(`before-${i}`, (s) => s.setAttribute('run', 'bounds'))
    span(`name-${big}`, (s) => {
      s.setAttributes({ run: 'bounds', 'app.value': big, [`key-${big}`]: 'k', 'app.numbers': Array.from({ length: 100_000 }, (_, i) => i) })
      s.otelSpan.addEvent('event', { 'app.event': big })
    })
    span('renamed', (s) => {
      s.setAttribute('run', 'bounds')
      s.otelSpan.updateName(`renamed-${big}`)
    })
    for (let i = 0; i < 3; i++) span(`after-${i}`, (s) => s.setAttribute('run', 'bounds'))
    expect(await flush()).toBe(true)
    expect(getStats()).toMatchObject({ spansQueued: 8, spansExported: 8, spansDropped: 0, spansTooLarge: 0 })
    expect(logger.lines).toEqual([])

    const rows = await stored('bounds')
    expect(rows.map((r) => r.name.slice(0, 7))).toEqual(['before-', 'before-', 'before-', 'name-xx', 'renamed', 'after-0', 'after-1', 'after-2'])
    const bigRow = rows[3]!
    expect(bigRow.name).toHaveLength(1024)
    expect(bigRow.name).toMatch(SDK_MARK)
    expect(rows[4]!.name).toMatch(/^renamed-x+…\[truncated \d+ chars\]$/)
    const key = Object.keys(bigRow.attributes).find((k) => k.startsWith('key-'))!
    expect(key).toHaveLength(1024)
    expect(key).toMatch(SDK_MARK)
    // Cut by the SDK, not again by the server (which keeps 1 MiB and marks its own cut otherwise).
    expect(Buffer.byteLength(bigRow.attributes['app.value']!)).toBeLessThanOrEqual(1024 * 1024)
    expect(bigRow.attributes['app.value']).toMatch(SDK_MARK)
    const numbers = JSON.parse(bigRow.attributes['app.numbers']!) as unknown[]
    expect(numbers).toHaveLength(16_384)
    expect(numbers.at(-1)).toBe(`…[truncated ${100_000 - 16_383} items]`)
  })

  it('drops only a span the server refuses as too large even alone, counts it and says so once', async () => {
    const logger = captureLogger()
    start(logger)
    const mib = 'y'.repeat(1_000_000)
    for (let i = 0; i < 3; i++) span(`before-${i}`, (s) => s.setAttribute('run', 'refused'))
    span('too-large', (s) => s.setAttributes({ run: 'refused', 'app.a': mib, 'app.b': mib, 'app.c': mib, 'app.d': mib }))
    for (let i = 0; i < 3; i++) span(`after-${i}`, (s) => s.setAttribute('run', 'refused'))
    expect(await flush()).toBe(false)
    expect(getStats()).toMatchObject({ spansQueued: 7, spansExported: 6, spansDropped: 1, spansTooLarge: 1 })
    expect(logger.lines).toHaveLength(1)
    expect(logger.lines[0]).toContain('as too large (HTTP 413: SPANLENS_BODY_TOO_LARGE')
    expect((await stored('refused')).map((r) => r.name)).toEqual(['before-0', 'before-1', 'before-2', 'after-0', 'after-1', 'after-2'])
  })
})
