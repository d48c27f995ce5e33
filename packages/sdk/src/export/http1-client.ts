import { connect as netConnect, isIP, type Socket } from 'node:net'
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls'
import { Http1ResponseParser, type Http1Response } from './http1-response.js'

/** RFC 9110 token (a header name); a value is visible ASCII, Latin-1, spaces and tabs, nothing that ends a line. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/
const VALUE = /^[\t\x20-\x7e\x80-\xff]*$/
/** Framing headers this client writes itself. */
const OWN = new Set(['content-length', 'transfer-encoding', 'connection', 'host'])

/** Why a header cannot be sent, or undefined when it can (config.ts reports it at init, naming the option). */
export function headerProblem(name: string, value: string): string | undefined {
  if (!TOKEN.test(name)) return `header name ${JSON.stringify(name)} is not an HTTP token`
  if (!VALUE.test(value)) return `header ${JSON.stringify(name)} has a line break or a control character in its value`
  return undefined
}

/** A URL's user or password, percent-decoded; as written when its escapes are malformed (`%zz`), rather than failing init(). */
function decoded(part: string): string {
  try {
    return decodeURIComponent(part)
  } catch {
    return part
  }
}

export interface Http1ClientOptions {
  /** More TLS options for an https: URL (tests pass their CA). */
  tls?: ConnectionOptions
  /**
   * Idle connections older than this are closed, not reused. Servers close idle
   * keep-alive connections after a few seconds (Node's default: 5 s); a request
   * written just as they do is lost with the connection.
   */
  idleMs?: number
}

/** A reused connection closed before any byte of a reply: the server had closed it as idle. Sent again on a fresh one. */
class ClosedBeforeReply extends Error {}

/** No reply within the request's timeout. */
class TimedOut extends Error {}

/** The system's errors for a connection that could not be made: nothing listens, no such host, no route to it. */
const NO_CONNECTION = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'EADDRNOTAVAIL'])

/**
 * Whether a failed post() found no endpoint to answer it: no connection could be made, or none
 * replied in time. A connection the server reset or closed part way through a reply is not this: it
 * happens to a server that is there (a restart, a proxy's idle close), and a retry usually passes.
 */
export function isUnreachable(err: unknown): boolean {
  if (err instanceof TimedOut) return true
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined
  return typeof code === 'string' && NO_CONNECTION.has(code)
}

/**
 * POSTs to one URL over HTTP/1.1 keep-alive connections made with `net` or
 * `tls` directly, for the exporter's requests (exporter.ts).
 *
 * Why not `node:http`: the exporter sends a request about once a second, and
 * that rare path runs cold. In the app benchmark the export's `node:http`
 * request cost +24…+59 µs CPU per call at one request per 100 calls, the
 * same for a 64-byte body as for 200 KB (bench/sdk/RESULTS.md, session 13). A
 * request here is one write of a prebuilt head and the body, and a small
 * parser over the reply (http1-response.ts).
 *
 * What it does: keep-alive reuse of idle connections, replies framed by
 * Content-Length, chunked or the close, 1xx skipped, a timeout per request,
 * one resend when a reused connection turns out closed, TLS with SNI. What it
 * leaves out, as the `node:http` use it replaces did: proxies, redirects,
 * HTTP/2. Connections never keep the process alive, idle or busy: a request
 * to an endpoint that does not answer would otherwise hold a finished app for
 * the whole request timeout (10 s by default), beyond the exit flush's budget.
 * A caller that waits for a reply holds the process itself, for as long as it
 * is willing to wait (the exporter's flush() does, with its deadline timer).
 */
export class Http1Client {
  private readonly idle: Connection[] = []
  private readonly open = new Set<Connection>()
  /** The request line and every fixed header, without Content-Length and the blank line. */
  private readonly head: string
  private readonly host: string
  private readonly port: number
  private readonly secure: boolean
  private readonly idleMs: number
  private closed = false

  constructor(
    target: URL,
    headers: Record<string, string>,
    private readonly options: Http1ClientOptions = {},
  ) {
    if (target.protocol !== 'http:' && target.protocol !== 'https:') throw new Error(`not an http(s) URL: ${target.href}`)
    this.secure = target.protocol === 'https:'
    this.host = target.hostname.startsWith('[') ? target.hostname.slice(1, -1) : target.hostname
    this.port = target.port ? Number(target.port) : this.secure ? 443 : 80
    this.idleMs = options.idleMs ?? 4000
    let head = `POST ${target.pathname}${target.search} HTTP/1.1\r\n`
    let host = target.host
    // Credentials in the URL become Basic auth unless a header already authorizes, as node:http does.
    if (target.username && !Object.keys(headers).some((n) => n.toLowerCase() === 'authorization')) {
      const credentials = `${decoded(target.username)}:${decoded(target.password)}`
      head += `authorization: Basic ${Buffer.from(credentials).toString('base64')}\r\n`
    }
    for (const name of Object.keys(headers)) {
      const value = headers[name]!
      const problem = headerProblem(name, value)
      if (problem) throw new Error(problem)
      const lower = name.toLowerCase()
      if (lower === 'host') host = value
      else if (!OWN.has(lower)) head += `${name}: ${value}\r\n`
    }
    this.head = `${head}host: ${host}\r\n`
  }

  /** Sends one POST; resolves with the reply's status (any status), rejects on a network, protocol or timeout failure. */
  async post(body: Uint8Array, timeoutMs: number): Promise<Http1Response> {
    if (this.closed) throw new Error('the exporter is shut down')
    const head = `${this.head}content-length: ${body.length}\r\n\r\n`
    const reused = this.takeIdle()
    if (!reused) return this.connect().request(head, body, timeoutMs)
    try {
      return await reused.request(head, body, timeoutMs)
    } catch (err) {
      if (!(err instanceof ClosedBeforeReply) || this.closed) throw err
      return this.connect().request(head, body, timeoutMs)
    }
  }

  /** Connections open now (tests). */
  get connections(): number {
    return this.open.size
  }

  /** Closes every connection; requests on them reject. */
  close(): void {
    this.closed = true
    for (const c of [...this.open]) c.destroy(new Error('the exporter is shut down'))
    this.idle.length = 0
  }

  private takeIdle(): Connection | undefined {
    const now = Date.now()
    for (let c = this.idle.pop(); c; c = this.idle.pop()) {
      if (!c.dead && now - c.idleSince < this.idleMs) return c
      c.destroy()
    }
    return undefined
  }

  private connect(): Connection {
    const socket = this.secure
      ? tlsConnect({
          ...this.options.tls,
          host: this.host,
          port: this.port,
          // SNI takes a host name, never an address.
          ...(isIP(this.host) === 0 ? { servername: this.host } : {}),
          ALPNProtocols: ['http/1.1'],
        })
      : netConnect({ host: this.host, port: this.port })
    const c = new Connection(socket, this)
    this.open.add(c)
    return c
  }

  /** @internal A connection whose reply ended and that may carry another request. */
  release(c: Connection): void {
    if (this.closed || c.dead) return c.destroy()
    c.idleSince = Date.now()
    this.idle.push(c)
  }

  /** @internal */
  forget(c: Connection): void {
    this.open.delete(c)
    const i = this.idle.indexOf(c)
    if (i >= 0) this.idle.splice(i, 1)
  }
}

interface Pending {
  resolve: (r: Http1Response) => void
  reject: (err: unknown) => void
  timer: NodeJS.Timeout
  parser: Http1ResponseParser
}

class Connection {
  dead = false
  idleSince = 0
  /** Whether a request was already answered on this connection. */
  private used = false
  private pending: Pending | undefined

  constructor(
    readonly socket: Socket,
    private readonly client: Http1Client,
  ) {
    // From the connect on: the class comment says why no connection holds the process.
    socket.unref()
    socket.setNoDelay(true)
    socket.setKeepAlive(true, 1000)
    socket.on('data', this.onData)
    socket.on('end', this.onEnd)
    socket.on('error', this.onError)
    socket.on('close', this.onClose)
  }

  request(head: string, body: Uint8Array, timeoutMs: number): Promise<Http1Response> {
    return new Promise<Http1Response>((resolve, reject) => {
      const timer = setTimeout(() => this.destroy(new TimedOut(`export timed out after ${timeoutMs} ms`), true), timeoutMs)
      timer.unref()
      this.pending = { resolve, reject, timer, parser: new Http1ResponseParser() }
      // One write of both (writev): a head in its own packet waits for the peer's delayed ACK on some stacks.
      this.socket.cork()
      this.socket.write(head, 'latin1')
      this.socket.write(body)
      this.socket.uncork()
    })
  }

  private onData = (chunk: Buffer): void => {
    const p = this.pending
    // Bytes nobody asked for (on an idle connection): the connection can no longer be trusted.
    if (!p) return this.destroy()
    let res: Http1Response | undefined
    try {
      res = p.parser.push(chunk)
    } catch (err) {
      return this.destroy(err)
    }
    if (res) this.settle(res)
  }

  /** The server finished sending: a reply framed by the close completes; one cut short fails here. */
  private onEnd = (): void => {
    const p = this.pending
    this.dead = true
    if (!p) return this.destroy()
    let res: Http1Response
    try {
      res = p.parser.end()
    } catch (err) {
      return this.destroy(err)
    }
    this.settle(res)
  }

  private onError = (err: Error): void => this.destroy(err)

  private onClose = (): void => this.destroy(new Error('connection closed'))

  private settle(res: Http1Response): void {
    const p = this.pending!
    this.pending = undefined
    this.used = true
    clearTimeout(p.timer)
    // A reply that came before the whole body was written (an early 413): the rest of the body is
    // still queued on the socket, and the exporter may reuse its buffer; the connection goes.
    if (res.reusable && !this.dead && this.socket.writableLength === 0) this.client.release(this)
    else this.destroy()
    p.resolve(res)
  }

  /** Closes the connection; a request on it rejects with `err` (sent again elsewhere when the connection was stale). */
  destroy(err?: unknown, timedOut = false): void {
    this.dead = true
    this.client.forget(this)
    if (!this.socket.destroyed) this.socket.destroy()
    const p = this.pending
    if (!p) return
    this.pending = undefined
    clearTimeout(p.timer)
    const stale = this.used && !timedOut && !p.parser.started
    p.reject(stale ? new ClosedBeforeReply('connection closed before a reply', { cause: err }) : (err ?? new Error('connection closed')))
  }
}
