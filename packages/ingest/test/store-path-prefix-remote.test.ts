import { createServer, request, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadConfig } from '../src/config/load.js'
import { buildServer } from '../src/server.js'
import { jsonRequest } from './helpers/otlp.js'
import { API_KEYS, bearer, KEYS, startServer } from './helpers/server.js'
import { databaseFor, provided, storeEnv } from './helpers/store-mode.js'
import { tempDir } from './helpers/tmp.js'

/**
 * Runs in the `remote` project: the project's served ClickHouse (a user with a password)
 * behind a reverse proxy that forwards `/clickhouse/…` to its root, as
 * `location /clickhouse/ { proxy_pass http://clickhouse:8123/; }` does in nginx (slashes
 * merged first), and answers 404 anywhere else.
 */
const ch = provided()
if (ch?.mode !== 'remote') throw new Error('store-path-prefix-remote.test.ts runs in the remote vitest project')

const PREFIX = '/clickhouse'
let proxy: Server
let proxyUrl: string
const forwarded: string[] = []

beforeAll(async () => {
  const upstream = new URL(ch.url)
  proxy = createServer((req, res) => {
    const [rawPath = '/', query] = (req.url ?? '/').split(/\?(.*)/s)
    const path = `${rawPath.replace(/\/{2,}/g, '/')}${query === undefined ? '' : `?${query}`}`
    if (path !== PREFIX && !path.startsWith(`${PREFIX}/`) && !path.startsWith(`${PREFIX}?`)) {
      req.resume()
      res.writeHead(404, { 'content-type': 'text/html' }).end('<html><body><h1>404 Not Found</h1></body></html>\n')
      return
    }
    const rest = `/${path.slice(PREFIX.length).replace(/^\/+/, '')}`
    forwarded.push(rest.split('?')[0] as string)
    const out = request({ host: upstream.hostname, port: upstream.port, method: req.method, path: rest, headers: req.headers }, (reply) => {
      res.writeHead(reply.statusCode ?? 502, reply.headers)
      reply.pipe(res)
    })
    out.on('error', () => res.destroy())
    req.pipe(out)
  })
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve))
  proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`
})

afterAll(async () => {
  proxy.closeAllConnections()
  await new Promise((resolve) => proxy.close(resolve))
})

describe('SPANLENS_CLICKHOUSE_URL with a reverse proxy prefix', () => {
  it('migrates, ingests, answers queries and /readyz through the prefix, into SPANLENS_CLICKHOUSE_DATABASE with the user and password of their variables', async () => {
    const s = await startServer({ SPANLENS_CLICKHOUSE_URL: `${proxyUrl}${PREFIX}/`, SPANLENS_BATCH_MAX_AGE_MS: '20' })
    try {
      const res = await fetch(`${s.url}/v1/traces`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...bearer(KEYS.acme) },
        body: JSON.stringify(jsonRequest(Array.from({ length: 5 }, () => ({ name: 'behind-proxy' })))),
      })
      expect(res.status).toBe(200)
      await s.app.spanlens.flush()
      const traces = await fetch(`${s.url}/api/v1/traces?limit=10`, { headers: bearer(KEYS.acme) })
      expect(traces.status).toBe(200)
      expect(((await traces.json()) as { items: Array<{ name: string }> }).items.filter((t) => t.name === 'behind-proxy')).toHaveLength(5)
      expect((await fetch(`${s.url}/readyz`)).status).toBe(200)
      // The path was the prefix, never the database: the tables are in the database the variable names.
      const [where] = await s.rows<{ ours: string; path: string }>(
        "SELECT (SELECT count() FROM system.tables WHERE database = {db:String} AND name = 'spans') AS ours, (SELECT count() FROM system.databases WHERE name = 'clickhouse') AS path",
        { db: databaseFor(s.dataDir) },
      )
      expect({ ours: Number(where?.ours), path: Number(where?.path) }).toEqual({ ours: 1, path: 0 })
      expect(s.app.spanlens.store.target).toBe(`${proxyUrl}${PREFIX}/`)
      expect(forwarded).toContain('/ping')
      expect(forwarded).toContain('/')
    } finally {
      await s.close()
    }
  })

  it.each([
    ['a prefix the proxy does not forward', () => `${proxyUrl}/elsewhere/`, /404 Not Found/],
    ['a path on ClickHouse itself (a database written as the path)', () => `${ch.url.replace(/\/$/, '')}/spanlens`, /There is no handle/],
  ])('%s stops start-up with SPANLENS_STORE_UNREACHABLE naming SPANLENS_CLICKHOUSE_URL and what answered', async (_name, target, said) => {
    const dir = tempDir()
    try {
      const env = { SPANLENS_DATA_DIR: dir.path, ...storeEnv(dir.path), SPANLENS_API_KEYS: API_KEYS, SPANLENS_LOG_LEVEL: 'silent', SPANLENS_CLICKHOUSE_URL: target() }
      const err = (await buildServer(loadConfig({ env })).catch((e: unknown) => e)) as Error & { code?: string }
      expect(err.code).toBe('SPANLENS_STORE_UNREACHABLE')
      expect(err.message).toMatch(/not \/ping as ClickHouse does .*SPANLENS_CLICKHOUSE_URL must be ClickHouse's address, or a reverse proxy's/)
      expect(err.message).toMatch(said)
      expect(err.message).not.toContain(ch.password)
    } finally {
      dir.cleanup()
    }
  })
})
