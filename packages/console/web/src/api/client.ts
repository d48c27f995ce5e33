import { clearKey, storedKey } from '../session'

/** A non-2xx reply from /api/v1, with the server's stable error code. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message)
  }
}

/** The error of a request that got no answer at all: the server is down or unreachable. */
export function networkError(detail: string): ApiError {
  return new ApiError(0, 'NETWORK', `Cannot reach the Spanlens server (${detail})`)
}

export type Params = Record<string, string | number | undefined | null>

let onUnauthorized: () => void = () => undefined

/** Called when a stored key stops working (rotated or revoked): the app returns to sign-in. */
export function setUnauthorizedHandler(fn: () => void): void {
  onUnauthorized = fn
}

function queryString(params: Params): string {
  const q = new URLSearchParams()
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v))
  const s = q.toString()
  return s ? `?${s}` : ''
}

async function request<T>(method: 'GET' | 'POST', path: string, body: unknown, key: string | null): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' }
  if (key) headers.authorization = `Bearer ${key}`
  if (body !== undefined) headers['content-type'] = 'application/json'
  let res: Response
  try {
    res = await fetch(`/api/v1${path}`, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) })
  } catch (err) {
    throw networkError(err instanceof Error ? err.message : String(err))
  }
  const text = await res.text()
  let json: unknown
  try {
    json = text ? JSON.parse(text) : undefined
  } catch {
    json = undefined
  }
  if (!res.ok) {
    const e = (json as { error?: { code?: string; message?: string } } | undefined)?.error
    throw new ApiError(res.status, e?.code ?? `HTTP_${res.status}`, e?.message ?? (text.slice(0, 200) || res.statusText))
  }
  return json as T
}

async function withSession<T>(run: (key: string | null) => Promise<T>): Promise<T> {
  try {
    return await run(storedKey())
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) {
      clearKey()
      onUnauthorized()
    }
    throw err
  }
}

export const api = {
  get: <T>(path: string, params: Params = {}) => withSession((key) => request<T>('GET', `${path}${queryString(params)}`, undefined, key)),
  post: <T>(path: string, body: unknown) => withSession((key) => request<T>('POST', path, body, key)),
  /** Checks a key before it is stored: one cheap listing call. */
  verify: (key: string) => request<unknown>('GET', '/traces?limit=1', undefined, key),
}
