import { connect } from 'node:net'
import { setTimeout as delay } from 'node:timers/promises'
import { describe, expect, it } from 'vitest'
import { jsonRequest, protobufRequest } from './helpers/otlp.js'
import { decodeRichStatus } from './helpers/rpc-status.js'
import { KEYS, startServer } from './helpers/server.js'

/** A raw HTTP reply: status, headers (lower-case names) and body bytes. */
function parseReply(raw: Buffer): { status: number; headers: Record<string, string>; body: Buffer } {
  const end = raw.indexOf('\r\n\r\n')
  const [statusLine = '', ...lines] = raw.subarray(0, end).toString('latin1').split('\r\n')
  const headers: Record<string, string> = {}
  for (const line of lines) {
    const i = line.indexOf(':')
    headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim()
  }
  return { status: Number(statusLine.split(' ')[1]), headers, body: raw.subarray(end + 4) }
}

/**
 * Sends `head` on a connection of its own, closes the server while the request's
 * headers are half there, then sends the rest: what was answered.
 */
async function requestAcrossClose(server: Awaited<ReturnType<typeof startServer>>, head: string, rest: string, body: Buffer = Buffer.alloc(0)) {
  const socket = connect(Number(new URL(server.url).port), '127.0.0.1')
  const chunks: Buffer[] = []
  socket.on('data', (c: Buffer) => chunks.push(c))
  const ended = new Promise<void>((resolve, reject) => {
    socket.on('close', () => resolve())
    socket.on('error', reject)
  })
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()))
  socket.write(head)
  await delay(100)
  const closed = server.close()
  await delay(100)
  socket.write(rest)
  socket.write(body)
  await ended
  await closed
  return parseReply(Buffer.concat(chunks))
}

describe('a request that arrives while the server is stopping', () => {
  it('an OTLP protobuf export is answered 503 SPANLENS_SHUTTING_DOWN as a google.rpc.Status with Retry-After', async () => {
    const server = await startServer()
    const body = protobufRequest(jsonRequest([{ name: 'late' }]))
    const reply = await requestAcrossClose(
      server,
      'POST /v1/traces HTTP/1.1\r\nHost: x\r\n',
      `content-type: application/x-protobuf\r\nauthorization: Bearer ${KEYS.acme}\r\ncontent-length: ${body.length}\r\n\r\n`,
      body,
    )
    expect(reply.status).toBe(503)
    expect(reply.headers['content-type']).toBe('application/x-protobuf')
    expect(reply.headers['retry-after']).toBe('5')
    expect(reply.headers.connection).toBe('close')
    const status = decodeRichStatus(reply.body)
    expect(status.message).toMatch(/^SPANLENS_SHUTTING_DOWN: /)
    expect(status.retryDelaySeconds).toBe(5)
  })

  it('an OTLP JSON export is answered 503 SPANLENS_SHUTTING_DOWN in JSON with Retry-After', async () => {
    const server = await startServer()
    const body = Buffer.from(JSON.stringify(jsonRequest([{ name: 'late' }])))
    const reply = await requestAcrossClose(
      server,
      'POST /v1/traces HTTP/1.1\r\nHost: x\r\n',
      `content-type: application/json\r\nauthorization: Bearer ${KEYS.acme}\r\ncontent-length: ${body.length}\r\n\r\n`,
      body,
    )
    expect(reply.status).toBe(503)
    expect(reply.headers['retry-after']).toBe('5')
    expect((JSON.parse(reply.body.toString()) as { error: { code: string } }).error.code).toBe('SPANLENS_SHUTTING_DOWN')
  })

  it('a query, and a public route, are answered 503 SPANLENS_SHUTTING_DOWN with Retry-After', async () => {
    for (const path of ['/api/v1/traces', '/healthz']) {
      const server = await startServer()
      const reply = await requestAcrossClose(server, `GET ${path} HTTP/1.1\r\nHost: x\r\n`, `authorization: Bearer ${KEYS.acme}\r\n\r\n`)
      expect(reply.status).toBe(503)
      expect(reply.headers['retry-after']).toBe('5')
      expect((JSON.parse(reply.body.toString()) as { error: { code: string } }).error.code).toBe('SPANLENS_SHUTTING_DOWN')
    }
  })
})
