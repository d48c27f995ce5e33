import type { Socket } from 'node:net'
import { setTimeout as delay } from 'node:timers/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openRaw, type RawConnection as Conn } from './helpers/raw-connection.js'
import { bearer, KEYS, startServer, type TestServer } from './helpers/server.js'

// A request no route takes (no route of its path, or none of its method) is answered from
// its headers: its body is never buffered or parsed, whoever sends it, and the connection
// reads at most a little of it before closing.

const INGEST_KEY = 'acme-ingest-0123456789'

let server: TestServer
/** Every raw connection a test opened: one left open with a body announced would hold close() back. */
const sockets: Socket[] = []
beforeAll(async () => {
  server = await startServer({ SPANLENS_INGEST_KEYS: `acme:${INGEST_KEY}` })
})
afterAll(async () => {
  for (const s of sockets) s.destroy()
  await server?.close()
})

const open = (): Promise<Conn> => openRaw(server.url, sockets)

/** Resolves with the reply's head once it has arrived, or rejects after `ms`. */
async function replyHead(conn: Conn, from = 0, ms = 3000): Promise<string> {
  const until = Date.now() + ms
  while (Date.now() < until) {
    const text = conn.received().slice(from)
    const end = text.indexOf('\r\n\r\n')
    if (end >= 0) return text.slice(0, end)
    await delay(10)
  }
  throw new Error(`no reply within ${ms} ms; got ${JSON.stringify(conn.received().slice(from))}`)
}

const BIG = 50_000_000

describe('a request no route takes is answered from its headers', () => {
  it.each([
    ['POST', '/nope', 404],
    ['POST', '/', 405],
    ['POST', '/healthz', 405],
    ['POST', '/api/v1/nope', 404],
    ['POST', '/v1/nope', 404],
    ['DELETE', '/api/v1/traces', 405],
    ['PUT', '/v1/traces', 405],
  ])('%s %s with a 50 MB JSON body announced, without a key, is a %i before the body arrives', async (method, path, status) => {
    const conn = await open()
    conn.socket.write(`${method} ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${BIG}\r\n\r\n[`)
    expect(await replyHead(conn)).toMatch(new RegExp(`^HTTP/1\\.1 ${status} `))
  })

  it.each([
    ['/nope', 404],
    ['/v1/traces', 401],
    ['/api/v1/sql', 401],
  ])('reads at most a little of a body it does not take (POST %s without a key: %i), then closes the connection', async (path, status) => {
    const conn = await open()
    conn.socket.write(`POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${BIG}\r\n\r\n`)
    expect(await replyHead(conn)).toMatch(new RegExp(`^HTTP/1\\.1 ${status} `))
    const chunk = Buffer.alloc(64 * 1024, 0x20)
    let sent = 0
    let open_ = true
    void conn.closed.then(() => (open_ = false))
    // The whole 50 MB would go in well under a second on loopback if the server read it.
    while (open_ && sent < BIG) {
      if (!conn.socket.write(chunk)) await Promise.race([new Promise((r) => conn.socket.once('drain', r)), conn.closed, delay(1000)])
      sent += chunk.length
    }
    await Promise.race([conn.closed, delay(5000)])
    expect(open_).toBe(false)
    expect(sent).toBeLessThan(BIG)
  })

  it('a small body it does not take is read past, and the connection serves the next request', async () => {
    const conn = await open()
    conn.socket.write('POST /nope HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 7\r\n\r\n{"a":1}')
    expect(await replyHead(conn)).toMatch(/^HTTP\/1\.1 404 /)
    const from = conn.received().length
    conn.socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n')
    expect(await replyHead(conn, from)).toMatch(/^HTTP\/1\.1 200 /)
  })
})

describe('every reply under /api/v1 is kept by no cache and sniffed by no browser', () => {
  const json = { 'content-type': 'application/json' }
  it.each<[string, number, string, RequestInit]>([
    ['a route’s answer', 200, '/api/v1/project', { headers: bearer(KEYS.acme) }],
    ['no key', 401, '/api/v1/traces', {}],
    ['a wrong key', 401, '/api/v1/traces', { headers: bearer('not-a-key-0123456789') }],
    ['an ingest key on a reading route', 403, '/api/v1/traces', { headers: bearer(INGEST_KEY) }],
    ['a path no route has', 404, '/api/v1/nope', { headers: bearer(KEYS.acme) }],
    ['a method the path does not take', 405, '/api/v1/traces', { method: 'DELETE', headers: bearer(KEYS.acme) }],
    ['a percent-escape that does not decode', 400, '/api/v1/traces/%E0%A4%A', { headers: bearer(KEYS.acme) }],
    ['a parameter over the router’s length', 400, `/api/v1/sessions/${'x'.repeat(1100)}`, { headers: bearer(KEYS.acme) }],
    ['a body that is not JSON', 415, '/api/v1/sql', { method: 'POST', headers: { ...bearer(KEYS.acme), 'content-type': 'text/plain' }, body: 'SELECT 1' }],
    ['a body over the route’s limit', 413, '/api/v1/sql', { method: 'POST', headers: { ...bearer(KEYS.acme), ...json }, body: JSON.stringify({ query: `SELECT '${'x'.repeat(2 * 1024 * 1024)}'` }) }],
    ['a preflight', 204, '/api/v1/scores', { method: 'OPTIONS' }],
  ])('%s (%i)', async (_what, status, path, init) => {
    const res = await fetch(`${server.url}${path}`, init)
    await res.arrayBuffer()
    expect(res.status).toBe(status)
    expect(res.headers.get('cache-control')).toBe('no-store')
    expect(res.headers.get('x-content-type-options')).toBe('nosniff')
  })
})
