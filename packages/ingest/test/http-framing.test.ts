import { connect } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { jsonRequest, protobufRequest } from './helpers/otlp.js'
import { decodeRichStatus } from './helpers/rpc-status.js'
import { KEYS, startServer, type TestServer } from './helpers/server.js'

// Requests whose framing is wrong, written byte for byte on sockets of their own: every
// one gets an answer in the catalogue's shape, from the route when a route has the request.

let server: TestServer
beforeAll(async () => {
  server = await startServer()
})
afterAll(() => server?.close())

interface Exchange {
  /** Everything the server sent, as text. */
  text: string
  /** Whether the server closed the connection while this side had not ended its own. */
  closedByServer: boolean
}

/** Writes `request` and, with `halfClose`, ends this side; resolves once the server has closed. */
function exchange(request: Buffer | string, halfClose: boolean): Promise<Exchange> {
  return new Promise((resolve, reject) => {
    const { port } = new URL(server.url)
    const socket = connect({ port: Number(port), host: '127.0.0.1', allowHalfOpen: true })
    const chunks: Buffer[] = []
    let closedByServer = false
    socket.on('connect', () => (halfClose ? socket.end(request) : socket.write(request)))
    socket.on('data', (c: Buffer) => chunks.push(c))
    socket.on('end', () => {
      closedByServer = !halfClose
      socket.end()
    })
    socket.on('close', () => resolve({ text: Buffer.concat(chunks).toString('latin1'), closedByServer }))
    socket.on('error', reject)
  })
}

const replies = (text: string) => text.split(/(?=HTTP\/1\.1 \d{3} )/).filter(Boolean)
const statusOf = (reply: string) => Number(reply.slice(9, 12))
const headerOf = (reply: string, name: string) => new RegExp(`\r\n${name}: ([^\r]*)`, 'i').exec(reply)?.[1]
const bodyOf = (reply: string) => reply.slice(reply.indexOf('\r\n\r\n') + 4)
const errorOf = (reply: string) => (JSON.parse(bodyOf(reply)) as { error: { code: string; message: string } }).error

const head = (path: string, type: string, length: number, extra = '') =>
  `POST ${path} HTTP/1.1\r\nHost: x\r\ncontent-type: ${type}\r\nauthorization: Bearer ${KEYS.acme}\r\ncontent-length: ${length}\r\n${extra}\r\n`

describe('a client that ends its side of the connection once its request is sent', () => {
  it('an OTLP export is answered 200, then the connection closes, and its span is stored', async () => {
    const name = `half-closed-${Date.now()}`
    const body = JSON.stringify(jsonRequest([{ name }]))
    const { text } = await exchange(head('/v1/traces', 'application/json', body.length) + body, true)
    expect(replies(text)).toHaveLength(1)
    expect(statusOf(text)).toBe(200)
    await server.app.spanlens.flush()
    expect(await server.rows('SELECT name FROM spans WHERE name = {name:String}', { name })).toHaveLength(1)
  })

  it.each(['/readyz', '/api/v1/traces?limit=1', '/healthz'])('GET %s is answered', async (path) => {
    const { text } = await exchange(`GET ${path} HTTP/1.1\r\nHost: x\r\nauthorization: Bearer ${KEYS.acme}\r\n\r\n`, true)
    expect(replies(text)).toHaveLength(1)
    expect(statusOf(text)).toBe(200)
  })

  it('a client that then reads nothing leaves no connection open on the server', async () => {
    const open = async () => {
      const text = await (await fetch(`${server.url}/metrics`, { headers: { connection: 'close' } })).text()
      // The /metrics request's own connection is one of them.
      return Number(/^spanlens_connections_open (\d+)/m.exec(text)?.[1]) - 1
    }
    const { port } = new URL(server.url)
    const socket = connect({ port: Number(port), host: '127.0.0.1', allowHalfOpen: true })
    socket.on('error', () => undefined)
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()))
    socket.pause()
    socket.end(`GET /api/v1/traces?limit=1 HTTP/1.1\r\nHost: x\r\nauthorization: Bearer ${KEYS.acme}\r\n\r\n`)
    let left = await open()
    for (let i = 0; i < 100 && left > 0; i++) {
      await new Promise((r) => setTimeout(r, 50))
      left = await open()
    }
    expect(left).toBe(0)
    socket.destroy()
  })
})

describe('a body shorter than its Content-Length, the client then ending its side', () => {
  it('an OTLP JSON export is a 400 SPANLENS_BAD_OTLP naming the bytes its Content-Length announced', async () => {
    const body = JSON.stringify(jsonRequest([{ name: 'cut' }]))
    const { text } = await exchange(head('/v1/traces', 'application/json', body.length + 100) + body, true)
    expect(replies(text)).toHaveLength(1)
    expect(statusOf(text)).toBe(400)
    const error = errorOf(text)
    expect(error.code).toBe('SPANLENS_BAD_OTLP')
    expect(error.message).toContain(`after ${body.length} of the ${body.length + 100} bytes its Content-Length announced`)
  })

  it('an OTLP protobuf export is the same refusal as a google.rpc.Status', async () => {
    const body = protobufRequest(jsonRequest([{ name: 'cut' }]))
    const { text } = await exchange(Buffer.concat([Buffer.from(head('/v1/traces', 'application/x-protobuf', body.length + 100)), body]), true)
    expect(statusOf(text)).toBe(400)
    expect(headerOf(text, 'content-type')).toBe('application/x-protobuf')
    expect(decodeRichStatus(Buffer.from(bodyOf(text), 'latin1')).message).toMatch(/^SPANLENS_BAD_OTLP: /)
  })

  it('a gzip OTLP export is the same refusal, not a decompression error', async () => {
    const { gzipSync } = await import('node:zlib')
    const body = gzipSync(JSON.stringify(jsonRequest([{ name: 'cut' }])))
    const { text } = await exchange(Buffer.concat([Buffer.from(head('/v1/traces', 'application/json', body.length + 100, 'content-encoding: gzip\r\n')), body]), true)
    expect(statusOf(text)).toBe(400)
    expect(errorOf(text).message).toContain('Content-Length announced')
  })

  it('a query is a 400 SPANLENS_BAD_REQUEST', async () => {
    const body = JSON.stringify({ query: 'SELECT 1' })
    const { text } = await exchange(head('/api/v1/sql', 'application/json', body.length + 100) + body, true)
    expect(statusOf(text)).toBe(400)
    expect(errorOf(text).code).toBe('SPANLENS_BAD_REQUEST')
  })
})

describe('a body longer than its Content-Length', () => {
  it('the request as its Content-Length frames it is answered, then the server closes the connection without reading the rest', async () => {
    const body = JSON.stringify({ resourceSpans: [] })
    const { text, closedByServer } = await exchange(`${head('/v1/traces', 'application/json', body.length)}${body}, "and": "more"}`, false)
    expect(replies(text)).toHaveLength(1)
    expect(statusOf(text)).toBe(200)
    expect(headerOf(text, 'connection')).toBe('close')
    expect(closedByServer).toBe(true)
  })
})

describe('a request the parser refuses before any route', () => {
  it('headers cut short by the client ending its side are a 400 saying so, without the URL hint', async () => {
    const { text } = await exchange('GET /api/v1/traces HTTP/1.1\r\nHost: x\r\nauthoriz', true)
    expect(statusOf(text)).toBe(400)
    const error = errorOf(text)
    expect(error.code).toBe('SPANLENS_BAD_REQUEST')
    expect(error.message).toContain('before the request was complete')
    expect(error.message).not.toContain('percent-encoded')
  })

  it('a Content-Length that is not a number is a 400 naming the header', async () => {
    const { text } = await exchange(`POST /v1/traces HTTP/1.1\r\nHost: x\r\ncontent-length: 12abc\r\n\r\n`, false)
    expect(statusOf(text)).toBe(400)
    expect(errorOf(text).message).toContain('Content-Length')
  })

  const start = `POST /v1/traces HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\nauthorization: Bearer ${KEYS.acme}\r\n`
  const chunked = `${start}transfer-encoding: chunked\r\n\r\n`
  it.each([
    ['Content-Length, then Transfer-Encoding: chunked', `${start}content-length: 5\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n`, 'both Content-Length and Transfer-Encoding'],
    ['Transfer-Encoding: chunked, then Content-Length', `${start}transfer-encoding: chunked\r\ncontent-length: 5\r\n\r\n0\r\n\r\n`, 'both Content-Length and Transfer-Encoding'],
    ['Transfer-Encoding: gzip, then Content-Length', `${start}transfer-encoding: gzip\r\ncontent-length: 5\r\n\r\nhello`, 'both Content-Length and Transfer-Encoding'],
    ['two Content-Length headers', `${start}content-length: 2\r\ncontent-length: 2\r\n\r\n{}`, 'more than one Content-Length header'],
    ['a Content-Length past any number', `${start}content-length: 99999999999999999999999\r\n\r\n`, 'a number larger than any body'],
    ['Transfer-Encoding: gzip alone', `${start}transfer-encoding: gzip\r\n\r\n`, 'does not end in chunked'],
    ['Transfer-Encoding: chunked twice', `${start}transfer-encoding: chunked, chunked\r\n\r\n0\r\n\r\n`, 'does not name chunked once, as its last coding'],
    ['a chunk longer than its size line', `${chunked}2\r\n{}}\r\n0\r\n\r\n`, 'longer than its size line says'],
    ['a chunk extension with a control character', `${chunked}2;\x01\r\n{}\r\n0\r\n\r\n`, 'a chunk extension of the chunked body'],
    ['a space after the HTTP version', `POST /v1/traces HTTP/1.1 \r\nHost: x\r\n\r\n`, 'does not end in CRLF right after its HTTP version'],
    ['a header line starting with whitespace', `POST /v1/traces HTTP/1.1\r\n Host: x\r\n\r\n`, 'a header line starts with whitespace'],
  ])('%s is a 400 naming that fault', async (_name, request, fault) => {
    const { text } = await exchange(request, false)
    expect(replies(text)).toHaveLength(1)
    expect(statusOf(text)).toBe(400)
    const error = errorOf(text)
    expect(error.code).toBe('SPANLENS_BAD_REQUEST')
    expect(error.message).toContain(fault)
  })

  it('an HTTP/1.1 request without Host is a 400 in the catalogue shape saying so; HTTP/1.0 needs none', async () => {
    const { text } = await exchange('GET /healthz HTTP/1.1\r\n\r\n', true)
    expect(statusOf(text)).toBe(400)
    expect(errorOf(text)).toMatchObject({ code: 'SPANLENS_BAD_REQUEST', message: expect.stringContaining('Host header') })
    expect(statusOf((await exchange('GET /healthz HTTP/1.0\r\n\r\n', true)).text)).toBe(200)
  })

  it('a TLS handshake on the plain-HTTP port is a 400 saying so', async () => {
    const hello = Buffer.from('160301020001', 'hex')
    const { text } = await exchange(Buffer.concat([hello, Buffer.alloc(64, 1)]), false)
    expect(statusOf(text)).toBe(400)
    expect(errorOf(text).message).toContain('TLS')
  })
})
