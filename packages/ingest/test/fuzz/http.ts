import { request } from 'node:http'

export interface Answer {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: Buffer
  ms: number
}

/**
 * One HTTP request with the path sent byte for byte (fetch would normalise it)
 * and a hard deadline: a server that does not answer in `timeoutMs` is a failure,
 * reported as status 0 with the error text in the body.
 */
export function send(
  baseUrl: string,
  opts: { method: string; path: string; headers?: Record<string, string>; body?: Buffer; timeoutMs: number; abortAfterBytes?: number },
): Promise<Answer> {
  const url = new URL(baseUrl)
  const started = performance.now()
  return new Promise((resolve) => {
    let settled = false
    const done = (a: Omit<Answer, 'ms'>) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      resolve({ ...a, ms: performance.now() - started })
    }
    const headers: Record<string, string> = { ...(opts.headers ?? {}) }
    if (opts.body) headers['content-length'] = String(opts.body.length)
    const req = request({ host: url.hostname, port: url.port, method: opts.method, path: opts.path, headers, agent: false })
    const timer = setTimeout(() => {
      req.destroy()
      done({ status: 0, headers: {}, body: Buffer.from(`no answer within ${opts.timeoutMs} ms`) })
    }, opts.timeoutMs)
    req.on('response', (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => done({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }))
      res.on('error', (err) => done({ status: 0, headers: {}, body: Buffer.from(`response error: ${err.message}`) }))
    })
    req.on('error', (err) => done({ status: 0, headers: {}, body: Buffer.from(`request error: ${err.message}`) }))
    if (opts.abortAfterBytes !== undefined && opts.body) {
      // Half the body, a pause long enough for the server to admit the request, then the socket dies.
      req.write(opts.body.subarray(0, opts.abortAfterBytes))
      setTimeout(() => {
        req.destroy()
        done({ status: -1, headers: {}, body: Buffer.from('aborted by the client mid-body') })
      }, 30)
      return
    }
    req.end(opts.body)
  })
}

/**
 * An upload that starts and then stalls: headers and a few bytes of a body that
 * claims to be `totalBytes` long. What a slow or hostile client holds open; `close`
 * drops the connection. Resolves with the server's answer if it gives one first.
 */
export function stalledUpload(
  baseUrl: string,
  opts: { path: string; headers: Record<string, string>; totalBytes: number; firstBytes: Buffer },
): { answer: Promise<number>; close: () => void } {
  const url = new URL(baseUrl)
  let close = () => {}
  const answer = new Promise<number>((resolve) => {
    const req = request({
      host: url.hostname,
      port: url.port,
      method: 'POST',
      path: opts.path,
      headers: { ...opts.headers, 'content-length': String(opts.totalBytes) },
      agent: false,
    })
    req.on('response', (res) => {
      res.resume()
      resolve(res.statusCode ?? 0)
    })
    req.on('error', () => resolve(-1))
    req.write(opts.firstBytes)
    close = () => req.destroy()
  })
  return { answer, close: () => close() }
}
