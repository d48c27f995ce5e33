/**
 * The catalogue: every error the Spanlens server raises on purpose, with a
 * stable code (like fastify's FST_ERR_*), and the one mapping of foreign errors
 * (Fastify's, ClickHouse's, our own bugs) to them. Clients and tests match on
 * `code`; the message is for humans. docs/errors.md lists every code, and
 * packages/ingest/test/errors.unit.test.ts keeps the two in step.
 *
 * It lives in @spanlens/query (exported as `@spanlens/query/errors`) because
 * ingest depends on query and query must not depend on ingest: this is the
 * lowest package both server packages share. The SDK keeps its own init-time
 * errors (sdk/src/errors.ts) with the same shape, so apps need no server code.
 */
import type { LogLimit } from './log-limit.js'

// How an error that repeats through an outage is logged, for the server's other such warnings too.
export { LogLimit, OUTAGE_WARN_EVERY_MS } from './log-limit.js'

export class SpanlensError extends Error {
  readonly code: string
  readonly statusCode: number
  /** For 429/503: seconds after which a retry may succeed, sent as Retry-After. */
  readonly retryAfterSeconds: number | undefined

  constructor(code: string, message: string, statusCode = 500, options?: ErrorOptions) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'SpanlensError'
    this.code = code
    this.statusCode = statusCode
    this.retryAfterSeconds = options?.retryAfterSeconds
  }

  toJSON(): ErrorBody {
    return { error: { code: this.code, message: this.message } }
  }
}

/** What every HTTP error reply carries. */
export interface ErrorBody {
  error: { code: string; message: string }
}

export interface ErrorOptions {
  cause?: unknown
  retryAfterSeconds?: number
}

export type ErrorFactory<A extends unknown[]> = {
  (...args: [...A, ErrorOptions?]): SpanlensError
  readonly code: string
  readonly statusCode: number
}

const OPTION_KEYS = new Set(['cause', 'retryAfterSeconds'])

function isOptions(v: unknown): v is ErrorOptions {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false
  const keys = Object.keys(v)
  return keys.length > 0 && keys.every((k) => OPTION_KEYS.has(k))
}

/**
 * Declares an error kind once; `format` turns the arguments into the message.
 * The factory takes the format's arguments and, last, optional `{ cause, retryAfterSeconds }`.
 */
export function createError<A extends unknown[]>(
  code: string,
  statusCode: number,
  format: (...args: A) => string,
): ErrorFactory<A> {
  const factory = (...args: unknown[]): SpanlensError => {
    // No format takes an object, so a last argument of only these keys is the options.
    const options = isOptions(args[args.length - 1]) ? (args.pop() as ErrorOptions) : undefined
    return new SpanlensError(code, format(...(args as A)), statusCode, options)
  }
  return Object.assign(factory, { code, statusCode }) as ErrorFactory<A>
}

/** Answered by any route: the server's own, the OTLP receiver's and the query API's. */
const http = {
  BAD_REQUEST: createError('SPANLENS_BAD_REQUEST', 400, (details: string) => details),
  UNAUTHORIZED: createError('SPANLENS_UNAUTHORIZED', 401, (why: string = 'missing or invalid API key') => why),
  FORBIDDEN: createError('SPANLENS_FORBIDDEN', 403, (why: string) => why),
  ORIGIN_NOT_ALLOWED: createError('SPANLENS_ORIGIN_NOT_ALLOWED', 403, (origin: string, why: string) => `origin ${JSON.stringify(origin)} may not send here: ${why}`),
  NOT_FOUND: createError('SPANLENS_NOT_FOUND', 404, (what: string) => `${what} not found`),
  REQUEST_TIMEOUT: createError('SPANLENS_REQUEST_TIMEOUT', 408, () => 'the request did not arrive in time'),
  HEADERS_TOO_LARGE: createError('SPANLENS_HEADERS_TOO_LARGE', 431, (bytes?: number) => `the request's headers are larger than the server takes${bytes === undefined ? '' : ` (${bytes} bytes)`}`),
  METHOD_NOT_ALLOWED: createError('SPANLENS_METHOD_NOT_ALLOWED', 405, (method: string, path: string, allowed: readonly string[] = []) => `${path} takes ${allowed.join(' or ')}, not ${method}`),
  BODY_TOO_LARGE: createError('SPANLENS_BODY_TOO_LARGE', 413, (limit?: number, route?: string) =>
    limit === undefined
      ? 'request body is too large'
      : route === undefined
        ? `request body exceeds ${limit} bytes after decompression (SPANLENS_BODY_LIMIT_BYTES)`
        : `request body is over the ${limit} bytes ${route} takes`,
  ),
  UNSUPPORTED_MEDIA_TYPE: createError(
    'SPANLENS_UNSUPPORTED_MEDIA_TYPE',
    415,
    (type: string, accepted: string = 'application/x-protobuf or application/json') =>
      `unsupported content type ${JSON.stringify(type)}; send ${accepted}`,
  ),
  INTERNAL: createError('SPANLENS_INTERNAL', 500, (detail?: string) => (detail === undefined ? 'internal error' : `internal error: ${detail}`)),
} as const

/** Start-up: configuration, data directory, store and migrations (`spanlens serve`, `spanlens migrate`). */
const startup = {
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
  // A query route's reply names no target: the store's address, or a shard's, is not the caller's business.
  STORE_UNREACHABLE: createError(
    'SPANLENS_STORE_UNREACHABLE',
    503,
    (target: string | undefined, reason: string) => `ClickHouse${target === undefined ? '' : ` at ${target}`} is unreachable: ${reason}`,
  ),
  // Reached and being migrated by this server (a large store's backfill can take minutes): the
  // query routes wait for the tables and columns the migrations make.
  STORE_MIGRATING: createError(
    'SPANLENS_STORE_MIGRATING',
    503,
    () => 'this server is applying its ClickHouse migrations; queries answer once they are applied (retry after the Retry-After delay)',
  ),
  // Reached, and answered no: what decides it is a setting, which the reason names; retrying does not help.
  STORE_REFUSED: createError(
    'SPANLENS_STORE_REFUSED',
    500,
    (target: string, reason: string) => `ClickHouse at ${target} refused Spanlens: ${reason}`,
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
  HTTP_PORT_IN_USE: createError(
    'SPANLENS_HTTP_PORT_IN_USE',
    500,
    (host: string, port: number) =>
      `cannot serve HTTP on ${host}:${port}: the port is in use; stop what holds it or choose another (SPANLENS_PORT)`,
  ),
  PORT_FORBIDDEN: createError(
    'SPANLENS_PORT_FORBIDDEN',
    500,
    (host: string, port: number, setting: string) =>
      `not permitted to listen on ${host}:${port}: a port below 1024 needs root or CAP_NET_BIND_SERVICE; choose a port from 1024 up (${setting})`,
  ),
  HOST_UNAVAILABLE: createError(
    'SPANLENS_HOST_UNAVAILABLE',
    500,
    (host: string, setting: string, why: string) =>
      `cannot listen on ${host}: ${why}; set ${setting} to an address of this machine (127.0.0.1, or 0.0.0.0 for all)`,
  ),
  GRPC_PORT_IN_USE: createError(
    'SPANLENS_GRPC_PORT_IN_USE',
    500,
    (host: string, port: number) =>
      `cannot serve OTLP/gRPC on ${host}:${port}: the port is in use; stop what holds it, choose another ` +
      `(SPANLENS_GRPC_PORT) or turn gRPC off (SPANLENS_GRPC_PORT=off)`,
  ),
  // `spanlens clickhouse serve`; a data directory another engine holds is DATA_DIR_LOCKED.
  CLICKHOUSE_UNSAFE_BIND: createError(
    'SPANLENS_CLICKHOUSE_UNSAFE_BIND',
    500,
    (host: string) => `refusing to serve ClickHouse on ${host} without a password: set SPANLENS_CLICKHOUSE_PASSWORD or bind 127.0.0.1`,
  ),
  CLICKHOUSE_RESERVED_USER: createError(
    'SPANLENS_CLICKHOUSE_RESERVED_USER',
    500,
    (user: string) =>
      `with a password, SPANLENS_CLICKHOUSE_USER cannot be ${user}: the engine's own session logs in as ${user} ` +
      `without a password; choose another name (e.g. spanlens)`,
  ),
  CLICKHOUSE_PORT_IN_USE: createError(
    'SPANLENS_CLICKHOUSE_PORT_IN_USE',
    500,
    (host: string, port: number, what: 'HTTP' | 'TCP') =>
      `cannot serve ClickHouse ${what} on ${host}:${port}: the port is in use; stop what holds it or choose another ` +
      `(--${what === 'HTTP' ? 'http' : 'tcp'}-port, SPANLENS_CLICKHOUSE_SERVE_${what}_PORT)`,
  ),
  CLICKHOUSE_START_FAILED: createError('SPANLENS_CLICKHOUSE_START_FAILED', 500, (reason: string) => `ClickHouse server did not start: ${reason}`),
  CLICKHOUSE_START_TIMEOUT: createError(
    'SPANLENS_CLICKHOUSE_START_TIMEOUT',
    500,
    (ms: number, url: string) => `ClickHouse server did not answer ${url}/ping within ${ms} ms`,
  ),
  CLICKHOUSE_UNSUPPORTED_PLATFORM: createError('SPANLENS_CLICKHOUSE_UNSUPPORTED_PLATFORM', 500, (reason: string) => reason),
} as const

/** The OTLP receiver (/v1/traces) and the ingest pipeline behind it. */
const ingest = {
  BAD_OTLP: createError('SPANLENS_BAD_OTLP', 400, (reason: string) => `bad OTLP request: ${reason}`),
  BODY_TIMEOUT: createError(
    'SPANLENS_BODY_TIMEOUT',
    408,
    (ms: number) => `request body did not arrive within ${ms} ms (SPANLENS_BODY_TIMEOUT_MS)`,
  ),
  ROWS_TOO_LARGE: createError(
    'SPANLENS_ROWS_TOO_LARGE',
    413,
    (limit: number) =>
      `the request's spans expand to more than ${limit} bytes of rows (4 x SPANLENS_BODY_LIMIT_BYTES; ` +
      `every span carries its resource's attributes): send fewer spans per request`,
  ),
  UNSUPPORTED_ENCODING: createError(
    'SPANLENS_UNSUPPORTED_ENCODING',
    415,
    (enc: string, supported: string) => `unsupported content encoding ${JSON.stringify(enc)}; send ${supported}`,
  ),
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
  SHUTTING_DOWN: createError('SPANLENS_SHUTTING_DOWN', 503, () => 'the server is shutting down'),
  SPOOL_IO: createError('SPANLENS_SPOOL_IO', 503, (reason: string) => `could not write to the spool: ${withoutPath(reason)}`),
  SPOOL_IN_USE: createError(
    'SPANLENS_SPOOL_IN_USE',
    409,
    (dir: string, holder: string) =>
      `spool directory ${dir} is held by ${holder}, a running server, whose inserter holds its segments: ` +
      `a segment moved under it could be inserted and kept both. Stop that server, then run this again, ` +
      `or ask it to (POST /api/v1/admin/spool/set-aside with SPANLENS_ADMIN_KEY)`,
  ),
  SPOOL_SEGMENT_UNKNOWN: createError(
    'SPANLENS_SPOOL_SEGMENT_UNKNOWN',
    404,
    (name: string) => `no spool segment named ${JSON.stringify(name)}; \`spanlens dead-letter stuck\` lists the failing ones`,
  ),
  SPOOL_SEGMENT_LEFT: createError(
    'SPANLENS_SPOOL_SEGMENT_LEFT',
    409,
    (name: string) =>
      `spool segment ${JSON.stringify(name)} left the spool while this request waited for its insert in flight ` +
      `(inserted, or set aside unread in spool/dead): nothing was set aside`,
  ),
  DEAD_LETTER_UNKNOWN: createError(
    'SPANLENS_DEAD_LETTER_UNKNOWN',
    404,
    (name: string) => `no dead letter named ${JSON.stringify(name)}; \`spanlens dead-letter list\` shows them`,
  ),
} as const

/**
 * A Node system error's message without the file it names: `EMFILE: too many open files,
 * open '/data/spool/….seg'` becomes `EMFILE: too many open files, open`. A reply must not
 * show a client the server's directories; the error kept as `cause` has the path, for the log.
 */
function withoutPath(reason: string): string {
  return /^(E[A-Z0-9]+: [^\n]*?, \w+) '.*'$/s.exec(reason)?.[1] ?? reason
}

/** The query API (/api/v1) and the analytics behind it. */
const query = {
  NOT_ENOUGH_DATA: createError(
    'SPANLENS_NOT_ENOUGH_DATA',
    422,
    (details: string) => `not enough data for a verdict: ${details}`,
  ),
  SQL_FORBIDDEN: createError('SPANLENS_SQL_FORBIDDEN', 403, (reason: string) => `query not allowed: ${reason}`),
  SQL_INVALID: createError('SPANLENS_SQL_INVALID', 400, (reason: string) => `query is not valid SQL: ${reason}`),
  SQL_LIMIT: createError('SPANLENS_SQL_LIMIT', 400, (reason: string) => `query exceeded a limit: ${reason}`),
  SQL_FAILED: createError('SPANLENS_SQL_FAILED', 400, (reason: string) => `query failed: ${reason}`),
  SLO_FILE_MISSING: createError('SPANLENS_SLO_FILE_MISSING', 404, () => 'no SLO file configured (set SPANLENS_SLO_FILE)'),
  SLO_FILE_INVALID: createError(
    'SPANLENS_SLO_FILE_INVALID',
    500,
    (path: string, reason: string) => `SLO file ${path} is invalid: ${reason}`,
  ),
  /** A failure of the store's call or of its output; the message names only ClickHouse's error type. */
  QUERY_FAILED: createError('SPANLENS_QUERY_FAILED', 502, (type: string) => `ClickHouse query failed: ${type}`),
  /** A route's query stopped at the server's limit on one query's time or memory (SPANLENS_QUERY_MAX_*). */
  QUERY_LIMIT: createError(
    'SPANLENS_QUERY_LIMIT',
    503,
    (limit: string) => `the query exceeded ${limit}: ask for a shorter time range or a narrower filter`,
  ),
  QUERY_BUSY: createError('SPANLENS_QUERY_BUSY', 429, (reason: string) => `too many queries in flight: ${reason}`),
  CLIENT_GONE: createError('SPANLENS_CLIENT_GONE', 499, () => 'the client closed its connection while its query waited for a turn'),
} as const

export const errors = { ...http, ...startup, ...ingest, ...query } as const

/** The codes the query API answers with (the errors table of docs/api.md). */
export const queryApiErrors = { ...http, ...query } as const

export function isSpanlensError(err: unknown): err is SpanlensError {
  if (err instanceof SpanlensError) return true
  // A second copy of this module (a bundle beside the sources) makes instances `instanceof` misses.
  const e = err as { name?: unknown; code?: unknown; statusCode?: unknown } | null
  return err instanceof Error && e?.name === 'SpanlensError' && typeof e.code === 'string' && typeof e.statusCode === 'number'
}

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
  return isClientTimeout(err)
}

/** True for clickhouse-js giving up on a request that outlived its `request_timeout` (its whole message). */
export function isClientTimeout(err: unknown): boolean {
  return (err as { message?: unknown } | null)?.message === 'Timeout error.'
}

/**
 * ClickHouse's types for a node that could not reach another, or whose connection to it
 * broke: on a cluster, the node Spanlens asks reports a stopped shard as NETWORK_ERROR
 * (`Connection refused (host:port …)`). Ingest retries such an insert; a query route answers 503.
 */
const UNREACHABLE_TYPES = new Set([
  'NETWORK_ERROR',
  'ALL_CONNECTION_TRIES_FAILED',
  'SOCKET_TIMEOUT',
  'CANNOT_READ_FROM_SOCKET',
  'CANNOT_WRITE_TO_SOCKET',
  'UNKNOWN_PACKET_FROM_SERVER',
  'UNEXPECTED_PACKET_FROM_SERVER',
  'DNS_ERROR',
  'NO_FREE_CONNECTION',
  'SHARD_HAS_NO_CONNECTIONS',
  'NO_AVAILABLE_REPLICA',
  'NO_ACTIVE_REPLICAS',
  'ALL_REPLICAS_ARE_STALE',
  'NO_REMOTE_SHARD_AVAILABLE',
  'TOO_MANY_UNAVAILABLE_SHARDS',
])

/**
 * ClickHouse's error types for the state of the store itself, whatever the statement: the
 * server out of memory, disk or query slots, a user's quota or a workload's limits spent, its
 * disk or thread pool failing, Keeper gone, a table restarting, the query cancelled by an
 * operator or a shutdown, the login refused. Neither an insert's rows nor an analyst's SQL
 * caused it. Ingest retries an insert that meets one (pipeline/insert-errors.ts adds the
 * types only inserts meet); /sql answers it as a store failure, not the analyst's 400
 * (sql/explain.ts). Names as ClickHouse 26.7's errorCodeToName gives them.
 */
export const STORE_STATE_TYPES: ReadonlySet<string> = new Set([
  'TOO_MANY_SIMULTANEOUS_QUERIES',
  'SERVER_OVERLOADED',
  'CANNOT_ALLOCATE_MEMORY',
  'NOT_ENOUGH_SPACE',
  'CANNOT_OPEN_FILE',
  'CANNOT_READ_FROM_FILE_DESCRIPTOR',
  'CANNOT_WRITE_TO_FILE_DESCRIPTOR',
  'CANNOT_WRITE_TO_FILE',
  'CANNOT_CREATE_FILE',
  'CANNOT_CREATE_DIRECTORY',
  'CANNOT_FSYNC',
  'CANNOT_SCHEDULE_TASK',
  'NO_ZOOKEEPER',
  'KEEPER_EXCEPTION',
  'UNEXPECTED_ZOOKEEPER_ERROR',
  'TABLE_IS_DROPPED',
  'TABLE_IS_BEING_RESTARTED',
  'QUERY_WAS_CANCELLED',
  'ABORTED',
  'QUOTA_EXCEEDED',
  'RESOURCE_LIMIT_EXCEEDED',
  'MEMORY_RESERVATION_FAILED',
  'MEMORY_RESERVATION_KILLED',
])

/**
 * The login and the user's rights refused (store/refusal.ts reads the same at open): a password
 * changed or an address no longer allowed while the server runs refuses every statement after it.
 */
export const LOGIN_REFUSED_TYPES: ReadonlySet<string> = new Set([
  'AUTHENTICATION_FAILED',
  'REQUIRED_PASSWORD',
  'WRONG_PASSWORD',
  'IP_ADDRESS_NOT_ALLOWED',
  'USER_EXPIRED',
])

/**
 * Types that mean "the input ended early": of rows or of a value as ClickHouse parses them
 * (`toUInt8('')` is ATTEMPT_TO_READ_AFTER_EOF), and also of a node's socket to another shard
 * that closed mid-packet. A shard cut off while a Distributed insert sent to it failed the
 * insert with `Cannot read all data. Bytes read: 1. Bytes expected: 5: Insertion status: …`,
 * and a read with `Cannot read all data. … While executing Remote.` (measured against a shard
 * port that answered with a Hello packet cut short, packages/ingest/test/shard-down-cluster.test.ts).
 */
const END_OF_INPUT_TYPES = new Set(['CANNOT_READ_ALL_DATA', 'ATTEMPT_TO_READ_AFTER_EOF', 'UNEXPECTED_END_OF_FILE'])
/**
 * Said of a node's connection to another: the Distributed sink adds its per-shard `Insertion
 * status` to a failure of sending to the shards, the node's reader of a shard's answer is the
 * `Remote` processor, and its client says `while receiving packet from <host>`. Rows are parsed
 * before the sink, on the node Spanlens asks, and carry none of these. An error the shard itself
 * raised (the SQL's `toUInt8('')` run there) comes back `Received from <host>. DB::Exception: …`
 * and stays the shard's answer (PEER_RAISED).
 */
const PEER_CONNECTION = /Insertion status:|While executing Remote|while receiving packet from|while (reading from|writing to) socket/i
const PEER_RAISED = /Received from [^ ]+\. DB::Exception:/

/**
 * True for a failure of reaching the store or, on a cluster, of one node reaching another:
 * a network error on the way to the node Spanlens asks (ECONNREFUSED while it is down), or
 * ClickHouse's report of a shard it could not reach or whose connection broke. The same
 * request succeeds once the node is back.
 */
export function isStoreUnreachable(err: unknown): boolean {
  const e = (typeof err === 'object' && err !== null ? err : {}) as { code?: unknown; message?: unknown }
  if (typeof e.code === 'string' && NETWORK_CODES.test(e.code)) return true
  const type = clickHouseErrorType(err)
  if (type === undefined) return false
  if (UNREACHABLE_TYPES.has(type)) return true
  if (!END_OF_INPUT_TYPES.has(type) || typeof e.message !== 'string') return false
  return PEER_CONNECTION.test(e.message) && !PEER_RAISED.test(e.message)
}

/** Seconds a caller is asked to wait when the store is unreachable: a served engine restarted in 1–3 s here. */
export const UNREACHABLE_RETRY_AFTER_SECONDS = 5

/**
 * A store failure as SPANLENS_QUERY_FAILED with the cause kept for the log,
 * SPANLENS_QUERY_LIMIT when the query stopped at its time or memory limit, or
 * SPANLENS_STORE_UNREACHABLE (503, Retry-After) when ClickHouse or one of its shards
 * could not be reached. The reply names only ClickHouse's error type (or the network
 * error's code): a message can quote the output that failed to parse, which may be
 * another caller's rows, and a shard's address.
 */
export function storeFailure(err: unknown): SpanlensError {
  const limit = queryLimitOf(err)
  if (limit !== undefined) return errors.QUERY_LIMIT(limit, { cause: err })
  if (isStoreUnreachable(err)) {
    const what = clickHouseErrorType(err) ?? String((err as { code?: unknown }).code)
    return errors.STORE_UNREACHABLE(undefined, `${what}; retry after the Retry-After delay`, { cause: err, retryAfterSeconds: UNREACHABLE_RETRY_AFTER_SECONDS })
  }
  // clickhouse-js gave up waiting: a served ClickHouse stopped (SIGSTOP) answered nothing, and
  // the route said 502 'see the server log' after the timeout.
  if (isClientTimeout(err)) {
    return errors.STORE_UNREACHABLE(undefined, 'no answer within SPANLENS_CLICKHOUSE_REQUEST_TIMEOUT_MS; retry after the Retry-After delay', {
      cause: err,
      retryAfterSeconds: UNREACHABLE_RETRY_AFTER_SECONDS,
    })
  }
  return errors.QUERY_FAILED(clickHouseErrorType(err) ?? 'see the server log', { cause: err })
}

/**
 * The per-query limit a ClickHouse error says the query hit, named by its variable: the
 * query routes run under SPANLENS_QUERY_MAX_EXECUTION_SECONDS and SPANLENS_QUERY_MAX_MEMORY_BYTES
 * (db.ts, withQueryLimits). A memory limit `(total)` or `(for user)` is the server's, a store failure.
 */
function queryLimitOf(err: unknown): string | undefined {
  const type = clickHouseErrorType(err)
  if (type === 'TIMEOUT_EXCEEDED' || type === 'TOO_SLOW') return 'its time limit (SPANLENS_QUERY_MAX_EXECUTION_SECONDS)'
  const message = (err as { message?: unknown } | null)?.message
  // ClickHouse words it `Memory limit (for query) exceeded` or, as chDB 26.7 does, `Query memory limit exceeded`.
  if (type === 'MEMORY_LIMIT_EXCEEDED' && typeof message === 'string' && /memory limit \(for query\)|query memory limit/i.test(message)) {
    return 'its memory limit (SPANLENS_QUERY_MAX_MEMORY_BYTES)'
  }
  return undefined
}

/**
 * ClickHouse's name for an error (MEMORY_LIMIT_EXCEEDED), by which Spanlens
 * tells ClickHouse errors apart, never by bare numbers: clickhouse-js's `type`,
 * or the `(TYPE)` ClickHouse ends its message with (before a server's
 * `(version …)`). Undefined for an error that did not come from ClickHouse.
 */
export function clickHouseErrorType(err: unknown): string | undefined {
  const e = (typeof err === 'object' && err !== null ? err : {}) as { type?: unknown; message?: unknown }
  if (typeof e.type === 'string' && /^[A-Z][A-Z0-9_]+$/.test(e.type)) return e.type
  const message = typeof e.message === 'string' ? e.message.trim() : ''
  return /\(([A-Z][A-Z0-9_]{2,})\)(?:\s*\(version [^()]*(?:\([^()]*\))?\))?\s*$/.exec(message)?.[1]
}

/** What the request said of itself, and the route it reached, for errors whose message names them. */
interface RequestFacts {
  contentType?: string | undefined
  /** the route's own body limit and path (a query API route's; OTLP counts its bodies itself) */
  route?: { url: string; bodyLimit: number } | undefined
}

/** Fastify's own errors (FST_ERR_*) that have a code of ours; others go by their status. */
const FASTIFY: Record<string, (err: unknown, message: string, request: RequestFacts) => SpanlensError> = {
  // Fastify's message does not name the type: the request's header does.
  FST_ERR_CTP_INVALID_MEDIA_TYPE: (err, message, request) =>
    errors.UNSUPPORTED_MEDIA_TYPE(request.contentType ?? message.replace(/^Unsupported Media Type:?\s*/i, ''), 'application/json', { cause: err }),
  FST_ERR_CTP_BODY_TOO_LARGE: (err, _message, request) =>
    request.route ? errors.BODY_TOO_LARGE(request.route.bodyLimit, request.route.url, { cause: err }) : errors.BODY_TOO_LARGE(undefined, undefined, { cause: err }),
}

/**
 * The one mapping of any thrown value to a SpanlensError, used by every error
 * handler (the server's root, the OTLP receiver's, the query API's):
 * - ours pass through;
 * - Fastify's FST_ERR_* with a code of ours get it (415, 413);
 * - any other client error (a 4xx status: Fastify's validation, empty or
 *   malformed JSON body) is SPANLENS_BAD_REQUEST with its status and message;
 * - a store failure (ClickHouse exception, network, timeout) is 502 SPANLENS_QUERY_FAILED,
 *   or 503 SPANLENS_STORE_UNREACHABLE when ClickHouse or a shard could not be reached;
 * - anything else is a bug: 500 SPANLENS_INTERNAL, saying nothing more.
 * The original is kept as `cause`, so a log of `{ err }` shows it.
 */
export function toSpanlensError(err: unknown, request: RequestFacts = {}): SpanlensError {
  if (isSpanlensError(err)) return err
  const e = (typeof err === 'object' && err !== null ? err : {}) as { code?: unknown; statusCode?: unknown; message?: unknown }
  const message = typeof e.message === 'string' ? e.message : String(err)
  const fastify = typeof e.code === 'string' ? FASTIFY[e.code] : undefined
  if (fastify) return fastify(err, message, request)
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    return new SpanlensError(errors.BAD_REQUEST.code, message, e.statusCode, { cause: err })
  }
  if (isStoreError(err)) return storeFailure(err)
  return errors.INTERNAL(undefined, { cause: err })
}

/**
 * Headers of every reply that carries a project's data, and of every error reply: a cache
 * between the caller and the server keeps none of them (a 404 for a trace not yet stored
 * would outlive its arrival), and a browser reads none as another type than it says (span
 * text is what apps and users wrote). An error reply carries them whatever its route: a
 * 401, 404 or 405 under /api/v1 comes from before any route of the query API ran.
 */
export const PRIVATE_REPLY_HEADERS = { 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' } as const

/** The minimum of Fastify's request and reply the shared error handler needs (no runtime import of fastify). */
interface ReplyLike {
  code(status: number): ReplyLike
  header(name: string, value: string): ReplyLike
  send(payload: unknown): unknown
  readonly log: { error(obj: object, msg: string): void; warn(obj: object, msg: string): void }
  readonly request?: {
    readonly headers: Record<string, string | string[] | undefined>
    readonly routeOptions?: { readonly url?: string | undefined; readonly bodyLimit?: number | undefined }
  }
}

/**
 * A store that cannot be reached is expected (an outage, a restart) and says nothing a stack
 * adds: each request's 503 logged its stack at error, thousands of lines a minute from a
 * console polling during an outage. Logged at warn without one, its reason (the error's type)
 * in the message, and with `unreachable` (the server's) the first, then at most one per its
 * interval with how many were not logged since.
 */
function logUnreachable(e: SpanlensError, reply: ReplyLike, unreachable: LogLimit | undefined): void {
  const notLogged = unreachable === undefined ? 0 : unreachable.take()
  if (notLogged === undefined) return
  reply.log.warn(
    { code: e.code, reason: e.message, notLoggedSince: notLogged },
    `the store is unreachable: the query routes answer 503 with Retry-After until it answers${unreachable ? ` (this warning at most every ${unreachable.intervalMs / 1000} s)` : ''}`,
  )
}

/**
 * The JSON error handler of the server's root and of the query API: maps with
 * toSpanlensError, logs a 5xx with `{ err }` (pino keeps stack and cause; an unreachable store
 * without it, rate-limited by `unreachable`: logUnreachable), and
 * answers `{ error: { code, message } }` with PRIVATE_REPLY_HEADERS, and Retry-After
 * when the error has one.
 */
export function replyWithError(err: unknown, reply: ReplyLike, unreachable?: LogLimit): unknown {
  const type = reply.request?.headers['content-type']
  const { url, bodyLimit } = reply.request?.routeOptions ?? {}
  const route = url !== undefined && bodyLimit !== undefined ? { url, bodyLimit } : undefined
  const e = toSpanlensError(err, { contentType: typeof type === 'string' ? type : undefined, route })
  if (e.code === errors.STORE_UNREACHABLE.code) logUnreachable(e, reply, unreachable)
  else if (e.statusCode >= 500) reply.log.error({ err }, 'request failed')
  if (e.retryAfterSeconds !== undefined) reply.header('retry-after', String(e.retryAfterSeconds))
  for (const [name, value] of Object.entries(PRIVATE_REPLY_HEADERS)) reply.header(name, value)
  return reply.code(e.statusCode).send(e.toJSON())
}
