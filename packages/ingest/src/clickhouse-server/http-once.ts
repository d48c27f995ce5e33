import { request } from 'node:http'

/**
 * One HTTP request on a connection of its own, closed afterwards. The engine's
 * HTTP server waits for open connections when it stops (ClickHouse's
 * shutdown_wait_unfinished, 5 s): fetch's pooled keep-alive sockets made every
 * stop take 5 s longer.
 */
export function httpOnce(
  url: string,
  options: { method?: 'GET' | 'POST'; body?: string; headers?: Record<string, string>; timeoutMs: number },
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: options.method ?? 'GET', headers: { ...options.headers, connection: 'close' }, agent: false }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => (body += chunk))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
      res.on('error', reject)
    })
    req.setTimeout(options.timeoutMs, () => req.destroy(new Error(`no answer from ${url} within ${options.timeoutMs} ms`)))
    req.on('error', reject)
    req.end(options.body)
  })
}
