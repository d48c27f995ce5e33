import { execFile, execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import { createServer as createNetServer, type AddressInfo, type Server, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { Http1Client, isUnreachable } from '../src/export/http1-client.js'
import { Http1ProtocolError } from '../src/export/http1-response.js'

const closers: (() => void)[] = []
afterEach(() => {
  for (const c of closers.splice(0)) c()
})

interface Seen {
  method: string | undefined
  url: string | undefined
  headers: IncomingMessage['headers']
  body: Buffer
  socket: Socket
}

/** A node:http server that records what it got and answers with `reply`. */
async function httpServer(reply: (req: IncomingMessage, res: ServerResponse, n: number) => void, keepAliveTimeout = 5000) {
  const seen: Seen[] = []
  const sockets = new Set<Socket>()
  const server = createHttpServer((req, res) => {
    const parts: Buffer[] = []
    req.on('data', (d: Buffer) => parts.push(d))
    req.on('end', () => {
      seen.push({ method: req.method, url: req.url, headers: req.headers, body: Buffer.concat(parts), socket: req.socket })
      reply(req, res, seen.length)
    })
  })
  server.keepAliveTimeout = keepAliveTimeout
  server.on('connection', (s: Socket) => sockets.add(s))
  const url = await listen(server)
  closers.push(() => {
    server.closeAllConnections()
    server.close()
  })
  return { url, seen, sockets }
}

/** A bare TCP server: `onRequest` gets the socket and which request on it this is, once a request's bytes arrived. */
async function rawServer(onRequest: (socket: Socket, n: number, connection: number) => void) {
  let connections = 0
  const server = createNetServer((socket) => {
    const connection = ++connections
    let n = 0
    let buffered = ''
    socket.on('data', (d: Buffer) => {
      buffered += d.toString('latin1')
      // Requests here have small bodies: a request is complete once its head and Content-Length bytes are in.
      for (;;) {
        const end = buffered.indexOf('\r\n\r\n')
        if (end < 0) return
        const length = Number(/content-length: (\d+)/i.exec(buffered.slice(0, end))?.[1] ?? 0)
        if (buffered.length < end + 4 + length) return
        buffered = buffered.slice(end + 4 + length)
        onRequest(socket, ++n, connection)
      }
    })
    socket.on('error', () => {})
  })
  const url = await listen(server)
  closers.push(() => server.close())
  return { url, connections: () => connections }
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

function client(url: string, headers: Record<string, string> = {}, options = {}) {
  const c = new Http1Client(new URL(url), headers, options)
  closers.push(() => c.close())
  return c
}

const body = (s: string) => new Uint8Array(Buffer.from(s))

describe('export HTTP/1.1 client', () => {
  it('POSTs the body with its headers and reuses one keep-alive connection for requests one after another', async () => {
    const s = await httpServer((_req, res) => res.writeHead(200, { 'content-length': 2 }).end('{}'))
    const c = client(`${s.url}/v1/traces?x=1`, { authorization: 'Bearer k', 'content-type': 'application/x-protobuf' })
    for (let i = 0; i < 3; i++) expect(await c.post(body(`span-${i}`), 5000)).toEqual({ status: 200, retryAfter: undefined, reusable: true })
    expect(s.seen.map((r) => [r.method, r.url, r.body.toString()])).toEqual([
      ['POST', '/v1/traces?x=1', 'span-0'],
      ['POST', '/v1/traces?x=1', 'span-1'],
      ['POST', '/v1/traces?x=1', 'span-2'],
    ])
    expect(s.seen[0]!.headers).toMatchObject({ authorization: 'Bearer k', 'content-type': 'application/x-protobuf', 'content-length': '6', host: s.url.slice(7) })
    expect(s.sockets.size).toBe(1)
    expect(c.connections).toBe(1)
  })

  it('runs concurrent requests on connections of their own and answers each with its own reply', async () => {
    const s = await httpServer((req, res) => {
      const n = (s.seen.at(-1)?.body.toString() ?? '').slice(5)
      // Replies leave in reverse order of arrival, chunked, to catch a reply given to the wrong request.
      setTimeout(() => {
        res.writeHead(200 + Number(n), { 'retry-after': n })
        res.write('part-')
        res.end(n)
      }, 40 - 10 * Number(n))
      void req
    })
    const c = client(s.url)
    const replies = await Promise.all([0, 1, 2, 3].map((i) => c.post(body(`body-${i}`), 5000)))
    expect(replies.map((r) => [r.status, r.retryAfter])).toEqual([
      [200, '0'],
      [201, '1'],
      [202, '2'],
      [203, '3'],
    ])
    expect(s.sockets.size).toBe(4)
    // Chunked replies leave their connections reusable: the next four requests open none.
    await Promise.all([0, 1, 2, 3].map((i) => c.post(body(`body-${i}`), 5000)))
    expect(s.sockets.size).toBe(4)
  })

  it('opens a fresh connection instead of one the server closed while idle', async () => {
    const s = await rawServer((socket) => {
      socket.write('HTTP/1.1 204 No Content\r\n\r\n')
      // The server's keep-alive timeout, shortened.
      setTimeout(() => socket.end(), 20)
    })
    const c = client(s.url)
    await c.post(body('a'), 5000)
    expect(c.connections).toBe(1)
    await new Promise((r) => setTimeout(r, 80))
    expect(c.connections).toBe(0)
    expect((await c.post(body('b'), 5000)).status).toBe(204)
    expect(s.connections()).toBe(2)
  })

  it('closes idle connections older than idleMs rather than racing the server that is about to close them', async () => {
    const s = await httpServer((_req, res) => res.writeHead(200, { 'content-length': 0 }).end())
    const c = client(s.url, {}, { idleMs: 30 })
    await c.post(body('a'), 5000)
    await new Promise((r) => setTimeout(r, 60))
    await c.post(body('b'), 5000)
    expect(s.seen.map((r) => r.socket)).toHaveLength(2)
    expect(s.seen[0]!.socket).not.toBe(s.seen[1]!.socket)
  })

  it('sends a request again on a fresh connection when a reused one closes before any reply', async () => {
    const s = await rawServer((socket, n) => {
      // The second request on a connection meets a server closing it, as an idle timeout firing just then.
      if (n === 2) socket.destroy()
      else socket.write('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n')
    })
    const c = client(s.url)
    expect((await c.post(body('one'), 5000)).status).toBe(200)
    expect((await c.post(body('two'), 5000)).status).toBe(200)
    expect(s.connections()).toBe(2)
  })

  it('does not send again when the first connection fails, or when part of a reply arrived', async () => {
    const s = await rawServer((socket) => {
      socket.write('HTTP/1.1 200 OK\r\nContent-Len')
      socket.destroy()
    })
    const c = client(s.url)
    await expect(c.post(body('x'), 5000)).rejects.toThrow(/in the middle of the response/)
    expect(s.connections()).toBe(1)
  })

  it('reads a reply framed by the close, and does not reuse that connection', async () => {
    const s = await rawServer((socket) => {
      socket.end('HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\n\r\nall done')
    })
    const c = client(s.url)
    expect(await c.post(body('x'), 5000)).toEqual({ status: 200, retryAfter: undefined, reusable: false })
    expect(await c.post(body('y'), 5000)).toMatchObject({ status: 200 })
    expect(s.connections()).toBe(2)
    expect(c.connections).toBe(0)
  })

  it('closes a connection whose reply came before the whole body was written, so no old bytes precede the next request', async () => {
    const server = createNetServer((socket) => {
      socket.once('data', () => {
        // Replies at once and stops reading: the client's 32 MB body stays queued on its socket.
        socket.pause()
        socket.write('HTTP/1.1 413 Payload Too Large\r\nContent-Length: 0\r\n\r\n')
      })
      socket.on('error', () => {})
    })
    const url = await listen(server)
    closers.push(() => server.close())
    const c = client(url)
    expect((await c.post(new Uint8Array(32 * 1024 * 1024), 5000)).status).toBe(413)
    expect(c.connections).toBe(0)
  })

  it('fails a request the server never answers after its timeout, and closes that connection', async () => {
    const s = await rawServer(() => {})
    const c = client(s.url)
    const t0 = Date.now()
    await expect(c.post(body('x'), 150)).rejects.toThrow(/timed out after 150 ms/)
    expect(Date.now() - t0).toBeLessThan(2000)
    expect(c.connections).toBe(0)
  })

  it('fails on a reply that is not HTTP with a protocol error, and the next request opens a new connection', async () => {
    const s = await rawServer((socket, _n, connection) => {
      socket.write(connection === 1 ? 'SSH-2.0-OpenSSH_9.6\r\n\r\n' : 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n')
    })
    const c = client(s.url)
    await expect(c.post(body('x'), 5000)).rejects.toBeInstanceOf(Http1ProtocolError)
    expect((await c.post(body('y'), 5000)).status).toBe(200)
    expect(s.connections()).toBe(2)
  })

  it('rejects when nothing listens, and after close()', async () => {
    const c = client('http://127.0.0.1:1/v1/traces')
    await expect(c.post(body('x'), 5000)).rejects.toThrow(/ECONNREFUSED/)
    const s = await rawServer(() => {})
    const d = client(s.url)
    const pending = d.post(body('x'), 5000)
    await new Promise((r) => setTimeout(r, 20))
    d.close()
    await expect(pending).rejects.toThrow(/shut down/)
    await expect(d.post(body('y'), 5000)).rejects.toThrow(/shut down/)
  })

  it('tells a failure that found no endpoint (refused, no such host, no reply in time) from a server that cut its reply', async () => {
    const failure = (p: Promise<unknown>) => p.then(() => undefined, (err: unknown) => err)
    expect(isUnreachable(await failure(client('http://127.0.0.1:1/v1/traces').post(body('x'), 5000)))).toBe(true)
    expect(isUnreachable(await failure(client('http://no-such-host.invalid/v1/traces').post(body('x'), 5000)))).toBe(true)
    const silent = await rawServer(() => {})
    expect(isUnreachable(await failure(client(silent.url).post(body('x'), 150)))).toBe(true)
    const cut = await rawServer((socket) => socket.destroy())
    expect(isUnreachable(await failure(client(cut.url).post(body('x'), 5000)))).toBe(false)
    const partial = await rawServer((socket) => {
      socket.write('HTTP/1.1 200 OK\r\nContent-Len')
      socket.destroy()
    })
    expect(isUnreachable(await failure(client(partial.url).post(body('x'), 5000)))).toBe(false)
  })

  it('turns credentials in the URL into Basic auth unless a header authorizes, and lets a Host header through', async () => {
    const s = await httpServer((_req, res) => res.writeHead(200).end())
    await client(s.url.replace('//', '//ada:p%40ss@')).post(body('x'), 5000)
    expect(s.seen[0]!.headers.authorization).toBe(`Basic ${Buffer.from('ada:p@ss').toString('base64')}`)
    await client(s.url.replace('//', '//ada:pw@'), { Authorization: 'Bearer k', host: 'spanlens.example' }).post(body('x'), 5000)
    expect(s.seen[1]!.headers).toMatchObject({ authorization: 'Bearer k', host: 'spanlens.example' })
    // A malformed escape is sent as written, not a crash at init().
    await client(s.url.replace('//', '//ada:100%zz@')).post(body('x'), 5000)
    expect(s.seen[2]!.headers.authorization).toBe(`Basic ${Buffer.from('ada:100%zz').toString('base64')}`)
  })

  it('never keeps a process alive by itself, busy or idle: the caller that waits holds it, as long as it waits', async () => {
    // One reply takes 300 ms, then the server keeps the connection open for a minute; another request is never answered.
    const s = await httpServer((req, res) => {
      if (req.url !== '/hang') setTimeout(() => res.writeHead(204).end(), 300)
    }, 60_000)
    const module = fileURLToPath(new URL('../src/export/http1-client.ts', import.meta.url))
    const script = `
      const { Http1Client } = await import(${JSON.stringify(module)})
      const t = Date.now()
      // The caller's own timer is what keeps this process waiting for the reply.
      const hold = setTimeout(() => {}, 5000)
      const r = await new Http1Client(new URL(process.argv[1]), {}).post(new Uint8Array(1), 5000)
      clearTimeout(hold)
      console.log(JSON.stringify({ status: r.status, waited: Date.now() - t }))
      // Nobody waits for this one: its ref'd socket would hold the process for its whole 20 s timeout.
      void new Http1Client(new URL('/hang', process.argv[1]), {}).post(new Uint8Array(1), 20_000).catch(() => {})`
    const t0 = Date.now()
    const out = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, s.url], { timeout: 30_000 }, (err, stdout) =>
        err ? reject(err) : resolve(stdout),
      ),
    )
    expect(JSON.parse(out)).toMatchObject({ status: 204 })
    expect(JSON.parse(out).waited).toBeGreaterThanOrEqual(250)
    // Exited on its own, long before the server's keep-alive timeout and the unanswered request's timeout.
    expect(Date.now() - t0).toBeLessThan(15_000)
  })

  it('refuses headers that would break the request', () => {
    expect(() => new Http1Client(new URL('http://127.0.0.1:1'), { 'x-a': 'ok\r\nx-injected: 1' })).toThrow(/line break/)
    expect(() => new Http1Client(new URL('http://127.0.0.1:1'), { 'bad name': 'v' })).toThrow(/not an HTTP token/)
    expect(() => new Http1Client(new URL('ftp://127.0.0.1:1'), {})).toThrow(/not an http/)
  })

  const openssl = (() => {
    try {
      execFileSync('openssl', ['version'], { stdio: 'ignore' })
      return true
    } catch {
      return false
    }
  })()

  it.skipIf(!openssl)('speaks TLS to an https: URL, with SNI, and refuses a certificate it cannot verify', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'spanlens-sdk-tls-'))
    closers.push(() => rmSync(dir, { recursive: true, force: true }))
    const cert = join(dir, 'cert.pem')
    const key = join(dir, 'key.pem')
    // prettier-ignore
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
      '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost', '-keyout', key, '-out', cert,
    ], { stdio: 'ignore' })
    const names: (string | false | null)[] = []
    const server = createHttpsServer({ cert: readFileSync(cert), key: readFileSync(key) }, (req, res) => {
      names.push((req.socket as import('node:tls').TLSSocket).servername)
      req.resume()
      req.on('end', () => res.writeHead(200, { 'content-length': 0 }).end())
    })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()))
    closers.push(() => {
      server.closeAllConnections()
      server.close()
    })
    const url = `https://localhost:${(server.address() as AddressInfo).port}/v1/traces`
    const trusted = client(url, {}, { tls: { ca: readFileSync(cert) } })
    expect((await trusted.post(body('x'), 5000)).status).toBe(200)
    expect((await trusted.post(body('y'), 5000)).status).toBe(200)
    expect(names).toEqual(['localhost', 'localhost'])
    expect(trusted.connections).toBe(1)
    await expect(client(url).post(body('x'), 5000)).rejects.toThrow(/self[- ]signed/i)
  })
})
