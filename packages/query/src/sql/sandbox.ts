import type { ClickHouseClient } from '@clickhouse/client'
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
  statistics: { elapsed: number; rows_read: number; bytes_read: number }
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
/** Scalar functions that reach outside the query's data (files, dictionaries, other tables, server state) or stall it. */
const FUNCTION_DENY = [
  /^file$/i,
  /^dict/i,
  /^joinget/i,
  /^getsetting/i,
  /^getserversetting/i,
  /^getmergetreesetting/i,
  /^hascolumnintable$/i,
  /^filesystem/i,
  /^getmacro$/i,
  /^hostname$/i,
  /^fqdn$/i,
  /^serveruuid$/i,
  /^getoskernelversion$/i,
  /^showcertificate$/i,
  /^getclienthttpheader$/i,
  /^sleep/i,
  /^evalmlmethod$/i,
  /^catboostevaluate$/i,
  /^naivebayesclassifier$/i,
  /^globalvariable$/i,
  /^current(profiles|roles)$/i,
  /^enabledroles$/i,
  /^defaultroles$/i,
  /^zookeeper/i,
  /^url/i,
  /^s3/i,
  /^remote/i,
  /^input$/i,
]

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

async function explain(client: ClickHouseClient, kind: 'AST' | 'QUERY TREE', sql: string): Promise<string[]> {
  try {
    const rs = await client.query({ query: `EXPLAIN ${kind} ${sql}`, format: 'JSONEachRow' })
    // Over HTTP each row is {"explain": line}; chDB's embedded connection yields bare strings.
    const rows = await rs.json<string | { explain: string }>()
    return rows.map((r) => (typeof r === 'string' ? r : r.explain)).filter((l) => l.trim() !== '')
  } catch (err) {
    throw errors.SQL_INVALID(firstLine(err))
  }
}

function firstLine(err: unknown): string {
  return String((err as Error).message ?? err).split('\n')[0]?.slice(0, 500) ?? 'error'
}

/** Decides from ClickHouse's AST of the caller's query whether it may run at all. */
function checkAst(all: AstNode[]): void {
  let nodes = all
  const root = nodes[0]
  if (!root || root.depth !== 0 || root.type !== 'SelectWithUnionQuery') throw errors.SQL_FORBIDDEN('only a SELECT query is allowed')
  // The FORMAT our client appends to the EXPLAIN shows up as the root's last child.
  const last = nodes[nodes.length - 1]
  if (last && last.depth === 1 && last.type === 'Identifier' && last.name === 'JSONEachRow') nodes = nodes.slice(0, -1)
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
      } else if (FUNCTION_DENY.some((re) => re.test(fn))) {
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
  }
}

const LIMIT_CODES = new Set(['159', '241', '396', '158', '307', '160', '164'])

/**
 * Runs one read-only SELECT for a project. Decided by ClickHouse's parser and
 * analyzer, never by pattern matching on the text:
 *  1. EXPLAIN AST: a single SELECT, no SETTINGS/INTO OUTFILE/FORMAT, no table
 *     functions but numbers/zeros/values, no dictionaries, files or server state;
 *  2. table references spans/scores/spans_minute become analyst_*(project = <caller>);
 *  3. EXPLAIN QUERY TREE of the rewritten query: every table read is one of those views;
 *  4. executed with readonly = 2 and time, memory and result-row limits.
 */
export async function runSandboxedSql(
  client: ClickHouseClient,
  project: string,
  query: string,
  opts: { database: string; limits: SandboxLimits },
): Promise<SqlResult> {
  if (typeof query !== 'string' || query.length === 0) throw errors.BAD_REQUEST('query: expected a non-empty string')
  if (query.length > 100_000) throw errors.BAD_REQUEST('query: longer than 100000 characters')
  const tokens = singleStatement(lex(query))
  const original = tokens.map((t) => t.text).join('')
  checkAst(parseAstLines(await explain(client, 'AST', original)))
  const rewritten = rewrite(tokens, project)
  checkQueryTree(await explain(client, 'QUERY TREE', rewritten), opts.database)
  try {
    const rs = await client.query({
      query: rewritten,
      format: 'JSON',
      clickhouse_settings: {
        readonly: '2',
        max_execution_time: opts.limits.maxExecutionSeconds,
        max_memory_usage: String(opts.limits.maxMemoryBytes),
        max_result_rows: String(opts.limits.maxResultRows),
        result_overflow_mode: 'throw',
        output_format_json_quote_64bit_integers: 0,
        allow_ddl: 0,
        allow_introspection_functions: 0,
      },
    })
    const body = await rs.json<Record<string, unknown>>()
    return {
      data: body.data as SqlResult['data'],
      rows: Number(body.rows ?? 0),
      meta: (body.meta ?? []) as SqlResult['meta'],
      statistics: (body.statistics ?? { elapsed: 0, rows_read: 0, bytes_read: 0 }) as SqlResult['statistics'],
    }
  } catch (err) {
    if (isQueryError(err)) throw err
    const code = String((err as { code?: unknown }).code ?? '')
    if (LIMIT_CODES.has(code)) throw errors.SQL_LIMIT(firstLine(err))
    throw errors.SQL_FAILED(firstLine(err))
  }
}
