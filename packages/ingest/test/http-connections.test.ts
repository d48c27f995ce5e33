import { setTimeout as delay } from 'node:timers/promises'
import { afterEach, describe, expect, it } from 'vitest'
import { status as Status } from '@grpc/grpc-js'
import { grpcCall, listenGrpc } from './helpers/grpc.js'
import { jsonRequest, protobufRequest } from './helpers/otlp.js'
import { openRaw as open, type RawConnection as Conn } from './helpers/raw-connection.js'
import { KEYS, startServer, type TestServer } from './helpers/server.js'

// What a server does with connections that cost it file descriptors: at most
// SPANLENS_MAX_CONNECTIONS open at once, and none held for long by headers that never end.

let server: TestServer | undefined
afterEach(async () => {
  await server?.close()
  server = undefined
})

const healthz = 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n'

/** Writes `request` and waits for a whole reply (headers and a Content-Length body). */
async function ask(conn: Conn, request: string, timeoutMs = 5000): Promise<string> {
  const before = conn.received().length
  conn.socket.write(request)
  const until = Date.now() + timeoutMs
  while (Date.now() < until) {
    const text = conn.received().slice(before)
    const end = text.indexOf('\r\n\r\n')
    const length = Number(/\r\ncontent-length: (\d+)/i.exec(text)?.[1])
    if (end >= 0 && text.length >= end + 4 + length) return text
    await delay(10)
  }
  throw new Error(`no whole reply within ${timeoutMs} ms; got ${JSON.stringify(conn.received().slice(before))}`)
}

async function metric(url: string, name: string): Promise<string> {
  const text = await (await fetch(`${url}/metrics`, { headers: { connection: 'close' } })).text()
  return text.split('\n').filter((l) => l.startsWith(name)).join('\n')
}

describe('SPANLENS_MAX_CONNECTIONS', () => {
  it('closes a connection past the limit at once, serves those open, and takes a new one once others end', async () => {
    server = await startServer({ SPANLENS_MAX_CONNECTIONS: '3' })
    const held = [await open(server.url), await open(server.url), await open(server.url)]
    // Half a request on each: what held the descriptors in the flood.
    for (const c of held) c.socket.write('POST /v1/traces HTTP/1.1\r\nHost: x\r\n')

    const extra = await open(server.url)
    extra.socket.write(healthz)
    await extra.closed
    expect(extra.received()).toBe('')

    // The connections already open are served.
    const first = held[0] as Conn
    const reply = await ask(first, `authorization: Bearer ${KEYS.acme}\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}`)
    expect(reply).toMatch(/^HTTP\/1\.1 200 /)

    for (const c of held) c.socket.destroy()
    await Promise.all(held.map((c) => c.closed))
    // The server sees the closes a moment later: a new connection is served once it has.
    let served = ''
    for (let i = 0; i < 50 && !served.startsWith('HTTP/1.1 200'); i++) {
      const next = await open(server.url)
      next.socket.write(healthz)
      await Promise.race([next.closed, delay(200)])
      served = next.received()
      next.socket.destroy()
    }
    expect(served).toMatch(/^HTTP\/1\.1 200 /)
    expect(await metric(server.url, 'spanlens_connections_refused_total')).toMatch(/spanlens_connections_refused_total\{listener="http"\} [1-9]/)
  })

  it('counts OTLP/gRPC connections in the same budget as HTTP ones', async () => {
    server = await startServer({ SPANLENS_MAX_CONNECTIONS: '1', SPANLENS_GRPC_PORT: '0' })
    const target = await listenGrpc(server.app)
    const body = protobufRequest(jsonRequest([{ name: 'grpc-budget' }]))
    const held = await open(server.url)
    held.socket.write('POST /v1/traces HTTP/1.1\r\nHost: x\r\n')
    expect((await grpcCall(target, body, { authorization: `Bearer ${KEYS.acme}` })).code).toBe(Status.UNAVAILABLE)
    held.socket.destroy()
    await held.closed
    let code: Status = Status.UNAVAILABLE
    for (let i = 0; i < 50 && code !== Status.OK; i++) {
      await delay(100)
      code = (await grpcCall(target, body, { authorization: `Bearer ${KEYS.acme}` })).code
    }
    expect(code).toBe(Status.OK)
  })

  it('counts a gRPC connection once when the receiver is bound to a second port', async () => {
    server = await startServer({ SPANLENS_MAX_CONNECTIONS: '2', SPANLENS_GRPC_PORT: '0' })
    const first = await listenGrpc(server.app)
    await listenGrpc(server.app)
    const held = await open(server.url)
    held.socket.write('POST /v1/traces HTTP/1.1\r\nHost: x\r\n')
    // One HTTP connection and one gRPC connection to the port bound first are two of two.
    const body = protobufRequest(jsonRequest([{ name: 'grpc-two-ports' }]))
    expect((await grpcCall(first, body, { authorization: `Bearer ${KEYS.acme}` })).code).toBe(Status.OK)
    held.socket.destroy()
    await held.closed
  })
})

describe('SPANLENS_HEADERS_TIMEOUT_MS', () => {
  it('a connection whose headers do not end in time gets 408 SPANLENS_REQUEST_TIMEOUT and is closed', async () => {
    server = await startServer({ SPANLENS_HEADERS_TIMEOUT_MS: '300' })
    const slow = await open(server.url)
    slow.socket.write('POST /v1/traces HTTP/1.1\r\nHost: x\r\n')
    const started = Date.now()
    await slow.closed
    expect(Date.now() - started).toBeLessThan(3000)
    expect(slow.received()).toMatch(/^HTTP\/1\.1 408 /)
    expect(slow.received()).toContain('"code":"SPANLENS_REQUEST_TIMEOUT"')
  })

  it('a kept-alive connection idle for longer than it still has its next request served', async () => {
    server = await startServer({ SPANLENS_HEADERS_TIMEOUT_MS: '300' })
    const conn = await open(server.url)
    expect(await ask(conn, healthz)).toMatch(/^HTTP\/1\.1 200 /)
    await delay(1500)
    expect(await ask(conn, healthz)).toMatch(/^HTTP\/1\.1 200 /)
    conn.socket.destroy()
  })
})
