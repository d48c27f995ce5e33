import type { ClickHouseClient } from '@clickhouse/client'
import { clickHouseErrorType, errors, isSpanlensError, isStoreUnreachable, LOGIN_REFUSED_TYPES, type SpanlensError, STORE_STATE_TYPES, storeFailure } from '../errors.js'
import { ANALYST_TABLES } from './policy.js'

/** ClickHouse's errors for an analyst's query that hit one of our limits (SPANLENS_SQL_LIMIT), by type. */
const LIMIT_ERRORS = new Set([
  'TIMEOUT_EXCEEDED',
  'MEMORY_LIMIT_EXCEEDED',
  'TOO_MANY_ROWS_OR_BYTES',
  'TOO_MANY_ROWS',
  'TOO_SLOW',
  'TOO_MANY_BYTES',
  'READONLY',
])

/** True when ClickHouse refused the query for one of the limits the sandbox sets. */
function isLimitError(err: unknown): boolean {
  return LIMIT_ERRORS.has(clickHouseErrorType(err) ?? '')
}

/**
 * True when ClickHouse failed for reasons of its own. MEMORY_LIMIT_EXCEEDED is the
 * analyst's limit when it is the query's (`Memory limit (for query) exceeded`), the
 * store's when it is the server's or the user's (`(total)`, `(for user)`).
 */
function isStoreSideError(err: unknown): boolean {
  const type = clickHouseErrorType(err) ?? ''
  // The store's own state or login (errors.ts), or a node or shard not reached (a 503): the
  // same query can succeed later, a 502 or 503 to retry naming only the type (the message
  // names internal addresses), as every other route answers a store failure.
  if (STORE_STATE_TYPES.has(type) || LOGIN_REFUSED_TYPES.has(type) || isStoreUnreachable(err)) return true
  const message = (err as { message?: unknown } | null)?.message
  return type === 'MEMORY_LIMIT_EXCEEDED' && typeof message === 'string' && /memory limit \((total|for user)\)/i.test(message)
}

export type ClickHouseSettings = NonNullable<Parameters<ClickHouseClient['query']>[0]['clickhouse_settings']>

/**
 * The most bytes of UTF-8 a query may take as the sandbox sends it. ClickHouse parses at most
 * 262,144 bytes of a statement (`max_query_size`, left at its default, which a SETTINGS clause
 * cannot raise for its own statement), and the sandbox's statements hold more than the query:
 * EXPLAIN's prefix (22 bytes) and, embedded, its limits as a SETTINGS clause (399 bytes with
 * the tests' limits; larger limits add a few digits). Past it, ClickHouse's refusal quoted
 * the query as "not valid SQL" and named no field.
 */
export const MAX_QUERY_BYTES = 262_144 - 1024

/**
 * A 400 naming `query` when `sql` is past MAX_QUERY_BYTES; `bound` when it is the text the
 * rewrite made (rewrite.ts: a table read through its project's view is longer than its name).
 */
export function checkQueryBytes(sql: string, bound: boolean): void {
  const bytes = Buffer.byteLength(sql)
  if (bytes <= MAX_QUERY_BYTES) return
  const what = bound ? `${bytes} bytes once its tables are bound to the project's views (each table read adds up to 40 bytes and the project's name)` : `${bytes} bytes of UTF-8`
  throw errors.BAD_REQUEST(`query: ${what}, over the ${MAX_QUERY_BYTES} ClickHouse parses here (docs/sql.md)`)
}

/**
 * ClickHouse with `implicit_select` on (clickhouse-local's default, so chDB's and the served
 * engine's; a server profile may set it) reads a statement that is no query as a SELECT:
 * `EXPLAIN AST FROM (SELECT 1 AS EXPLAIN) WHERE …` would run as `SELECT EXPLAIN AS AST FROM …` on
 * the base tables, before any check, and its error could quote other projects' rows. Read that way, a word
 * after the alias `AST` (the default `graph = 0`) or `QUERY` (`TREE`) is a syntax error, whatever
 * follows; read as EXPLAIN, the output is the same. A setting could not turn implicit_select
 * off here: embedded, settings become a SETTINGS clause of the explained query (sandbox.ts), and
 * a server older than the setting refuses it.
 */
const EXPLAIN_PREFIX = { AST: 'EXPLAIN AST graph = 0 ', 'QUERY TREE': 'EXPLAIN QUERY TREE ' } as const

/**
 * Runs EXPLAIN and returns its lines. The statement goes through `exec` with
 * `default_format` rather than a FORMAT clause: over HTTP a trailing FORMAT
 * binds to the explained SELECT, not to the EXPLAIN (ClickHouse issue #28575),
 * and the reply was TabSeparated text that JSON parsing refused. Embedded,
 * chdb maps default_format to its own output format, so both modes read the
 * same TabSeparated lines.
 */
export async function explain(client: ClickHouseClient, kind: 'AST' | 'QUERY TREE', sql: string, settings: ClickHouseSettings): Promise<string[]> {
  // The analyst's text was checked as sent (sandbox.ts); what the rewrite made of it is checked here.
  checkQueryBytes(sql, true)
  let text: string
  const prefix = EXPLAIN_PREFIX[kind]
  try {
    const rs = await client.exec({ query: `${prefix}${sql}`, clickhouse_settings: { ...settings, default_format: 'TabSeparated' } })
    text = await readText(rs.stream)
  } catch (err) {
    // A syntax error is reported as the parser finds it in the analyst's text alone, its
    // position counted there, not in ours ("SELEC 1" failed "at position 23" of EXPLAIN AST …).
    if (kind === 'AST' && isSyntaxError(err)) throw errors.SQL_INVALID((await syntaxErrorOf(client, sql)) ?? shiftPosition(firstLine(err), prefix.length))
    throw sqlError(err, errors.SQL_INVALID)
  }
  return text
    .split('\n')
    .map(unescapeTsv)
    .filter((l) => l.trim() !== '')
}

async function readText(stream: NodeJS.ReadableStream): Promise<string> {
  return (await readAtMost(stream, Infinity)).toString('utf8')
}

export class ResultTooLarge extends Error {}

/**
 * The stream's bytes, or ResultTooLarge once they pass `limit`. Leaving the loop early
 * ends the stream: a Node stream is destroyed (an HTTP read aborted), chDB's stream cancelled.
 */
export async function readAtMost(stream: AsyncIterable<Uint8Array | string>, limit: number): Promise<Buffer> {
  const chunks: Uint8Array[] = []
  let bytes = 0
  for await (const chunk of stream) {
    const b = typeof chunk === 'string' ? Buffer.from(chunk) : chunk
    bytes += b.length
    if (bytes > limit) throw new ResultTooLarge()
    chunks.push(b)
  }
  return Buffer.concat(chunks)
}

const TSV_ESCAPES: Record<string, string> = { b: '\b', f: '\f', r: '\r', n: '\n', t: '\t', '0': '\0', v: '\v' }

/** One TabSeparated field back to its text (ClickHouse escapes \\, \t, \n, quotes and a few controls). */
function unescapeTsv(field: string): string {
  return field.replace(/\\(.)/g, (_m, c: string) => TSV_ESCAPES[c] ?? c)
}

/**
 * What ClickHouse failed with, analysing or running the analyst's SQL: a store that failed
 * (isStoreSideError) is a 502 to retry naming only the type; a limit of ours, SQL_LIMIT;
 * anything else ClickHouse raised is the SQL's own error, `refused` (400).
 */
export function sqlError(err: unknown, refused: (line: string) => SpanlensError): Error {
  if (isSpanlensError(err)) return err
  if (!isClickHouseException(err) || isStoreSideError(err)) return storeFailure(err)
  if (isLimitError(err)) return errors.SQL_LIMIT(firstLine(err))
  return refused(firstLine(err))
}

/** ClickHouse's SYNTAX_ERROR, by code: chDB's messages do not always end in the type's name. */
const isSyntaxError = (err: unknown): boolean => (err as { code?: unknown } | null)?.code === '62'

function shiftPosition(line: string, offset: number): string {
  return line.replace(/failed at position (\d+)/, (_m, n: string) => `failed at position ${Math.max(1, Number(n) - offset)}`)
}

/**
 * The parser's message for the analyst's text alone. After `graph = 0` the parser reports a bad
 * query at the EXPLAIN's settings ("failed at position 23", nothing expected); formatQuery parses
 * the same text, given as a parameter and never run, and names the token and what it expected,
 * counted in the analyst's text. Undefined when it parses there (or the server has no formatQuery).
 */
async function syntaxErrorOf(client: ClickHouseClient, sql: string): Promise<string | undefined> {
  try {
    await client.command({ query: 'SELECT formatQuery({q:String})', query_params: { q: sql } })
    return undefined
  } catch (err) {
    if (!isSyntaxError(err)) return undefined
    // The message ends by quoting our SELECT around the analyst's text, escaped: drop that.
    return firstLine(err).replace(/:? In scope SELECT formatQuery\(.*$/, '')
  }
}

/** An exception ClickHouse raised for the query (numeric code), as opposed to a connection that failed. */
function isClickHouseException(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code
  return typeof code === 'string' && /^\d+$/.test(code)
}

/**
 * Embedded, ClickHouse quotes the query with the SETTINGS clause our limits
 * became (limitSettings puts readonly first); the clause is ours, not the
 * analyst's, and its time budget differs on every call.
 */
const OUR_SETTINGS = /\s*SETTINGS readonly = '2'(?:, [a-z_0-9]+ = (?:'[^']*'|[\d.]+))*/g

/** A ClickHouse server ends its messages with its version, which the sandbox does not reveal. */
const SERVER_VERSION = /\s*\(version [\d.]+(?: \([^)]*\))?\)/g

/**
 * On a cluster, an error a shard raised reaches the initiator as "Received from
 * 127.0.0.1:9486. DB::Exception: …": the node's address is the deployment's, not the analyst's.
 */
const SHARD_ADDRESS = /Received from \S+?\.\s+(?:DB::Exception: )?/g

/**
 * ClickHouse's hint for a misspelt table names it with the database ("Maybe you meant
 * spanlens.spans?"), which the sandbox does not reveal either, and a table the analyst
 * does not write: the analyst's name is `spans`.
 */
const QUALIFIED_HINT = /(Maybe you meant:? \[?'?)\w+\.(\w+)/g
/**
 * ClickHouse's hint for a misspelt name: `Maybe you meant spans_minute?.` (a table) or
 * `Maybe you meant: ['service_name']` (columns, functions).
 */
const HINT = /\s*Maybe you meant:? (\[[^\]]*\]|[\w.]+)\??\.?/g
/** A message about a table name, whose hint names tables of the database. */
const ABOUT_A_TABLE = /table expression identifier|Unknown table\b|Table \S+ does not exist/i

/**
 * A hint for a misspelt table keeps the analyst's tables alone: ClickHouse picks from every
 * table of the database, and named the ones the sandbox refuses (`spans_minute_mv`,
 * `trace_hours`, `span_content`, `schema_migrations`). No row is in a name, but they are
 * not the analyst's to read, and a hint to one leads to a refusal. Left with none, the hint goes.
 */
function analystHints(line: string): string {
  if (!ABOUT_A_TABLE.test(line)) return line
  return line.replace(HINT, (_m, names: string) => {
    const kept = names.replace(/^\[|\]$/g, '').split(',').map((n) => n.trim().replace(/^'|'$/g, '').replace(/^\w+\./, '')).filter((n) => Object.hasOwn(ANALYST_TABLES, n))
    return kept.length > 0 ? ` Maybe you meant ${kept.join(' or ')}?` : ''
  })
}

/** The rewrite the analyst did not write (rewrite.ts): a table read through its project's view, in a quoted scope. */
const PROJECT_VIEW = /analyst_(\w+)\(project = '(?:[^'\\]|\\.)*'\)(?: AS \1\b)?/g

function firstLine(err: unknown): string {
  const line = String((err as Error).message ?? err).split('\n')[0] ?? 'error'
  return analystHints(line.replace(OUR_SETTINGS, '').replace(SERVER_VERSION, '').replace(SHARD_ADDRESS, '').replace(QUALIFIED_HINT, '$1$2').replace(PROJECT_VIEW, '$1')).slice(0, 500)
}
