import type { IncomingMessage } from 'node:http'

/**
 * Bytes of a body nobody reads that are read, and dropped, after its answer: a kept-alive
 * connection whose request announced a short body goes on to its next request, and a client
 * still sending a longer one has its answer before the connection closes (closed with bytes
 * unread, the kernel resets it, and a client can lose an answer it has not read yet). The
 * largest body a route of the query API reads (query/src/routes/index.ts) is this size.
 */
const DISCARDED_BODY_BYTES = 1024 * 1024

/**
 * For a request answered without its body (no route takes it, or its key is refused): the
 * body is dropped as it arrives, and the connection closes past DISCARDED_BODY_BYTES. Node
 * would otherwise read the whole body, whatever its length, to reach the next request.
 */
export function discardBody(req: IncomingMessage): void {
  if (req.complete || req.listenerCount('data') > 0) return
  let read = 0
  req.on('data', (chunk: Buffer) => {
    read += chunk.length
    if (read > DISCARDED_BODY_BYTES) req.socket.destroy()
  })
}
