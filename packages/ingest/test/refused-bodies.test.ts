import { execFile } from 'node:child_process'
import { Agent, request } from 'node:http'
import { promisify } from 'node:util'
import { gzipSync } from 'node:zlib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openRaw } from './helpers/raw-connection.js'
import { KEYS, startServer, type TestServer } from './helpers/server.js'

// A body refused while its client is still sending it (over the limit, in an encoding not
// taken) is read and dropped up to twice the limit, so that the client reads the refusal: a
// connection closed with bytes unread is reset, and Node's http (which OpenTelemetry's JS
// exporters use) and fetch then report a broken pipe, which the exporters retry, instead of the
// final 413.

const MiB = 1024 * 1024
const LIMIT = 16 * MiB

let server: TestServer
beforeAll(async () => {
  server = await startServer({ SPANLENS_BODY_LIMIT_BYTES: String(LIMIT) })
})
afterAll(() => server?.close())

const headers = { 'content-type': 'application/json', authorization: `Bearer ${KEYS.acme}` }

/** A POST with Node's http client in this process: the reply's status and whether it keeps the connection, or the client's error code. */
function post(body: Buffer | Buffer[], extra: Record<string, string> = {}, agent?: Agent): Promise<{ status: number; keptOpen: boolean } | string> {
  return new Promise((resolve) => {
    const req = request(`${server.url}/v1/traces`, { method: 'POST', headers: { ...headers, ...extra }, ...(agent ? { agent } : {}) }, (res) => {
      res.resume()
      res.on('end', () => resolve({ status: res.statusCode ?? 0, keptOpen: res.headers.connection !== 'close' }))
    })
    req.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message))
    if (Array.isArray(body)) {
      for (const chunk of body) req.write(chunk)
      req.end()
    } else req.end(body)
  })
}

/**
 * What `times` POSTs of `bytes` bytes get from a client in a process of its own, as an exporter
 * is (in the server's own process the client's writes and the server's reply take turns, and
 * the race that loses the reply is not run): each reply's status, or the client's error code.
 */
async function postFromAnotherProcess(client: 'http' | 'fetch', bytes: number, times: number): Promise<Array<number | string>> {
  const script = `
    import { request } from 'node:http'
    const [url, bytes, times, auth, client] = process.argv.slice(1)
    const body = Buffer.alloc(Number(bytes), 0x20)
    const headers = { 'content-type': 'application/json', authorization: auth }
    const viaHttp = () => new Promise((resolve) => {
      const req = request(url, { method: 'POST', headers }, (res) => { res.resume(); res.on('end', () => resolve(res.statusCode)) })
      req.on('error', (err) => resolve(err.code))
      req.end(body)
    })
    const viaFetch = () => fetch(url, { method: 'POST', headers, body }).then(async (res) => (await res.arrayBuffer(), res.status), (err) => err.cause?.code ?? err.message)
    const seen = []
    for (let i = 0; i < Number(times); i++) seen.push(await (client === 'fetch' ? viaFetch() : viaHttp()))
    console.log(JSON.stringify(seen))`
  const args = ['--input-type=module', '-e', script, `${server.url}/v1/traces`, String(bytes), String(times), `Bearer ${KEYS.acme}`, client]
  const { stdout } = await promisify(execFile)(process.execPath, args, { maxBuffer: MiB })
  return JSON.parse(stdout) as Array<number | string>
}

describe('a body refused while its client still sends it', () => {
  it.each(['http', 'fetch'] as const)('over the limit by its Content-Length: Node’s %s client reads the 413, every time', async (client) => {
    expect(await postFromAnotherProcess(client, LIMIT + 8 * MiB, 4)).toEqual([413, 413, 413, 413])
  })

  it('chunked, past the limit as it arrives: 413 keeping the connection, which then serves the next request', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 })
    expect(await post(Array.from({ length: 24 }, () => Buffer.alloc(MiB, 0x20)), {}, agent)).toEqual({ status: 413, keptOpen: true })
    expect(await post(Buffer.from('{"resourceSpans":[]}'), {}, agent)).toEqual({ status: 200, keptOpen: true })
    agent.destroy()
  })

  it('an encoding not taken, or a gzip body that does not decompress: 415 and 400, keeping the connection while the rest arrives', async () => {
    expect(await post(Buffer.alloc(12 * MiB), { 'content-encoding': 'compress' })).toEqual({ status: 415, keptOpen: true })
    const corrupt = Buffer.concat([gzipSync(Buffer.from('{"resourceSpans":')).subarray(0, 12), Buffer.alloc(12 * MiB, 7)])
    expect(await post(corrupt, { 'content-encoding': 'gzip' })).toEqual({ status: 400, keptOpen: true })
  })

  it('one that turns out malformed while it is dropped ends the connection without a second reply', async () => {
    const conn = await openRaw(server.url)
    conn.socket.write(`POST /v1/traces HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\nauthorization: Bearer ${KEYS.acme}\r\ntransfer-encoding: chunked\r\n\r\n`)
    conn.socket.write(`${(LIMIT + MiB).toString(16)}\r\n`)
    conn.socket.write(Buffer.alloc(LIMIT + MiB, 0x20))
    while (!conn.received().includes('\r\n\r\n')) await new Promise((r) => setTimeout(r, 10))
    conn.socket.write('\r\nnot a chunk size\r\n')
    await conn.closed
    expect(conn.received()).toMatch(/^HTTP\/1\.1 413 /)
    expect(conn.received().match(/HTTP\/1\.1 \d{3} /g)).toHaveLength(1)
  })

  it('one announced past twice the limit is not read: the 413 closes the connection', async () => {
    const conn = await openRaw(server.url)
    conn.socket.write(`POST /v1/traces HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\nauthorization: Bearer ${KEYS.acme}\r\ncontent-length: ${2 * LIMIT + 1}\r\n\r\n`)
    await conn.closed
    expect(conn.received()).toMatch(/^HTTP\/1\.1 413 /)
    expect(conn.received()).toMatch(/\r\nconnection: close\r\n/i)
  })

  it('one within twice the limit keeps the connection open while it arrives, then serves the next request on it', async () => {
    const conn = await openRaw(server.url)
    const length = LIMIT + MiB
    conn.socket.write(`POST /v1/traces HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\nauthorization: Bearer ${KEYS.acme}\r\ncontent-length: ${length}\r\n\r\n`)
    while (!conn.received().includes('\r\n\r\n')) await new Promise((r) => setTimeout(r, 10))
    expect(conn.received()).toMatch(/^HTTP\/1\.1 413 /)
    expect(conn.received()).not.toMatch(/\r\nconnection: close\r\n/i)
    const before = conn.received().length
    conn.socket.write(Buffer.alloc(length, 0x20))
    conn.socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n')
    while (!conn.received().slice(before).includes('{"status":"ok"}')) await new Promise((r) => setTimeout(r, 10))
    expect(conn.received().slice(before)).toMatch(/^HTTP\/1\.1 200 /)
    conn.socket.destroy()
  })
})
