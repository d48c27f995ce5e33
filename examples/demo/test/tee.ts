import { createServer, type IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface Tee {
  url: string
  /** Requests the second server did not answer with 2xx: each as `METHOD path status`. */
  secondFailures: string[]
  close(): Promise<void>
}

/**
 * An HTTP endpoint that sends every request to two servers and answers with the
 * first one's reply, so that one workload lands, request for request, in two
 * Spanlens servers over different stores.
 */
export async function startTee(first: string, second: string): Promise<Tee> {
  const secondFailures: string[] = []
  const forward = (base: string, method: string, path: string, headers: IncomingHttpHeaders, body: Buffer) => {
    const { host: _host, connection: _connection, 'content-length': _length, ...rest } = headers
    return fetch(`${base}${path}`, { method, headers: rest as Record<string, string>, ...(body.length > 0 ? { body } : {}) })
  }
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const body = Buffer.concat(chunks)
      const method = req.method ?? 'GET'
      const path = req.url ?? '/'
      const other = forward(second, method, path, req.headers, body).then(
        async (r) => {
          await r.arrayBuffer()
          if (r.status >= 300) secondFailures.push(`${method} ${path} ${r.status}`)
        },
        (err: Error) => secondFailures.push(`${method} ${path} ${err.message}`),
      )
      forward(first, method, path, req.headers, body).then(
        async (r) => {
          const reply = Buffer.from(await r.arrayBuffer())
          await other
          res.writeHead(r.status, { 'content-type': r.headers.get('content-type') ?? 'application/octet-stream' })
          res.end(reply)
        },
        () => other.then(() => res.destroy()),
      )
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    secondFailures,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}
