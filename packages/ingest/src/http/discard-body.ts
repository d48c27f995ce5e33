import type { IncomingMessage } from 'node:http'
import type { Socket } from 'node:net'

/**
 * Bytes of a body nobody reads that are read, and dropped, after its answer: a kept-alive
 * connection whose request announced a short body goes on to its next request, and a client
 * still sending a longer one has its answer before the connection closes (closed with bytes
 * unread, the kernel resets it, and a client can lose an answer it has not read yet). The
 * largest body a route of the query API reads (query/src/routes/index.ts) is this size.
 */
const DISCARDED_BODY_BYTES = 1024 * 1024

/** The request on each connection whose body is being dropped after its answer. */
const discarding = new WeakMap<Socket, IncomingMessage>()

/**
 * For a request answered without its body (no route takes it, its key is refused, or the
 * body itself is refused while it arrives): the body is dropped as it arrives, the connection
 * staying open for it, and closes past `maxBytes` of it. Node would otherwise read the whole
 * body, whatever its length, to reach the next request.
 */
export function discardBody(req: IncomingMessage, maxBytes = DISCARDED_BODY_BYTES): void {
  if (req.complete || req.listenerCount('data') > 0) return
  discarding.set(req.socket, req)
  let read = 0
  req.on('data', (chunk: Buffer) => {
    read += chunk.length
    if (read > maxBytes) req.socket.destroy()
  })
  req.resume()
}

/**
 * Whether the request on `socket` has been answered, or is being, without its body, which is
 * still arriving: its reply keeps the connection open for it, and a fault or a time-out in
 * that body ends the connection without a second reply to the same request.
 */
export function isDiscardingBody(socket: Socket): boolean {
  const req = discarding.get(socket)
  return req !== undefined && !req.complete
}
