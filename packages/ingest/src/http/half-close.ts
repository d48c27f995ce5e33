import type { Server } from 'node:http'

/**
 * A client may end its side of the connection (a TCP half-close, `shutdown(SHUT_WR)`) once its
 * request is sent, and still read the reply. Node's HTTP server ends its own side as soon as
 * that FIN arrives unless `httpAllowHalfOpen` is set (lib/_http_server.js, socketOnEnd; false by
 * default, and absent from @types/node): a reply still being made is then never sent, while its
 * request is acted on (an export spooled and acknowledged internally, its client shown a
 * connection closed without an answer). Set, the reply in progress is sent and the connection
 * closes after it; with no request in progress it closes at once, and a request cut short by
 * the FIN is the parser's error, as before (http/client-error.ts).
 */
export function answerHalfClosedClients(server: Server): void {
  Object.assign(server, { httpAllowHalfOpen: true })
}
