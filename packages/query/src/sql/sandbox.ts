import type { ClickHouseClient } from '@clickhouse/client'
import { storeFailure } from '../db.js'
import { errors, isQueryError } from '../errors.js'
import { lex, significant, type Token } from './lexer.js'

export interface SandboxLimits {
  maxExecutionSeconds: number
  maxMemoryBytes: number
  maxResultRows: number
}

export interface SqlResult {
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

/** Plain names analysts write, and the project-scoped parameterized views they become. */
export const ANALYST_TABLES: Record<string, string> = {
  spans: 'analyst_spans',
  scores: 'analyst_scores',
  spans_minute: 'analyst_spans_minute',
}
/** Table functions that read nothing outside the query. */
export const TABLE_FUNCTION_ALLOW = new Set(['numbers', 'numbers_mt', 'zeros', 'zeros_mt', 'generate_series', 'generateseries', 'values', 'null'])
/** System tables with nothing private in them. */
export const SYSTEM_TABLE_ALLOW = new Set(['system.one', 'system.numbers', 'system.numbers_mt', 'system.zeros'])
/**
 * Scalar functions refused by name (lower case), as written in the AST (aliases
 * included) and as the analyzer resolves them in the query tree (canonical
 * names). They reach outside the query's data (files, dictionaries, other
 * tables, settings), reveal the server's identity or state (version, user,
 * database, host, ports, time zone, uptime, query and connection ids), write
 * to the server log, or stall the one embedded engine.
 */
export const FUNCTION_DENY = new Set([
  // identity and state of the server and session
  'version', 'revision', 'buildid', 'uptime', 'hostname', 'fqdn', 'fullhostname', 'serveruuid', 'getoskernelversion',
  'tcpport', 'getserverport', 'displayname', 'shardnum', 'shardcount', 'hasthreadfuzzer', 'zookeepersessionuptime',
  'currentuser', 'user', 'current_user', 'session_user', 'authenticateduser',
  'currentdatabase', 'database', 'current_database', 'schema', 'currentschemas', 'current_schemas',
  'timezone', 'servertimezone', 'queryid', 'currentqueryid', 'current_query_id', 'initialqueryid', 'initialquerystarttime',
  'connectionid', 'connection_id', 'transactionid', 'transactionlatestsnapshot', 'transactionoldestsnapshot',
  'currentprofiles', 'currentroles', 'enabledroles', 'defaultroles', 'getclienthttpheader', 'getmacro',
  'getsetting', 'getsettingordefault', 'getserversetting', 'getmergetreesetting', 'globalvariable',
  'getmaxtablenamelengthfordatabase', 'hascolumnintable',
  // data outside the query
  'file', 'joinget', 'joingetornull', 'input', 'evalmlmethod', 'catboostevaluate', 'naivebayesclassifier',
  // side effects and stalls
  'logtrace', 'sleep', 'sleepeachrow',
])
/** Name prefixes refused the same way: families of the above, and ClickHouse's internal `__` functions. */
const FUNCTION_DENY_PREFIX = ['dict', 'filesystem', 'zookeeper', 'url', 's3', 'remote', '__']

export function isDeniedFunction(name: string): boolean {
  const fn = name.toLowerCase()
  return FUNCTION_DENY.has(fn) || FUNCTION_DENY_PREFIX.some((p) => fn.startsWith(p))
}

interface AstNode {
  depth: number
  type: string
  name: string
}

function parseAstLines(lines: string[]): AstNode[] {
  return lines.map((line) => {
    const depth = line.length - line.trimStart().length
    const m = /^(\S+)(?:\s+(.*?))?(?:\s+\(children \d+\))?$/.exec(line.trim()) as RegExpExecArray
    const rest = (m[2] ?? '').replace(/\s*\(alias [^)]*\)$/, '').replace(/\s*\(children \d+\)$/, '')
    return { depth, type: m[1] as string, name: rest }
  })
}

/** Strips trailing semicolons; refuses any other statement separator. */
function singleStatement(tokens: Token[]): Token[] {
  let end = tokens.length
  while (end > 0 && (!significant(tokens[end - 1] as Token) || (tokens[end - 1] as Token).text === ';')) end--
  const body = tokens.slice(0, end)
  if (body.some((t) => t.kind === 'punct' && t.text === ';')) throw errors.SQL_FORBIDDEN('only one statement is allowed')
  if (!body.some(significant)) throw errors.BAD_REQUEST('query is empty')
  return body
}

/**
 * Runs EXPLAIN and returns its lines. The statement goes through `exec` with
 * `default_format` rather than a FORMAT clause: over HTTP a trailing FORMAT
 * binds to the explained SELECT, not to the EXPLAIN (ClickHouse issue #28575),
 * and the reply was TabSeparated text that JSON parsing refused. Embedded,
 * chdb maps default_format to its own output format, so both modes read the
 * same TabSeparated lines.
 */
async function explain(client: ClickHouseClient, kind: 'AST' | 'QUERY TREE', sql: string, settings: ClickHouseSettings): Promise<string[]> {
  let text: string
  try {
    const rs = await client.exec({ query: `EXPLAIN ${kind} ${sql}`, clickhouse_settings: { ...settings, default_format: 'TabSeparated' } })
    text = await readText(rs.stream)
  } catch (err) {
    throw analysisError(err)
  }
  return text
    .split('\n')
    .map(unescapeTsv)
    .filter((l) => l.trim() !== '')
}

async function readText(stream: AsyncIterable<Buffer | string>): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk)
  return Buffer.concat(chunks).toString('utf8')
}

const TSV_ESCAPES: Record<string, string> = { b: '\b', f: '\f', r: '\r', n: '\n', t: '\t', '0': '\0', v: '\v' }

/** One TabSeparated field back to its text (ClickHouse escapes \\, \t, \n, quotes and a few controls). */
export function unescapeTsv(field: string): string {
  return field.replace(/\\(.)/g, (_m, c: string) => TSV_ESCAPES[c] ?? c)
}

/** A limit hit while analysing is the analyst's limit; a store that failed is a 502; anything else ClickHouse refused is invalid SQL. */
function analysisError(err: unknown): Error {
  if (isQueryError(err)) return err
  if (!isClickHouseException(err)) return storeFailure(err)
  if (LIMIT_CODES.has(String((err as { code: string }).code))) return errors.SQL_LIMIT(firstLine(err))
  return errors.SQL_INVALID(firstLine(err))
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

function firstLine(err: unknown): string {
  const line = String((err as Error).message ?? err).split('\n')[0] ?? 'error'
  return line.replace(OUR_SETTINGS, '').slice(0, 500)
}

/** Decides from ClickHouse's AST of the caller's query whether it may run at all. */
function checkAst(nodes: AstNode[]): void {
  const root = nodes[0]
  if (!root || root.depth !== 0 || root.type !== 'SelectWithUnionQuery') throw errors.SQL_FORBIDDEN('only a SELECT query is allowed')
  const rootChildren = nodes.filter((n) => n.depth === 1)
  if (rootChildren.length !== 1 || rootChildren[0]?.type !== 'ExpressionList') {
    throw errors.SQL_FORBIDDEN('INTO OUTFILE, FORMAT and SETTINGS clauses are not allowed')
  }
  const stack: AstNode[] = []
  for (const n of nodes) {
    while (stack.length > 0 && (stack[stack.length - 1] as AstNode).depth >= n.depth) stack.pop()
    const parent = stack[stack.length - 1]
    stack.push(n)
    if (n.type === 'Set' || n.type === 'SetQuery') throw errors.SQL_FORBIDDEN('SETTINGS are not allowed')
    if (n.type === 'TableIdentifier' || n.type === 'Identifier') {
      const name = n.name.toLowerCase().replace(/`/g, '')
      if (name.split('.').some((part) => part.startsWith('analyst_'))) throw errors.SQL_FORBIDDEN('use spans, scores and spans_minute; analyst_* views are applied for you')
      if (n.type === 'TableIdentifier' && name.includes('.') && !SYSTEM_TABLE_ALLOW.has(name)) {
        throw errors.SQL_FORBIDDEN(`table ${n.name} is not available; use spans, scores or spans_minute`)
      }
    }
    if (n.type === 'Function') {
      const fn = n.name.toLowerCase()
      if (parent?.type === 'TableExpression') {
        if (!TABLE_FUNCTION_ALLOW.has(fn)) throw errors.SQL_FORBIDDEN(`table function ${n.name} is not allowed`)
      } else if (isDeniedFunction(fn)) {
        throw errors.SQL_FORBIDDEN(`function ${n.name} is not allowed`)
      }
    }
  }
}

const CLAUSE_WORDS = new Set([
  'where', 'prewhere', 'group', 'order', 'limit', 'offset', 'having', 'window', 'qualify', 'union', 'except', 'intersect',
  'join', 'inner', 'left', 'right', 'full', 'cross', 'outer', 'any', 'all', 'asof', 'semi', 'anti', 'global', 'array',
  'on', 'using', 'sample', 'final', 'settings', 'format', 'into', 'as', 'paste',
])

/**
 * Replaces each table reference `spans` / `scores` / `spans_minute` with the
 * parameterized view for the caller's project, keeping the name as alias so
 * `spans.trace_id` still resolves. A FINAL after it is dropped (the views de-duplicate).
 */
export function rewrite(tokens: Token[], project: string): string {
  const literal = `'${project.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`
  const sig = tokens.map((t, i) => ({ t, i })).filter(({ t }) => significant(t))
  const out = tokens.map((t) => t.text)
  for (let s = 0; s < sig.length; s++) {
    const { t, i } = sig[s] as { t: Token; i: number }
    if (t.kind !== 'ident' && t.kind !== 'quoted_ident') continue
    const view = ANALYST_TABLES[t.kind === 'ident' ? t.value.toLowerCase() : t.value]
    if (!view) continue
    const prev = sig[s - 1]?.t
    const next = sig[s + 1]?.t
    if (prev && (prev.text === '.' || prev.value.toLowerCase() === 'as')) continue
    if (next && (next.text === '.' || next.text === '(')) continue
    const hasAlias = next !== undefined && (next.value.toLowerCase() === 'as' || (next.kind !== 'punct' && !CLAUSE_WORDS.has(next.value.toLowerCase())))
    out[i] = `${view}(project = ${literal})${hasAlias ? '' : ` AS ${t.kind === 'ident' ? t.value : `\`${t.value}\``}`}`
    if (next && next.kind === 'ident' && next.value.toLowerCase() === 'final') out[sig[s + 1]!.i] = ''
  }
  return out.join('')
}

/** After the rewrite, ClickHouse's analyzer must see no table but our views and allowed ones. */
function checkQueryTree(lines: string[], database: string): void {
  const views = new Set(Object.values(ANALYST_TABLES).map((v) => `${database}.${v}`))
  for (const line of lines) {
    const table = /^\s*TABLE id: \d+.*?, table_name: (\S+)/.exec(line)
    if (table) {
      const name = (table[1] as string).replace(/,$/, '')
      if (!views.has(name) && !SYSTEM_TABLE_ALLOW.has(name)) throw errors.SQL_FORBIDDEN(`table ${name.split('.').pop()} is not available; use spans, scores or spans_minute`)
    }
    const fn = /^\s*TABLE_FUNCTION id: \d+.*?, table_function_name: (\S+)/.exec(line)
    if (fn && !TABLE_FUNCTION_ALLOW.has((fn[1] as string).replace(/,$/, '').toLowerCase())) throw errors.SQL_FORBIDDEN(`table function ${fn[1]} is not allowed`)
    // The analyzer names every function by its canonical name, so an alias the AST check missed is caught here.
    const call = /^\s*FUNCTION id: \d+, function_name: ([^,\s]+)/.exec(line)
    if (call && isDeniedFunction(call[1] as string)) throw errors.SQL_FORBIDDEN(`function ${call[1]} is not allowed`)
  }
}

// TIMEOUT_EXCEEDED, MEMORY_LIMIT_EXCEEDED, TOO_MANY_ROWS_OR_BYTES, TOO_MANY_ROWS, TOO_SLOW, TOO_MANY_BYTES, TOO_MANY_COLUMNS
const LIMIT_CODES = new Set(['159', '241', '396', '158', '160', '307', '164'])

type ClickHouseSettings = NonNullable<Parameters<ClickHouseClient['query']>[0]['clickhouse_settings']>

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
 * Runs one read-only SELECT for a project. Decided by ClickHouse's parser and
 * analyzer, never by pattern matching on the text:
 *  1. EXPLAIN AST: a single SELECT, no SETTINGS/INTO OUTFILE/FORMAT, no table
 *     functions but numbers/zeros/values, no dictionaries, files or server state;
 *  2. table references spans/scores/spans_minute become analyst_*(project = <caller>);
 *  3. EXPLAIN QUERY TREE of the rewritten query: every table read is one of those
 *     views and no function resolves to a refused one;
 *  4. executed with readonly = 2 and time, memory and result-row limits.
 * Steps 3 and 4 share one time budget (maxExecutionSeconds) and each runs
 * under the memory limit (step 1 only parses).
 */
export async function runSandboxedSql(
  client: ClickHouseClient,
  project: string,
  query: string,
  opts: { database: string; limits: SandboxLimits },
): Promise<SqlResult> {
  if (typeof query !== 'string' || query.length === 0) throw errors.BAD_REQUEST('query: expected a non-empty string')
  if (query.length > 100_000) throw errors.BAD_REQUEST('query: longer than 100000 characters')
  const { limits } = opts
  const started = Date.now()
  const remaining = () => limits.maxExecutionSeconds - (Date.now() - started) / 1000
  const tokens = singleStatement(lex(query))
  const original = tokens.map((t) => t.text).join('')
  // EXPLAIN AST only parses, so it runs without settings: embedded, they would
  // become a SETTINGS clause inside the very AST being checked.
  checkAst(parseAstLines(await explain(client, 'AST', original, {})))
  const rewritten = rewrite(tokens, project)
  checkQueryTree(await explain(client, 'QUERY TREE', rewritten, limitSettings(limits, remaining())), opts.database)
  if (remaining() <= 0) throw errors.SQL_LIMIT(`analysis took the whole ${limits.maxExecutionSeconds} s budget`)
  try {
    const rs = await client.query({
      query: rewritten,
      format: 'JSON',
      clickhouse_settings: {
        ...limitSettings(limits, remaining()),
        max_result_rows: String(limits.maxResultRows),
        result_overflow_mode: 'throw',
        output_format_json_quote_64bit_integers: 0,
        // Over HTTP an exception after the first rows would otherwise arrive
        // inside the JSON body; with it, it arrives as an error. Embedded ignores it.
        wait_end_of_query: 1,
      },
    })
    const body = await rs.json<Record<string, unknown>>()
    return {
      data: body.data as SqlResult['data'],
      rows: Number(body.rows ?? 0),
      meta: (body.meta ?? []) as SqlResult['meta'],
      statistics: { elapsed: Number((body.statistics as { elapsed?: unknown } | undefined)?.elapsed ?? 0) },
    }
  } catch (err) {
    if (isQueryError(err)) throw err
    if (!isClickHouseException(err)) throw storeFailure(err)
    const code = String((err as { code: string }).code)
    if (LIMIT_CODES.has(code)) throw errors.SQL_LIMIT(firstLine(err))
    throw errors.SQL_FAILED(firstLine(err))
  }
}
