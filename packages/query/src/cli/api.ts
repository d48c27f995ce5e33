import { CliError } from './command.js'

/**
 * The query API over HTTP: JSON in and out, `{ error: { code, message } }` replies raised as CliErrors.
 * `keyFrom`: where the key came from (`--api-key`, `SPANLENS_API_KEY`), which a 401 names: the
 * server's own advice is about the Authorization header, which a CLI user does not write.
 */
export function apiClient(base: string, key: string | undefined, doFetch: typeof fetch, keyFrom?: string) {
  return async function call(method: 'GET' | 'POST', path: string, body?: unknown): Promise<unknown> {
    const headers: Record<string, string> = { accept: 'application/json' }
    if (key) headers.authorization = `Bearer ${key}`
    if (body !== undefined) headers['content-type'] = 'application/json'
    let res: Response
    try {
      res = await doFetch(`${base}/api/v1${path}`, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) })
    } catch (e) {
      throw new CliError(`cannot reach ${base}: ${fetchFailure(e, base)}`)
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
      if (res.status === 401) throw new CliError(`${e?.code ?? 'HTTP 401'}: ${unauthorized(base, key, keyFrom)}`)
      throw new CliError(`${e?.code ?? `HTTP ${res.status}`}: ${e?.message ?? text.slice(0, 200)}`)
    }
    return json
  }
}

function unauthorized(base: string, key: string | undefined, keyFrom: string | undefined): string {
  if (!key) return `${base} needs an API key: pass --api-key <key> or set SPANLENS_API_KEY`
  return `${base} refused the API key ${keyFrom === undefined ? 'given' : `from ${keyFrom}`}: pass one of the server's SPANLENS_API_KEYS`
}

interface SystemError {
  code?: unknown
  message?: unknown
  reason?: unknown
  cause?: unknown
  errors?: unknown
}

/**
 * Why fetch failed. Its own message is "fetch failed" whatever happened: the cause
 * (undici's, a Node system error) tells a refused connection (ECONNREFUSED), an unknown
 * host (ENOTFOUND) and TLS spoken to a plain-HTTP port (ERR_SSL_WRONG_VERSION_NUMBER) apart.
 */
function fetchFailure(err: unknown, base: string): string {
  let e = err as SystemError | undefined
  // The innermost cause names the system call that failed; an AggregateError (every address
  // of a host refused) carries its first error's code.
  for (let depth = 0; depth < 4 && e?.cause !== undefined && typeof e.cause === 'object' && e.cause !== null; depth++) e = e.cause as SystemError
  if (e && Array.isArray(e.errors) && typeof e.code !== 'string') e = (e.errors[0] as SystemError | undefined) ?? e
  const code = typeof e?.code === 'string' ? e.code : undefined
  // OpenSSL's message is its error queue ("…:SSL routines:ssl3_get_record:wrong version number:…"); its reason is the part to show.
  const raw = typeof e?.reason === 'string' ? e.reason : typeof e?.message === 'string' ? e.message : String(err)
  const message = raw.split('\n')[0]?.trim() ?? ''
  const text = code === undefined || message.includes(code) ? message : `${code}: ${message}`
  const hint = code?.startsWith('ERR_SSL') && base.startsWith('https:') ? ' (is the server plain HTTP? try http://)' : ''
  return `${text || 'fetch failed'}${hint}`
}

/** `?a=1&b=2` from the defined pairs, or '' when none is. */
export function queryString(pairs: Record<string, string | undefined>): string {
  const p = new URLSearchParams()
  for (const [k, v] of Object.entries(pairs)) if (v !== undefined) p.set(k, v)
  const s = p.toString()
  return s ? `?${s}` : ''
}
