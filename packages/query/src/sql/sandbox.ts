import type { ClickHouseClient } from '@clickhouse/client'
import { clickHouseErrorType, errors } from '../errors.js'
import { checkQueryBytes, type ClickHouseSettings, explain, ResultTooLarge, sqlError } from './explain.js'
import { lex, significant, type Token } from './lexer.js'
import { checkAst, checkBoundAst, checkQueryTree, parseAstLines } from './policy.js'
import { collectBlocks, type CompactResult, parseBlocks, readDocument, type ReadResult, STREAM_FORMAT } from './result.js'
import { bindTables } from './rewrite.js'

export interface SandboxLimits {
  maxExecutionSeconds: number
  maxMemoryBytes: number
  maxResultRows: number
  /** SPANLENS_SQL_MAX_RESULT_BYTES: the most a result may weigh, in ClickHouse and as the reply's JSON. */
  maxResultBytes: number
}

/**
 * Runs one statement and hands its output to `read` as the store produces it, the settings
 * scoped to that statement; what `read` returns or throws is the answer. Embedded only
 * (Store.streamQuery): chDB's queryStream, one block's output at a time, where `exec`
 * materializes the whole output before handing any of it over. Leaving `read` early, by
 * return or throw, cancels the statement.
 */
export type StreamQuery = <T>(
  params: { query: string; clickhouse_settings: ClickHouseSettings },
  read: (chunks: AsyncIterable<Uint8Array>) => Promise<T>,
) => Promise<T>

export interface SqlResult {
  /** Rows as ClickHouse writes JSON: 64-bit and wider integers and decimals as strings, exact. */
  data: Array<Record<string, unknown>>
  rows: number
  meta: Array<{ name: string; type: string }>
  /**
   * Only the time taken. ClickHouse's rows_read and bytes_read count every row in
   * the granules the view read, other projects' rows included (a merged part
   * holds all projects), so they would tell a caller how much data others have.
   */
  statistics: { elapsed: number }
}

/** Strips trailing semicolons; refuses any other statement separator. */
function singleStatement(tokens: Token[]): Token[] {
  let end = tokens.length
  while (end > 0 && (!significant(tokens[end - 1] as Token) || (tokens[end - 1] as Token).text === ';')) end--
  const body = tokens.slice(0, end)
  if (body.some((t) => t.kind === 'punct' && t.text === ';')) throw errors.SQL_FORBIDDEN('only one statement is allowed')
  if (!body.some(significant)) throw errors.BAD_REQUEST('query: holds no statement, only blanks or comments')
  return body
}

/**
 * The settings every statement of one sandboxed query runs under, the EXPLAINs
 * included: the analyzer runs scalar subqueries while it builds the query tree,
 * so an EXPLAIN without limits ran `SELECT (SELECT sum(cityHash64(number)) FROM
 * numbers(2e10))` for 16 s under a 3 s limit. `seconds` is what is left of the
 * query's one time budget.
 */
function limitSettings(limits: SandboxLimits, seconds: number): ClickHouseSettings {
  return {
    readonly: '2',
    max_execution_time: Math.max(0.1, Math.round(seconds * 1000) / 1000),
    timeout_overflow_mode: 'throw',
    max_memory_usage: String(limits.maxMemoryBytes),
    allow_ddl: 0,
    allow_introspection_functions: 0,
  } as ClickHouseSettings
}

/**
 * Rows per block of the sandboxed statement (max_block_size, and a cross join's blocks). The
 * result limits are checked once a block exists, and embedded, chDB writes a whole block's
 * output in memory, at ~6.5 times its size in RSS (51 MB of output: +344 MB), before handing
 * any of it over. In ClickHouse's 65,409-row blocks, 9,000 rows of a constant 200 kB string
 * reached the 2 GiB memory limit (server RSS 2.4 GB); in blocks of 256 the result limit
 * stopped them at 0.8 GB (docs/sql.md has the figures). What honours it: numbers(), zeros(),
 * aggregation, sort and window output, cross joins; a read of the views comes in granules (up
 * to 8,192 rows) whatever it says, so queries over them took as long as before (within the
 * host's noise), and a bare scan of numbers(1e8) 16 times as long (1.8 s; 3.4 s in blocks of 128).
 */
const OUTPUT_BLOCK_ROWS = 256

/** The names of every table and view in the Spanlens database, which the analyst may read only through the views. */
async function databaseTables(client: ClickHouseClient, database: string): Promise<Set<string>> {
  try {
    const rs = await client.query({ query: 'SELECT name FROM system.tables WHERE database = {database:String}', query_params: { database }, format: 'JSONEachRow' })
    return new Set((await rs.json<{ name: string }>()).map((r) => r.name))
  } catch (err) {
    throw sqlError(err, errors.SQL_FAILED)
  }
}

/**
 * Runs one read-only SELECT for a project. Decided by ClickHouse's parser and
 * analyzer, never by pattern matching on the text:
 *  1. EXPLAIN AST: a single SELECT, no SETTINGS/INTO OUTFILE/FORMAT, no table
 *     functions but numbers/zeros/values, no dictionaries, files or server state;
 *  2. table references spans/scores/spans_minute/metrics/logs become analyst_*(project = <caller>),
 *     where a second EXPLAIN AST says a table is read (rewrite.ts); a third, of the rewritten
 *     query, refuses any other table of the database read by name (policy.ts, checkBoundAst):
 *     step 3's analyzer runs scalar subqueries, so nothing may reach it that reads a base table;
 *  3. EXPLAIN QUERY TREE of the rewritten query: every table read is one of those
 *     views and no function resolves to a refused one;
 *  4. executed with readonly = 2 and time, memory, result-row and result-byte limits, its
 *     output read as a stream and dropped at the byte limit (embedded: StreamQuery).
 * Steps 3 and 4 share one time budget (maxExecutionSeconds) and each runs
 * under the memory limit (step 1 only parses).
 */
export async function runSandboxedSql(
  client: ClickHouseClient,
  project: string,
  query: string,
  opts: { database: string; limits: SandboxLimits; cluster?: boolean; stream?: StreamQuery | undefined },
): Promise<SqlResult> {
  if (typeof query !== 'string' || query.length === 0) throw errors.BAD_REQUEST('query: expected a non-empty string')
  checkQueryBytes(query, false)
  const { limits } = opts
  const started = Date.now()
  const remaining = () => limits.maxExecutionSeconds - (Date.now() - started) / 1000
  const tokens = singleStatement(lex(query))
  const original = tokens.map((t) => t.text).join('')
  // EXPLAIN AST only parses, so it runs without settings: embedded, they would
  // become a SETTINGS clause inside the very AST being checked.
  const ast = parseAstLines(await explain(client, 'AST', original, {}))
  checkAst(ast)
  const rewritten = await bindTables(client, tokens, project, ast)
  checkBoundAst(parseAstLines(await explain(client, 'AST', rewritten, {})), await databaseTables(client, opts.database))
  checkQueryTree(await explain(client, 'QUERY TREE', rewritten, limitSettings(limits, remaining())), opts.database)
  if (remaining() <= 0) throw errors.SQL_LIMIT(`analysis took the whole ${limits.maxExecutionSeconds} s budget`)
  const settings = {
    ...limitSettings(limits, remaining()),
    // JSONCompact names each column once, in `meta`; JSON repeated a 1,000-character
    // alias in every row, so 10,000 small rows could be gigabytes of output. A stream
    // reads its own format, which names them once too (result.ts).
    default_format: 'JSONCompact',
    max_result_rows: String(limits.maxResultRows),
    // ClickHouse counts the result's blocks in memory and checks after each block: it
    // refuses an oversized result before it is written out. A constant column counts
    // as its one value there; the reader below counts what is written.
    max_result_bytes: String(limits.maxResultBytes),
    result_overflow_mode: 'throw',
    // Both counts run once a block exists, so a block is what the result limit lets
    // through: see OUTPUT_BLOCK_ROWS.
    max_block_size: String(OUTPUT_BLOCK_ROWS),
    max_joined_block_size_rows: String(OUTPUT_BLOCK_ROWS),
    // A (U)Int64/128/256 or Decimal value as a string with every digit (for integers
    // ClickHouse's own default): as a JSON number it is read into a double, exact only to
    // 2^53, so cityHash64('a') = 2603192927274642682 would reach the caller as …400.
    output_format_json_quote_64bit_integers: 1,
    output_format_json_quote_decimals: 1,
    // Over HTTP an exception after the first rows would otherwise arrive
    // inside the JSON body; with it, it arrives as an error. Embedded ignores it.
    wait_end_of_query: 1,
    // On a cluster, pushing a filter with `IN (SELECT ... FROM analyst_spans(project = ...))`
    // into the Distributed read sends the view to the shards without its parameter
    // (ClickHouse 26.7: "Identifier '__table1.trace_id' cannot be resolved"), in every
    // distributed_product_mode. Without the push-down, outer filters run on the initiator.
    ...(opts.cluster ? { query_plan_filter_push_down: 0 } : {}),
  } as ClickHouseSettings
  let result: ReadResult
  try {
    // Embedded, `exec` hands the output over once chDB has written all of it, in memory,
    // however many blocks it took; streamed, chDB writes one block at a time and the reader
    // stops at the limit. Over HTTP `exec`'s body is a stream already (read whole, a 500 MB
    // result took the server's RSS to 4.4 GB).
    result = opts.stream
      ? parseBlocks(await opts.stream({ query: rewritten, clickhouse_settings: { ...settings, default_format: STREAM_FORMAT } }, (chunks) => collectBlocks(chunks, limits.maxResultBytes)))
      : await readDocument((await client.exec({ query: rewritten, clickhouse_settings: settings })).stream, limits.maxResultBytes)
  } catch (err) {
    throw resultLimitError(err, limits) ?? sqlError(err, errors.SQL_FAILED)
  }
  return objectRows(result.body, result.bytes, limits.maxResultBytes)
}

const tooLarge = (limit: number, cause?: unknown) =>
  errors.SQL_LIMIT(`the result is larger than ${limit} bytes (SPANLENS_SQL_MAX_RESULT_BYTES)`, ...(cause === undefined ? [] : [{ cause }]))

/** The result limits, named by their variables; undefined for any other error. */
function resultLimitError(err: unknown, limits: SandboxLimits): Error | undefined {
  if (err instanceof ResultTooLarge) return tooLarge(limits.maxResultBytes)
  if (clickHouseErrorType(err) !== 'TOO_MANY_ROWS_OR_BYTES') return undefined
  const message = String((err as { message?: unknown }).message)
  if (/max bytes/i.test(message)) return tooLarge(limits.maxResultBytes, err)
  if (/max rows/i.test(message)) return errors.SQL_LIMIT(`the result has more than ${limits.maxResultRows} rows (SPANLENS_SQL_MAX_RESULT_ROWS)`, { cause: err })
  return undefined
}

/**
 * The reply's rows as objects keyed by column name. The reply repeats every name in every
 * row, so its size is checked before it is built: a result under the limit as JSONCompact
 * must not become a reply many times over it.
 */
function objectRows(body: CompactResult, bytes: number, limit: number): SqlResult {
  const meta = body.meta ?? []
  const data = body.data ?? []
  const perRow = meta.reduce((n, m) => n + Buffer.byteLength(JSON.stringify(m.name)) + 3, 2)
  if (bytes + data.length * perRow > limit) throw tooLarge(limit)
  return {
    data: data.map((row) => {
      const o: Record<string, unknown> = {}
      meta.forEach((m, i) => {
        o[m.name] = row[i]
      })
      return o
    }),
    rows: Number(body.rows ?? data.length),
    meta,
    statistics: { elapsed: Number(body.statistics?.elapsed ?? 0) },
  }
}
