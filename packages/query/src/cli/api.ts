import { CliError } from './command.js'

/** The query API over HTTP: JSON in and out, `{ error: { code, message } }` replies raised as CliErrors. */
export function apiClient(base: string, key: string | undefined, doFetch: typeof fetch) {
  return async function call(method: 'GET' | 'POST', path: string, body?: unknown): Promise<unknown> {
    const headers: Record<string, string> = { accept: 'application/json' }
    if (key) headers.authorization = `Bearer ${key}`
    if (body !== undefined) headers['content-type'] = 'application/json'
    let res: Response
    try {
      res = await doFetch(`${base}/api/v1${path}`, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) })
    } catch (e) {
      throw new CliError(`cannot reach ${base}: ${(e as Error).message}`)
    }
    const text = await res.text()
    let json: unknown
    try {
      json = text === '' ? {} : JSON.parse(text)
    } catch {
      throw new CliError(`HTTP ${res.status}: ${text.slice(0, 200)}`)
    }
    if (!res.ok) {
      const e = (json as { error?: { code?: string; message?: string } }).error
      throw new CliError(`${e?.code ?? `HTTP ${res.status}`}: ${e?.message ?? text.slice(0, 200)}`)
    }
    return json
  }
}

/** `?a=1&b=2` from the defined pairs, or '' when none is. */
export function queryString(pairs: Record<string, string | undefined>): string {
  const p = new URLSearchParams()
  for (const [k, v] of Object.entries(pairs)) if (v !== undefined) p.set(k, v)
  const s = p.toString()
  return s ? `?${s}` : ''
}
