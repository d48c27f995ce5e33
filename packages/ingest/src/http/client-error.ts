import type { Socket } from 'node:net'
import { maxHeaderSize, type ServerResponse, STATUS_CODES } from 'node:http'
import type { Logger } from 'pino'
import { errors, PRIVATE_REPLY_HEADERS, type SpanlensError } from '../errors.js'
import { isDiscardingBody } from './discard-body.js'

/**
 * Node's HTTP parser refuses some requests before any route sees them: headers over
 * its limit, a malformed request line (a raw non-ASCII byte in the URL), a request
 * that did not arrive in time. Fastify answered those in a shape of its own,
 * `{"error":"Bad Request","message":"Client Error"}`; here they get the catalogue's
 * code and shape, as every other refusal does, and the connection closes.
 *
 * A parser error can also come while a route is answering a request on the same
 * connection: the bytes after its body did not parse (a Content-Length shorter than
 * the body sent), or the client ended its side before the body was whole (one
 * longer). Writing a refusal then would come before, or inside, the route's own
 * reply, and closing at once would lose that reply; the route answers instead
 * (inFlight below).
 */
export function clientErrorHandler(log: Logger): (err: NodeJS.ErrnoException, socket: Socket) => void {
  return (err, socket) => {
    // A reset connection has no one to answer (https://nodejs.org/api/http.html#event-clienterror).
    if (err.code === 'ECONNRESET' || socket.destroyed) return
    const answering = inFlight(socket)
    // A body being dropped after its request was refused (http/discard-body.ts) that turns out
    // malformed, stops short or runs out of time: that request has its reply, so no second one;
    // the connection closes once the reply is sent.
    if (isDiscardingBody(socket)) {
      log.debug({ err }, 'a refused request’s body, being dropped, ended badly: the connection closes')
      if (answering) answering.once('finish', () => socket.destroy())
      else socket.destroy()
      return
    }
    if (answering && (answering.req.complete || err.code === 'HPE_INVALID_EOF_STATE')) {
      log.debug({ err }, 'connection ended or unparsable after a request: its reply is sent, then the connection closes')
      letRouteAnswer(err, socket, answering)
      return
    }
    log.debug({ err }, 'malformed HTTP request refused')
    // A request whose body can never be whole (a malformed chunk, Node's request timeout) is
    // refused here; a reply already under way is cut, as Node's own handler does.
    const refusal = toRefusal(err)
    if (socket.writable && !answering?.headersSent) {
      const body = JSON.stringify(refusal.toJSON())
      const headers = Object.entries(PRIVATE_REPLY_HEADERS).map(([name, value]) => `${name}: ${value}\r\n`).join('')
      socket.write(
        `HTTP/1.1 ${refusal.statusCode} ${STATUS_CODES[refusal.statusCode] ?? ''}\r\nContent-Type: application/json; charset=utf-8\r\n${headers}` +
          `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      )
    }
    socket.destroy()
  }
}

/**
 * The response a route has still to finish on this connection. Node keeps it as the
 * socket's `_httpMessage` until it is finished, and its own default clientError
 * handler looks there for the same reason (lib/_http_server.js, socketOnError).
 */
function inFlight(socket: Socket): ServerResponse | undefined {
  const res = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage
  return res && !res.writableFinished ? res : undefined
}

/**
 * The parser stopped on a connection whose request is being answered: that reply is
 * sent, then the connection closes. Whatever came after the request is not read, so
 * it is neither answered nor acted on. A body the client stopped sending (it ended
 * its side with fewer bytes than its Content-Length) ends here as cut short, which
 * the route's body reader refuses (400), instead of waiting for bytes that cannot
 * come until a timeout.
 */
function letRouteAnswer(err: NodeJS.ErrnoException, socket: Socket, res: ServerResponse): void {
  const req = res.req
  if (err.code === 'HPE_INVALID_EOF_STATE' && !req.complete && !req.readableEnded) {
    // A request stream that ends incomplete destroys itself and, with it, the socket the
    // reply is to go out on (IncomingMessage's _destroy): it ends here without destroying
    // itself; the socket closes once the reply is sent.
    const state = (req as typeof req & { _readableState?: { autoDestroy?: boolean } })._readableState
    if (state) state.autoDestroy = false
    req.push(null)
  }
  if (!res.headersSent) res.setHeader('connection', 'close')
  // With `Connection: close` Node ends the socket after the reply; this covers a reply already under way.
  else res.once('finish', () => socket.destroySoon())
}

/** What each of llhttp's errors means for the client that sent the request (llhttp's reason follows in the message). */
const PARSER_FAULTS: Record<string, string> = {
  HPE_INVALID_URL: "the URL has a character HTTP does not allow (a URL's spaces and non-ASCII characters are sent percent-encoded)",
  HPE_INVALID_METHOD:
    'the request does not start with an HTTP method (on a kept-alive connection: bytes after the previous request, whose Content-Length may have been shorter than its body)',
  HPE_INVALID_CONSTANT: 'the request line is not `METHOD /path HTTP/1.1`',
  HPE_UNEXPECTED_SPACE: 'the request has whitespace where HTTP does not allow it',
  HPE_INVALID_VERSION: 'the request line does not end in a supported HTTP version (HTTP/1.0 or HTTP/1.1)',
  HPE_INVALID_HEADER_TOKEN: 'a header name or value has a character HTTP does not allow',
  HPE_CR_EXPECTED: 'a line of the request does not end in CRLF',
  HPE_LF_EXPECTED: 'a line of the request does not end in CRLF',
  HPE_STRICT: 'a line of the request does not end in CRLF',
  HPE_INVALID_CONTENT_LENGTH: 'the Content-Length header is not one whole number',
  HPE_UNEXPECTED_CONTENT_LENGTH: 'the request has more than one Content-Length header',
  HPE_INVALID_TRANSFER_ENCODING: 'the Transfer-Encoding header does not name chunked once, as its last coding (the only framing of a request body)',
  HPE_INVALID_CHUNK_SIZE: 'a chunk of the chunked body has an invalid size line',
  HPE_CHUNK_EXTENSIONS_OVERFLOW: 'a chunk of the chunked body has more extensions than the server reads',
  // With no reply under way: the headers were cut, or a body whose request was already answered.
  HPE_INVALID_EOF_STATE: 'the client ended the connection before the request was complete',
}

const BOTH_FRAMINGS = 'the request has both Content-Length and Transfer-Encoding, which a request may not send together (RFC 9112 §6.3)'
const CHUNK_EXTENSION = 'a chunk extension of the chunked body has a character HTTP does not allow'

/**
 * llhttp's reasons for a fault other than the one their code names above: one code stands for
 * several faults. Both body framings at once are refused as a bad Transfer-Encoding or a bad
 * Content-Length, whichever of the two headers came second (llhttp 9).
 */
const REASON_FAULTS: Record<string, string> = {
  "Transfer-Encoding can't be present with Content-Length": BOTH_FRAMINGS,
  "Content-Length can't be present with Transfer-Encoding": BOTH_FRAMINGS,
  'Content-Length overflow': 'the Content-Length header is a number larger than any body',
  'Empty Content-Length': 'the Content-Length header is empty',
  'Request has invalid `Transfer-Encoding`': 'the Transfer-Encoding header does not end in chunked (the only framing of a request body)',
  'Expected CRLF after version': 'the request line does not end in CRLF right after its HTTP version',
  'Unexpected space after start line': 'a header line starts with whitespace (a folded line, which HTTP/1.1 forbids)',
  'Expected LF after chunk data': 'a chunk of the chunked body is longer than its size line says (its data is not followed by CRLF)',
  'Invalid character in chunk extensions name': CHUNK_EXTENSION,
  'Invalid character in chunk extensions value': CHUNK_EXTENSION,
  'Invalid character in chunk extensions quoted value': CHUNK_EXTENSION,
}

/** The first byte of a TLS handshake record. */
const TLS_HANDSHAKE = 0x16

function toRefusal(err: NodeJS.ErrnoException): SpanlensError {
  if (err.code === 'HPE_HEADER_OVERFLOW') return errors.HEADERS_TOO_LARGE(maxHeaderSize)
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') return errors.REQUEST_TIMEOUT()
  const { reason, rawPacket } = err as { reason?: unknown; rawPacket?: unknown }
  // llhttp's reason, e.g. "Invalid character in URL" or "Invalid header value char".
  const why = typeof reason === 'string' ? reason : (err.code ?? err.message)
  if (err.code === 'HPE_INVALID_METHOD' && Buffer.isBuffer(rawPacket) && rawPacket[0] === TLS_HANDSHAKE) {
    return errors.BAD_REQUEST(`malformed HTTP request: a TLS handshake; this port serves plain HTTP (http://, not https://) (${why})`)
  }
  const fault = (typeof reason === 'string' ? REASON_FAULTS[reason] : undefined) ?? (err.code === undefined ? undefined : PARSER_FAULTS[err.code])
  return errors.BAD_REQUEST(`malformed HTTP request: ${fault === undefined ? why : `${fault} (${why})`}`)
}
