import { once } from 'node:events'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { jsonRequest } from './helpers/otlp.js'
import { KEYS, bearer, openStore, startServer } from './helpers/server.js'
import { tempDir } from './helpers/tmp.js'

// A platform chDB ships no engine for (Windows, Alpine's musl): loading its addon throws.
vi.mock('chdb/connection', () => {
  throw new Error('Cannot find module @chdb/lib-win32-x64 (no libchdb for this platform)')
})

/** A proxy in front of a ClickHouse that is down (store-gateway.test.ts): the server starts and spools. */
let clickhouse: Server
let url: string
beforeAll(async () => {
  clickhouse = createServer((_req, res) => res.writeHead(502, { 'content-type': 'text/html' }).end('<html><body>502 Bad Gateway</body></html>'))
  clickhouse.listen(0, '127.0.0.1')
  await once(clickhouse, 'listening')
  url = `http://127.0.0.1:${(clickhouse.address() as AddressInfo).port}`
})
afterAll(() => clickhouse.close())

describe('where libchdb does not load', () => {
  it('a server on a ClickHouse URL starts and takes spans into its spool', async () => {
    const server = await startServer({ SPANLENS_CLICKHOUSE_URL: url, SPANLENS_GRPC_PORT: 'off' }, { storeFirstWaitMs: 200 })
    try {
      const ready = await server.app.inject({ method: 'GET', url: '/readyz' })
      expect(ready.json()).toMatchObject({ status: 'degraded', checks: { migrations: 'pending' } })
      const sent = await fetch(`${server.url}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json', ...bearer(KEYS.acme) }, body: JSON.stringify(jsonRequest([{ name: 'spooled' }])) })
      expect(sent.status, await sent.text()).toBe(200)
    } finally {
      await server.close()
    }
  })

  it('the embedded store is refused with SPANLENS_CLICKHOUSE_UNSUPPORTED_PLATFORM, naming the platform and the way out', async () => {
    const dir = tempDir()
    try {
      const err = await openStore(dir.path).then(
        () => undefined,
        (e: unknown) => e as { code: string; message: string },
      )
      expect(err?.code).toBe('SPANLENS_CLICKHOUSE_UNSUPPORTED_PLATFORM')
      expect(err?.message).toContain(`${process.platform}-${process.arch}`)
      expect(err?.message).toContain('SPANLENS_CLICKHOUSE_URL')
    } finally {
      dir.cleanup()
    }
  })
})
