import { createServer, request, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

/**
 * 'refuse': nothing listens (connect fails with ECONNREFUSED), as when ClickHouse is down;
 * 'lose-inserts': an INSERT reaches ClickHouse and is answered, then the connection is cut
 * before the answer reaches the client, as when a reply is lost on the network.
 */
export type ProxyFault = 'ok' | 'refuse' | 'lose-inserts'

export interface FaultProxy {
  url: string
  fault: ProxyFault
  /** INSERTs that ClickHouse answered and the client never heard of. */
  readonly lostReplies: number
  close(): Promise<void>
}

/** An HTTP proxy on 127.0.0.1 in front of a served ClickHouse, for network faults between Spanlens and its store. */
export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const upstream = new URL(target)
  let fault: ProxyFault = 'ok'
  let lostReplies = 0
  const server: Server = createServer((req, res) => {
    const isInsert = /^\s*INSERT\b/i.test(new URL(req.url ?? '/', 'http://x').searchParams.get('query') ?? '')
    const out = request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers }, (reply) => {
      if (fault === 'lose-inserts' && isInsert) {
        // ClickHouse answers an INSERT once it is done with it: read the whole answer, then cut.
        reply.resume()
        reply.on('end', () => {
          lostReplies++
          req.socket.destroy()
        })
        return
      }
      res.writeHead(reply.statusCode ?? 502, reply.headers)
      reply.pipe(res)
    })
    out.on('error', () => req.socket.destroy())
    req.pipe(out)
  })
  const listen = () => new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve))
  let port = 0
  await listen()
  port = (server.address() as AddressInfo).port
  return {
    url: `http://127.0.0.1:${port}`,
    get fault() {
      return fault
    },
    set fault(next: ProxyFault) {
      if (next === 'refuse' && fault !== 'refuse') {
        server.close()
        server.closeAllConnections()
      } else if (next !== 'refuse' && fault === 'refuse') {
        void listen()
      }
      fault = next
    },
    get lostReplies() {
      return lostReplies
    },
    close: () =>
      new Promise<void>((resolve) => {
        if (!server.listening) return resolve()
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}
