import type { Http2Server, Http2Session } from 'node:http2'
import type { Server } from '@grpc/grpc-js'
import type { Logger } from 'pino'
import { http2ServerOptions } from './internals.js'

/**
 * An OTLP/gRPC client that ends its side of the TCP connection once its call is sent still gets
 * the call's status, as an HTTP/1.1 client does (http/half-close.ts). The sockets of a Node
 * HTTP/2 server are not half-open by default: the client's FIN ended the server's side at once,
 * and a call still being answered was never answered, though acted on (its spans spooled).
 *
 * Before bind: the HTTP/2 servers grpc-js creates take half-open sockets.
 */
export function answerHalfClosedClients(server: Server, log: Logger): void {
  const options = http2ServerOptions(server)
  if (!options) {
    log.warn('grpc-js keeps no server options where expected: an OTLP/gRPC client that half-closes its connection gets no status')
    return
  }
  options.allowHalfOpen = true
}

/**
 * After bind: a session whose client has ended its side is closed as the calls it has open end
 * (GOAWAY, then the connection once they have): it can open no more, and a half-open socket
 * is otherwise never closed by its client. A call whose message never finishes ends at
 * SPANLENS_BODY_TIMEOUT_MS (grpc/call.ts), so none holds the connection longer.
 */
export function closeSessionsOnClientEnd(http2Server: Http2Server): void {
  http2Server.on('session', (session: Http2Session) => {
    session.socket.once('end', () => {
      if (!session.closed && !session.destroyed) session.close()
    })
  })
}
