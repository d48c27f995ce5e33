import { errors } from '../errors.js'

/**
 * What the SQL sandbox lets an analyst read and call, and the checks that apply
 * it to ClickHouse's own AST and query tree of the query (docs/security.md).
 */

/** Plain names analysts write, and the project-scoped parameterized views they become. */
export const ANALYST_TABLES: Record<string, string> = {
  spans: 'analyst_spans',
  scores: 'analyst_scores',
  spans_minute: 'analyst_spans_minute',
  metrics: 'analyst_metrics',
  logs: 'analyst_logs',
}
const TABLE_NAMES = Object.keys(ANALYST_TABLES).join(', ')
/** Table functions that read nothing outside the query. */
const TABLE_FUNCTION_ALLOW = new Set(['numbers', 'numbers_mt', 'zeros', 'zeros_mt', 'generate_series', 'generateseries', 'values', 'null'])
/** System tables with nothing private in them. */
const SYSTEM_TABLE_ALLOW = new Set(['system.one', 'system.numbers', 'system.numbers_mt', 'system.zeros'])
/**
 * Scalar functions refused by name (lower case), as written in the AST (aliases
 * included) and as the analyzer resolves them in the query tree (canonical
 * names). They reach outside the query's data (files, dictionaries, other
 * tables, settings), reveal the server's identity or state (version, user,
 * database, host, ports, time zone, uptime, query and connection ids), write
 * to the server log, or stall the one embedded engine.
 */
const FUNCTION_DENY = new Set([
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

/**
 * Virtual columns that describe where rows live rather than what they hold:
 * `_database` answered `spanlens` and `_table` `analyst_spans` through the views,
 * the same facts as currentDatabase(). Refused as the analyzer resolves them.
 */
const VIRTUAL_COLUMN_DENY = /^_(database|table|shard_num|part\w*|partition\w*|row_exists|block_\w+|disk_name|path|file|size|time|etag|sample_factor)$/

function isDeniedFunction(name: string): boolean {
  const fn = name.toLowerCase()
  return FUNCTION_DENY.has(fn) || FUNCTION_DENY_PREFIX.some((p) => fn.startsWith(p))
}

export interface AstNode {
  depth: number
  type: string
  name: string
}

export function parseAstLines(lines: string[]): AstNode[] {
  return lines.map((line) => {
    const depth = line.length - line.trimStart().length
    const m = /^(\S+)(?:\s+(.*?))?(?:\s+\(children \d+\))?$/.exec(line.trim()) as RegExpExecArray
    // Greedy: ClickHouse prints an alias unquoted, so `AS \`a)b\`` ends the line in "(alias a)b)".
    const rest = (m[2] ?? '').replace(/\s*\(children \d+\)$/, '').replace(/\s*\(alias .*\)$/, '')
    return { depth, type: m[1] as string, name: rest }
  })
}

/** Decides from ClickHouse's AST of the caller's query whether it may run at all. */
export function checkAst(nodes: AstNode[]): void {
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
      if (name.split('.').some((part) => part.startsWith('analyst_'))) throw errors.SQL_FORBIDDEN(`use ${TABLE_NAMES}; analyst_* views are applied for you`)
      if (n.type === 'TableIdentifier' && name.includes('.') && !SYSTEM_TABLE_ALLOW.has(name)) {
        throw errors.SQL_FORBIDDEN(`table ${n.name} is not available; use ${TABLE_NAMES}`)
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

/** in, notIn, globalIn, nullIn and their other combinations: `x IN t` reads the table t. */
const IN_FAMILY = /^(global)?(not)?(null)?in$/i

/**
 * The rewritten query's AST, before the analyzer sees it: the analyzer runs scalar subqueries
 * while it builds the query tree (EXPLAIN QUERY TREE), so a base table named there was read,
 * and ClickHouse's error quoted its rows, before checkQueryTree could refuse it:
 * `SELECT (SELECT toUInt8(groupArray(input)) FROM span_content)` failed with every project's
 * content in the message. Here only the parser has run. `tables` are the names in the Spanlens
 * database (views and tables alike): read from FROM, JOIN or `IN name`, any of them is refused.
 * A WITH subquery of such a name is refused with it: the AST does not say which a name means.
 */
export function checkBoundAst(nodes: AstNode[], tables: ReadonlySet<string>): void {
  const stack: AstNode[] = []
  /** How many children each open node has shown so far. */
  const seen = new Map<AstNode, number>()
  for (const n of nodes) {
    while (stack.length > 0 && (stack[stack.length - 1] as AstNode).depth >= n.depth) stack.pop()
    const parent = stack[stack.length - 1]
    const grandparent = stack[stack.length - 2]
    const position = parent === undefined ? 0 : (seen.get(parent) ?? 0)
    if (parent !== undefined) seen.set(parent, position + 1)
    stack.push(n)
    const name = n.name.replace(/`/g, '')
    const readAsTable =
      n.type === 'TableIdentifier' ||
      (n.type === 'Identifier' && position > 0 && parent?.type === 'ExpressionList' && grandparent?.type === 'Function' && IN_FAMILY.test(grandparent.name))
    if (!readAsTable) continue
    if (name.includes('.') ? !SYSTEM_TABLE_ALLOW.has(name.toLowerCase()) : tables.has(name)) throw errors.SQL_FORBIDDEN(tableRefusal(name.split('.').pop() as string))
  }
}

/**
 * Why a table read is refused. An analyst table read as itself was named where the rewrite
 * binds no view, as in `x IN spans`: the sandbox binds only tables in FROM and JOIN.
 */
function tableRefusal(table: string): string {
  if (Object.hasOwn(ANALYST_TABLES, table)) return `${table} reads your project's rows only after FROM or JOIN; for IN, write IN (SELECT … FROM ${table})`
  return `table ${table} is not available; use ${TABLE_NAMES}`
}

/** After the rewrite, ClickHouse's analyzer must see no table but our views and allowed ones. */
export function checkQueryTree(lines: string[], database: string): void {
  checkVirtualColumns(lines)
  const views = new Set(Object.values(ANALYST_TABLES).map((v) => `${database}.${v}`))
  for (const line of lines) {
    const table = /^\s*TABLE id: \d+.*?, table_name: (\S+)/.exec(line)
    if (table) {
      const name = (table[1] as string).replace(/,$/, '')
      if (!views.has(name) && !SYSTEM_TABLE_ALLOW.has(name)) throw errors.SQL_FORBIDDEN(tableRefusal(name.split('.').pop() as string))
    }
    const fn = /^\s*TABLE_FUNCTION id: \d+.*?, table_function_name: (\S+)/.exec(line)
    if (fn && !TABLE_FUNCTION_ALLOW.has((fn[1] as string).replace(/,$/, '').toLowerCase())) throw errors.SQL_FORBIDDEN(`table function ${fn[1]} is not allowed`)
    // The analyzer names every function by its canonical name, so an alias the AST check missed is caught here.
    const call = /^\s*FUNCTION id: \d+, function_name: ([^,\s]+)/.exec(line)
    if (call && isDeniedFunction(call[1] as string)) throw errors.SQL_FORBIDDEN(`function ${call[1]} is not allowed`)

  }
}

/** A column read straight from a table or table function (not a subquery's) may not be a refused virtual column. */
function checkVirtualColumns(lines: string[]): void {
  const tables = new Set<string>()
  for (const line of lines) {
    const t = /^\s*TABLE(?:_FUNCTION)? id: (\d+),/.exec(line)
    if (t) tables.add(t[1] as string)
  }
  for (const line of lines) {
    const c = /^\s*COLUMN id: \d+, column_name: ([^,\s]+),.*\bsource_id: (\d+)/.exec(line)
    if (c && tables.has(c[2] as string) && VIRTUAL_COLUMN_DENY.test(c[1] as string)) {
      throw errors.SQL_FORBIDDEN(`virtual column ${c[1]} is not allowed`)
    }
  }
}
