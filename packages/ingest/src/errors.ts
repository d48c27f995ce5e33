/**
 * Every error Spanlens raises on purpose, with a stable code (like fastify's
 * FST_ERR_*). Tests and clients match on `code`; the message is for humans.
 */
export class SpanlensError extends Error {
  readonly code: string
  readonly statusCode: number

  constructor(code: string, message: string, statusCode = 500, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'SpanlensError'
    this.code = code
    this.statusCode = statusCode
  }

  toJSON(): { error: { code: string; message: string } } {
    return { error: { code: this.code, message: this.message } }
  }
}

type ErrorFactory<A extends unknown[]> = {
  (...args: [...A, { cause?: unknown }?]): SpanlensError
  readonly code: string
}

/** Declares an error kind once; `format` turns the arguments into the message. */
function createError<A extends unknown[]>(
  code: string,
  statusCode: number,
  format: (...args: A) => string,
): ErrorFactory<A> {
  const factory = (...args: unknown[]): SpanlensError => {
    const last = args[args.length - 1]
    const hasOptions =
      args.length > format.length && typeof last === 'object' && last !== null && 'cause' in last
    const options = hasOptions ? (last as { cause?: unknown }) : undefined
    const formatArgs = (hasOptions ? args.slice(0, -1) : args) as A
    return new SpanlensError(code, format(...formatArgs), statusCode, options)
  }
  return Object.assign(factory, { code }) as ErrorFactory<A>
}

export const errors = {
  CONFIG_INVALID: createError('SPANLENS_CONFIG_INVALID', 500, (details: string) => `invalid configuration: ${details}`),
  CONFIG_FILE_UNREADABLE: createError(
    'SPANLENS_CONFIG_FILE_UNREADABLE',
    500,
    (path: string, reason: string) => `cannot read config file ${path}: ${reason}`,
  ),
  DATA_DIR_UNUSABLE: createError(
    'SPANLENS_DATA_DIR_UNUSABLE',
    500,
    (dir: string, reason: string) => `data directory ${dir} is not usable: ${reason}`,
  ),
  DATA_DIR_LOCKED: createError(
    'SPANLENS_DATA_DIR_LOCKED',
    500,
    (dir: string) =>
      `embedded ClickHouse data directory ${dir} is already open in another process ` +
      `(libchdb allows one process per data directory); stop that process or set SPANLENS_DATA_DIR to another directory`,
  ),
  STORE_UNREACHABLE: createError(
    'SPANLENS_STORE_UNREACHABLE',
    503,
    (target: string, reason: string) => `ClickHouse at ${target} is unreachable: ${reason}`,
  ),
  MIGRATION_FAILED: createError(
    'SPANLENS_MIGRATION_FAILED',
    500,
    (file: string, reason: string) => `migration ${file} failed: ${reason}`,
  ),
  MIGRATION_INVALID: createError(
    'SPANLENS_MIGRATION_INVALID',
    500,
    (file: string, reason: string) => `migration ${file} is invalid: ${reason}`,
  ),
  MIGRATION_CHECKSUM: createError(
    'SPANLENS_MIGRATION_CHECKSUM',
    500,
    (file: string) =>
      `migration ${file} was changed after it was applied; restore the original file and add a new migration instead`,
  ),
  BAD_OTLP: createError('SPANLENS_BAD_OTLP', 400, (reason: string) => `bad OTLP request: ${reason}`),
  BODY_TOO_LARGE: createError(
    'SPANLENS_BODY_TOO_LARGE',
    413,
    (limit: number) => `request body exceeds ${limit} bytes after decompression (SPANLENS_BODY_LIMIT_BYTES)`,
  ),
  BODY_TIMEOUT: createError(
    'SPANLENS_BODY_TIMEOUT',
    408,
    (ms: number) => `request body did not arrive within ${ms} ms (SPANLENS_BODY_TIMEOUT_MS)`,
  ),
  UNSUPPORTED_MEDIA_TYPE: createError(
    'SPANLENS_UNSUPPORTED_MEDIA_TYPE',
    415,
    (type: string) => `unsupported content type ${JSON.stringify(type)}; send application/x-protobuf or application/json`,
  ),
  UNSUPPORTED_ENCODING: createError(
    'SPANLENS_UNSUPPORTED_ENCODING',
    415,
    (enc: string) => `unsupported content encoding ${JSON.stringify(enc)}; send gzip, deflate or identity`,
  ),
  UNAUTHORIZED: createError('SPANLENS_UNAUTHORIZED', 401, (why: string) => why),
  SPOOL_FULL: createError(
    'SPANLENS_SPOOL_FULL',
    503,
    (scope: 'server' | 'project' = 'server') =>
      scope === 'project'
        ? "this project's unconfirmed spans fill its share of the spool (SPANLENS_SPOOL_PROJECT_SHARE) while ClickHouse catches up; retry after the Retry-After delay"
        : 'the ingest spool is full while ClickHouse catches up; retry after the Retry-After delay',
  ),
  OVERLOADED: createError(
    'SPANLENS_OVERLOADED',
    429,
    (scope: 'server' | 'project' = 'server') =>
      scope === 'project'
        ? "this project's requests in progress are at SPANLENS_MAX_CONCURRENT_REQUESTS_PER_PROJECT; retry after the Retry-After delay"
        : 'too many requests are being processed; retry after the Retry-After delay',
  ),
  DEAD_LETTER_UNKNOWN: createError(
    'SPANLENS_DEAD_LETTER_UNKNOWN',
    404,
    (name: string) => `no dead letter named ${JSON.stringify(name)}; \`spanlens dead-letter list\` shows them`,
  ),
  SHUTTING_DOWN: createError('SPANLENS_SHUTTING_DOWN', 503, () => 'the server is shutting down'),
  SPOOL_IO: createError('SPANLENS_SPOOL_IO', 503, (reason: string) => `could not write to the spool: ${reason}`),
  SPOOL_LOCKED: createError(
    'SPANLENS_SPOOL_LOCKED',
    500,
    (dir: string, holder: string, lockFile: string) =>
      `spool directory ${dir} is in use by ${holder}; a server replays every segment it finds in its spool, ` +
      `so two servers must not share one. Stop that server or set SPANLENS_SPOOL_DIR to another directory ` +
      `(if no server is running there, delete ${lockFile})`,
  ),
  UNSAFE_BIND: createError(
    'SPANLENS_UNSAFE_BIND',
    500,
    (host: string) =>
      `refusing to listen on ${host} without API keys: set SPANLENS_API_KEYS (project:key,...) or bind 127.0.0.1`,
  ),
} as const

export function isSpanlensError(err: unknown): err is SpanlensError {
  return err instanceof SpanlensError
}
