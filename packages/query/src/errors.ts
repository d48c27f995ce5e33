/**
 * Every error this package raises on purpose, with a stable code (like fastify's
 * FST_ERR_*). Clients and tests match on `code`; the message is for humans.
 * The shape (code + numeric statusCode) is what the server's error handler passes through.
 */
export class QueryError extends Error {
  readonly code: string
  readonly statusCode: number
  /** For 429/503: seconds after which a retry may succeed, sent as Retry-After. */
  readonly retryAfterSeconds: number | undefined

  constructor(code: string, message: string, statusCode: number, options?: { cause?: unknown; retryAfterSeconds?: number }) {
    super(message, options)
    this.name = 'QueryError'
    this.code = code
    this.statusCode = statusCode
    this.retryAfterSeconds = options?.retryAfterSeconds
  }

  toJSON(): { error: { code: string; message: string } } {
    return { error: { code: this.code, message: this.message } }
  }
}

function createError<A extends unknown[]>(code: string, statusCode: number, format: (...args: A) => string) {
  const factory = (...args: A): QueryError => new QueryError(code, format(...args), statusCode)
  return Object.assign(factory, { code, statusCode })
}

export const errors = {
  UNAUTHORIZED: createError('SPANLENS_UNAUTHORIZED', 401, () => 'missing or invalid API key'),
  BAD_REQUEST: createError('SPANLENS_BAD_REQUEST', 400, (details: string) => details),
  NOT_FOUND: createError('SPANLENS_NOT_FOUND', 404, (what: string) => `${what} not found`),
  NOT_ENOUGH_DATA: createError(
    'SPANLENS_NOT_ENOUGH_DATA',
    422,
    (details: string) => `not enough data for a verdict: ${details}`,
  ),
  SQL_FORBIDDEN: createError('SPANLENS_SQL_FORBIDDEN', 403, (reason: string) => `query not allowed: ${reason}`),
  SQL_INVALID: createError('SPANLENS_SQL_INVALID', 400, (reason: string) => `query is not valid SQL: ${reason}`),
  SQL_LIMIT: createError('SPANLENS_SQL_LIMIT', 400, (reason: string) => `query exceeded a limit: ${reason}`),
  SQL_FAILED: createError('SPANLENS_SQL_FAILED', 400, (reason: string) => `query failed: ${reason}`),
  SLO_FILE_MISSING: createError(
    'SPANLENS_SLO_FILE_MISSING',
    404,
    () => 'no SLO file configured (set SPANLENS_SLO_FILE)',
  ),
  SLO_FILE_INVALID: createError(
    'SPANLENS_SLO_FILE_INVALID',
    500,
    (path: string, reason: string) => `SLO file ${path} is invalid: ${reason}`,
  ),
  UPSTREAM: createError('SPANLENS_QUERY_FAILED', 502, (reason: string) => `ClickHouse query failed: ${reason}`),
  QUERY_BUSY: Object.assign(
    (reason: string, retryAfterSeconds: number): QueryError =>
      new QueryError('SPANLENS_QUERY_BUSY', `too many queries in flight: ${reason}`, 429, { retryAfterSeconds }),
    { code: 'SPANLENS_QUERY_BUSY', statusCode: 429 },
  ),
  INTERNAL: createError('SPANLENS_INTERNAL', 500, () => 'internal error'),
} as const

/** Node's and undici's codes for a connection that failed below ClickHouse (remote mode). */
const NETWORK_CODES = /^(E(CONNREFUSED|CONNRESET|CONNABORTED|HOSTUNREACH|NETUNREACH|PIPE|TIMEDOUT|NOTFOUND|AI_AGAIN)|UND_ERR_\w+)$/

/**
 * True for an error that came from the store rather than from our code: a
 * ClickHouse exception (clickhouse-js and chdb both give it a numeric `code`
 * and a `type` such as MEMORY_LIMIT_EXCEEDED; chdb builds it from its own copy
 * of client-common, so `instanceof` fails across the two), a network failure,
 * or clickhouse-js's request timeout.
 */
export function isStoreError(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false
  const e = err as { code?: unknown; type?: unknown; message?: unknown }
  if (typeof e.code === 'string' && /^\d+$/.test(e.code)) return true
  if (typeof e.code === 'string' && NETWORK_CODES.test(e.code)) return true
  return e.message === 'Timeout error.'
}

/** The one mapping of a foreign error to ours: a store failure is 502, anything else unexpected is a bug (500). */
export function toQueryError(err: unknown): QueryError {
  if (err instanceof QueryError) return err
  if (isStoreError(err)) return new QueryError(errors.UPSTREAM.code, 'ClickHouse query failed', 502, { cause: err })
  return new QueryError(errors.INTERNAL.code, 'internal error', 500, { cause: err })
}

export function isQueryError(err: unknown): err is QueryError {
  return (
    typeof err === 'object' &&
    err !== null &&
    typeof (err as { code?: unknown }).code === 'string' &&
    (err as { code: string }).code.startsWith('SPANLENS_') &&
    typeof (err as { statusCode?: unknown }).statusCode === 'number'
  )
}
