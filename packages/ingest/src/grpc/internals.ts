import type { Http2Server, SecureServerOptions } from 'node:http2'
import type { Server } from '@grpc/grpc-js'

/**
 * What the receiver sets on grpc-js 1.14's server that it has no option for: the options it
 * passes to `http2.createServer` (or `createSecureServer`) for each address it binds, and the
 * Node HTTP/2 servers it then keeps. A grpc-js release that moves them leaves these undefined
 * or empty; each caller logs that it serves with Node's defaults instead.
 */
interface GrpcServerInternals {
  commonServerOptions?: SecureServerOptions
  http2Servers?: Map<Http2Server, unknown>
}

/** Before bind: the options each HTTP/2 server is created with, or undefined where grpc-js keeps them elsewhere. */
export function http2ServerOptions(server: Server): SecureServerOptions | undefined {
  const options = (server as unknown as GrpcServerInternals).commonServerOptions
  return typeof options === 'object' && options !== null ? options : undefined
}

/**
 * After bind: the Node HTTP/2 servers grpc-js listens with (one per address bound),
 * or none where a grpc-js release keeps them elsewhere.
 */
export function boundHttp2Servers(server: Server): Http2Server[] {
  const servers = (server as unknown as GrpcServerInternals).http2Servers
  return servers instanceof Map ? [...servers.keys()] : []
}
