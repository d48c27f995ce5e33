/**
 * Every error this package raises on purpose, with a stable code (like fastify's
 * FST_ERR_*). Clients and tests match on `code`; the message is for humans.
 * The shape (code + numeric statusCode) is what the server's error handler passes through.
 */
export class QueryError extends Error {
  readonly code: string
  readonly statusCode: number

  constructor(code: string, message: string, statusCode: number, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'QueryError'
    this.code = code
    this.statusCode = statusCode
  }

  toJSON(): { error: { code: string; message: string } } {
    return { error: { code: this.code, message: this.message } }
  }
}

function createError<A extends unknown[]>(code: string, statusCode: number, format: (...args: A) => string) {
  const factory = (...args: A): QueryError => new QueryError(code, format(...args), statusCode)
  return Object.assign(factory, { code })
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
} as const

export function isQueryError(err: unknown): err is QueryError {
  return (
    typeof err === 'object' &&
    err !== null &&
    typeof (err as { code?: unknown }).code === 'string' &&
    (err as { code: string }).code.startsWith('SPANLENS_') &&
    typeof (err as { statusCode?: unknown }).statusCode === 'number'
  )
}
