import type { Socket } from 'node:net'
import { maxHeaderSize, STATUS_CODES } from 'node:http'
import type { Logger } from 'pino'
import { errors, type SpanlensError } from '../errors.js'

/**
 * Node's HTTP parser refuses some requests before any route sees them: headers over
 * its limit, a malformed request line (a raw non-ASCII byte in the URL), a request
 * that did not arrive in time. Fastify answered those in a shape of its own,
 * `{"error":"Bad Request","message":"Client Error"}`; here they get the catalogue's
 * code and shape, as every other refusal does, and the connection closes.
 */
export function clientErrorHandler(log: Logger): (err: NodeJS.ErrnoException, socket: Socket) => void {
  return (err, socket) => {
    // A reset connection has no one to answer (https://nodejs.org/api/http.html#event-clienterror).
    if (err.code === 'ECONNRESET' || socket.destroyed) return
    const refusal = toRefusal(err)
    log.debug({ err }, 'malformed HTTP request refused')
    if (socket.writable) {
      const body = JSON.stringify(refusal.toJSON())
      socket.write(
        `HTTP/1.1 ${refusal.statusCode} ${STATUS_CODES[refusal.statusCode] ?? ''}\r\nContent-Type: application/json; charset=utf-8\r\n` +
          `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      )
    }
    socket.destroy()
  }
}

function toRefusal(err: NodeJS.ErrnoException): SpanlensError {
  if (err.code === 'HPE_HEADER_OVERFLOW') return errors.HEADERS_TOO_LARGE(maxHeaderSize)
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') return errors.REQUEST_TIMEOUT()
  // llhttp's reason, e.g. "Invalid character in URL" or "Invalid header value char".
  const { reason } = err as { reason?: unknown }
  const why = typeof reason === 'string' ? reason : (err.code ?? err.message)
  return errors.BAD_REQUEST(`malformed HTTP request: ${why} (a URL's non-ASCII characters are sent percent-encoded)`)
}
