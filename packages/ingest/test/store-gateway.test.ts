import { once } from 'node:events'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Writable } from 'node:stream'
import { pino } from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import { loadConfig } from '../src/config/load.js'
import { buildServer } from '../src/server.js'
import { API_KEYS } from './helpers/server.js'
import { tempDir } from './helpers/tmp.js'

// A reverse proxy in front of ClickHouse (nginx, an ingress, a load balancer) answers /ping
// itself while ClickHouse is down: its own error page, with a gateway's status. That is the
// store unreachable, which `spanlens serve` starts through and retries; a page with another
// status is an address that is not ClickHouse's, which stops start-up.

let proxy: Server | undefined
afterEach(async () => {
  proxy?.close()
  proxy = undefined
})

/** A proxy on 127.0.0.1 answering every request with `status` and an HTML page, as nginx does. */
async function pageProxy(status: number): Promise<{ url: string; pings: () => number }> {
  let pings = 0
  proxy = createServer((req, res) => {
    if (req.url === '/clickhouse//ping') pings++
    res.writeHead(status, { 'content-type': 'text/html' })
    res.end(`<html><head><title>${status} Bad Gateway</title></head><body><center><h1>${status}</h1></center><hr><center>nginx</center></body></html>\n`)
  })
  proxy.listen(0, '127.0.0.1')
  await once(proxy, 'listening')
  return { url: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}/clickhouse/`, pings: () => pings }
}

function config(dataDir: string, url: string) {
  return loadConfig({ env: { SPANLENS_DATA_DIR: dataDir, SPANLENS_API_KEYS: API_KEYS, SPANLENS_LOG_LEVEL: 'silent', SPANLENS_CLICKHOUSE_URL: url, SPANLENS_GRPC_PORT: 'off' } })
}

describe('a reverse proxy answering for ClickHouse at start', () => {
  it.each([502, 503, 504])('answering /ping %i: the server starts, says migrations pending, and keeps trying', async (status) => {
    const dir = tempDir()
    const { url, pings } = await pageProxy(status)
    const lines: string[] = []
    const logger = pino({ level: 'warn' }, new Writable({ write: (chunk: Buffer, _enc, done) => (lines.push(chunk.toString()), done()) }))
    try {
      const app = await buildServer(config(dir.path, url), { logger, storeFirstWaitMs: 2000 })
      try {
        const ready = await app.inject({ method: 'GET', url: '/readyz' })
        expect(ready.json()).toMatchObject({ status: 'degraded', checks: { migrations: 'pending' } })
        const warned = lines.map((l) => JSON.parse(l) as { msg: string; err?: { message: string } }).find((l) => l.msg.startsWith('the store is unreachable'))
        expect(warned?.err?.message).toContain(`a reverse proxy answered /ping with ${status}`)
        // Tried again in the background (the first wait is at most 200 ms).
        const before = pings()
        await expect.poll(() => pings(), { timeout: 5000, interval: 50 }).toBeGreaterThan(before)
      } finally {
        await app.close()
      }
    } finally {
      dir.cleanup()
    }
  })

  it.each([404, 500, 403])('answering /ping %i with a page that is not ClickHouse: start-up stops with SPANLENS_STORE_UNREACHABLE', async (status) => {
    const dir = tempDir()
    const { url } = await pageProxy(status)
    try {
      const err = (await buildServer(config(dir.path, url), { storeFirstWaitMs: 2000 }).catch((e: unknown) => e)) as Error & { code?: string }
      expect(err.code).toBe('SPANLENS_STORE_UNREACHABLE')
      expect(err.message).toMatch(/not \/ping as ClickHouse does/)
    } finally {
      dir.cleanup()
    }
  })
})
