import { clickHouseErrorType, isStoreUnreachable, LOGIN_REFUSED_TYPES, STORE_STATE_TYPES } from '../errors.js'

/**
 * What an insert failure means for the rows in it. ClickHouse errors are named
 * by their type (clickhouse-js's `type`, or the `(TYPE)` chDB puts at the end of
 * its message), never by bare numbers: code 252 alone is both "too many parts"
 * (merges are behind: wait) and "too many partitions for single INSERT block"
 * (this batch: split it).
 */
type InsertFailureKind =
  /** The store is down, busy or out of resources: retry the same insert later. */
  | 'transient'
  /** The store refuses every row alike (schema, permissions): retry, never blame the rows. */
  | 'store'
  /** Some rows are bad: isolate them, insert the rest. */
  | 'data'
  /** One insert touched more daily partitions than ClickHouse allows: split by partition. */
  | 'partitions'
  /**
   * Not known: retried a bounded number of times, then isolated; its rows are refused only
   * once isolation shows they differ (isolating-insert.ts), else it is the store's failure.
   */
  | 'unknown'

export interface InsertFailure {
  kind: InsertFailureKind
  /** ClickHouse's error type, e.g. CANNOT_PARSE_DATETIME; undefined for network errors. */
  type: string | undefined
  code: number | undefined
  message: string
}

/**
 * Types ClickHouse raises for its own state, which passes: the same insert succeeds later. The
 * store's state for any statement (STORE_STATE_TYPES, the catalogue's), and what only inserts meet.
 */
const TRANSIENT = new Set([
  ...STORE_STATE_TYPES,
  'TIMEOUT_EXCEEDED',
  'MEMORY_LIMIT_EXCEEDED',
  'TOO_MANY_PARTS',
  'TABLE_IS_READ_ONLY',
  'TOO_FEW_LIVE_REPLICAS',
  'UNSATISFIED_QUORUM_FOR_PREVIOUS_WRITE',
  'REPLICA_IS_NOT_IN_QUORUM',
  'UNKNOWN_STATUS_OF_INSERT',
  'TCP_CONNECTION_LIMIT_REACHED',
  'HTTP_CONNECTION_LIMIT_REACHED',
  'DISTRIBUTED_TOO_MANY_PENDING_BYTES',
  // The insert cancelled from our side (clickhouse-js gave up waiting for it).
  'QUERY_WAS_CANCELLED_BY_CLIENT',
])

/** Types that refuse every insert alike until an operator changes the store (schema, users, settings). */
const STORE = new Set([
  'UNKNOWN_TABLE',
  'UNKNOWN_DATABASE',
  'NO_SUCH_COLUMN_IN_TABLE',
  'NOT_FOUND_COLUMN_IN_BLOCK',
  'ILLEGAL_COLUMN',
  'UNKNOWN_IDENTIFIER',
  'SYNTAX_ERROR',
  'READONLY',
  'ACCESS_DENIED',
  'NOT_ENOUGH_PRIVILEGES',
  'UNKNOWN_USER',
  'UNKNOWN_SETTING',
  'NOT_IMPLEMENTED',
  // The login refused (LOGIN_REFUSED_TYPES, the catalogue's) or the user's rights taken away.
  ...LOGIN_REFUSED_TYPES,
  'DATABASE_ACCESS_DENIED',
  'RESOURCE_ACCESS_DENIED',
  // A settings profile that forbids a setting every spool insert sets (insert_deduplication_token…).
  'SETTING_CONSTRAINT_VIOLATION',
  'READONLY_SETTING',
  'TABLE_IS_PERMANENTLY_READ_ONLY',
])

const DATA = new Set([
  'CANNOT_PARSE_TEXT',
  'CANNOT_PARSE_ESCAPE_SEQUENCE',
  'CANNOT_PARSE_QUOTED_STRING',
  'CANNOT_PARSE_INPUT_ASSERTION_FAILED',
  'CANNOT_PARSE_DATE',
  'CANNOT_PARSE_DATETIME',
  'CANNOT_PARSE_NUMBER',
  'CANNOT_PARSE_UUID',
  'CANNOT_PARSE_BOOL',
  'CANNOT_READ_ARRAY_FROM_TEXT',
  'CANNOT_READ_MAP_FROM_TEXT',
  'TOO_LARGE_STRING_SIZE',
  'TOO_LARGE_ARRAY_SIZE',
  'INCORRECT_DATA',
  'SIZES_OF_ARRAYS_DONT_MATCH',
  'VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE',
  'CANNOT_INSERT_NULL_IN_ORDINARY_COLUMN',
  'DECIMAL_OVERFLOW',
  'TYPE_MISMATCH',
  'ARGUMENT_OUT_OF_BOUND',
  'CANNOT_CONVERT_TYPE',
  'UNEXPECTED_END_OF_FILE',
  'ATTEMPT_TO_READ_AFTER_EOF',
  'CANNOT_READ_ALL_DATA',
  'INCORRECT_NUMBER_OF_COLUMNS',
  'TOO_DEEP_RECURSION',
])

const TOO_MANY_PARTITIONS = /too many partitions for single insert block/i

/** Reads code and type from a clickhouse-js ClickHouseError, a chDB error, or a network error. */
export function describeInsertFailure(err: unknown): InsertFailure {
  const e = (err ?? {}) as { message?: unknown; code?: unknown; clickhouseCode?: unknown }
  const message = typeof e.message === 'string' ? e.message : String(err)
  const type = clickHouseErrorType(err)
  const numeric = Number(e.clickhouseCode ?? e.code ?? /Code: (\d+)\./.exec(message)?.[1])
  const code = Number.isInteger(numeric) && numeric > 0 ? numeric : undefined
  return { kind: kindOf(err, type, code, message), type, code, message }
}

function kindOf(err: unknown, type: string | undefined, code: number | undefined, message: string): InsertFailureKind {
  if (TOO_MANY_PARTITIONS.test(message)) return 'partitions'
  // A node or shard that cannot be reached, or whose connection broke mid-insert (errors.ts): the
  // same insert succeeds once it is back, whatever its type says of the input otherwise.
  if (isStoreUnreachable(err)) return 'transient'
  // No ClickHouse error at all: a socket, DNS or timeout error on the way.
  if (type === undefined && code === undefined) return 'transient'
  if (type === undefined) return 'unknown'
  if (TRANSIENT.has(type)) return 'transient'
  if (STORE.has(type)) return 'store'
  if (DATA.has(type)) return 'data'
  return 'unknown'
}

/**
 * Whether a failed insert may have reached ClickHouse, and so may have stored its rows or
 * recorded its deduplication token: anything but a connection the engine refused, which no
 * byte of the insert crossed.
 */
export function mayHaveReachedStore(err: unknown): boolean {
  for (let e = err, depth = 0; typeof e === 'object' && e !== null && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    if ((e as { code?: unknown }).code === 'ECONNREFUSED') return false
  }
  return true
}

/** An error of a type we do not know that every slice tried failed alike: the store's, until shown otherwise. */
export class StoreWideFailure extends Error {
  readonly type: string | undefined
  readonly code: number | undefined
  constructor(
    readonly failure: InsertFailure,
    /** Slices (or rows alone) that failed alike. */
    readonly slices: number,
  ) {
    super(failure.message)
    this.name = 'StoreWideFailure'
    this.type = failure.type
    this.code = failure.code
  }
}

/**
 * True when an insert failed for the store's reasons, not the rows': the same insert is
 * to be retried later, and no row blamed.
 */
export function isStoreFailure(err: unknown): boolean {
  if (err instanceof StoreWideFailure) return true
  const { kind } = describeInsertFailure(err)
  return kind === 'transient' || kind === 'store'
}

/** One line for logs, dead letters and /readyz. */
export function failureText(f: InsertFailure): string {
  const head = f.type ? `${f.type}${f.code ? ` (${f.code})` : ''}: ` : ''
  const first = f.message.split('\n')[0] ?? ''
  return `${head}${first.length > 300 ? `${first.slice(0, 300)}…` : first}`
}

/**
 * What `/readyz`, which takes no key, shows of a failure: ClickHouse's type and code without its
 * message, which for a row it could not parse quotes that row (any project's content); a failure
 * without a ClickHouse code (a network error, the client's timeout) as failureText writes it, an
 * address or a reason and no data. The whole text is in the log and on the admin route.
 */
export function publicFailureText(f: InsertFailure): string {
  return f.type !== undefined && f.code !== undefined ? `${f.type} (${f.code})` : failureText(f)
}
