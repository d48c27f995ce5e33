import { readFileSync } from 'node:fs'
import type { Http2Server } from 'node:http2'
import { formatWithOptions } from 'node:util'
import { Server, ServerCredentials, setLogger } from '@grpc/grpc-js'
import type { GrpcConfig } from '../config/load.js'
import { errors } from '../errors.js'
import { callInterceptor, type CallPolicy, unaryHandler } from './call.js'
import type { ConnectionLimit } from '../http/connection-limit.js'
import { widenConnectionWindow, widenStreamWindow } from './flow-control.js'
import { answerHalfClosedClients, closeSessionsOnClientEnd } from './half-close.js'
import { boundHttp2Servers } from './internals.js'
import type { GrpcService } from './services.js'

const identity = (bytes: Buffer): Buffer => bytes

/**
 * The OTLP/gRPC receiver: a grpc-js server on its own port beside the HTTP one,
 * serving a table of services (grpc/services.ts) through one call policy
 * (grpc/call.ts). buildServer makes it; `spanlens serve` binds it after the HTTP
 * port, and the app's close drains it before the pipeline stops.
 */
export class GrpcReceiver {
  private readonly server: Server
  private readonly log: CallPolicy['log']
  private readonly hooked = new WeakSet<Http2Server>()

  constructor(
    private readonly config: GrpcConfig,
    services: GrpcService[],
    policy: CallPolicy,
    /** The budget of connections shared with the HTTP listener. */
    private readonly connections?: ConnectionLimit,
  ) {
    // grpc-js writes its own diagnostics (a failed bind, say) to stderr; into the
    // server's JSON log instead. It has one logger per process: the receiver made last.
    const log = (...args: unknown[]) => policy.log.warn({ detail: formatWithOptions({ colors: false }, ...args) }, 'grpc-js')
    setLogger({ error: log, info: log, debug: log })
    this.log = policy.log
    this.server = new Server({
      interceptors: [callInterceptor(policy)],
      // grpc-js applies it to the message as sent and again as it inflates, stopping a
      // gzip bomb at the limit: the same limit, after decompression, as OTLP/HTTP.
      'grpc.max_receive_message_length': policy.bodyLimit,
    })
    for (const service of services) {
      this.server.register(service.path, unaryHandler(service, policy), identity, identity, 'unary')
    }
    widenStreamWindow(this.server, policy.log)
    answerHalfClosedClients(this.server, policy.log)
  }

  /** Binds the port (TLS when configured); resolves with `host:port`, the port as bound. */
  async listen(): Promise<string> {
    const { host, port, tls } = this.config
    const credentials = tls
      ? ServerCredentials.createSsl(null, [{ cert_chain: readPem(tls.certPath), private_key: readPem(tls.keyPath) }], false)
      : ServerCredentials.createInsecure()
    const shown = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host
    const bound = await new Promise<number>((resolve, reject) => {
      this.server.bindAsync(`${shown}:${port}`, credentials, (err, actual) => {
        if (!err) resolve(actual)
        else if (/EADDRINUSE/.test(err.message)) reject(errors.GRPC_PORT_IN_USE(host, port, { cause: err }))
        else reject(err)
      })
    })
    // grpc-js keeps every HTTP/2 server bound so far: each is hooked once, at the bind that made
    // it, or a second listen() would count the first port's connections twice.
    const added = boundHttp2Servers(this.server).filter((s) => !this.hooked.has(s))
    if (added.length === 0) {
      this.log.warn(
        'grpc-js keeps no HTTP/2 servers where expected: OTLP/gRPC connections get the HTTP/2 default window (64 KiB), are not closed when the client ends its side, and are not held to SPANLENS_MAX_CONNECTIONS',
      )
    }
    for (const http2Server of added) {
      this.hooked.add(http2Server)
      widenConnectionWindow(http2Server, this.log)
      closeSessionsOnClientEnd(http2Server)
      this.connections?.watch(http2Server, 'grpc')
    }
    return `${shown}:${bound}`
  }

  /**
   * Stops taking calls and lets those in flight finish for up to `deadlineMs`, then
   * cancels the rest: a cancelled call was not acknowledged, so its exporter retries.
   */
  async close(deadlineMs: number): Promise<void> {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.server.forceShutdown()
        resolve()
      }, deadlineMs)
      this.server.tryShutdown(() => {
        clearTimeout(timer)
        resolve()
      })
    })
  }
}

function readPem(path: string): Buffer {
  try {
    return readFileSync(path)
  } catch (err) {
    throw errors.CONFIG_FILE_UNREADABLE(path, (err as Error).message, { cause: err })
  }
}
