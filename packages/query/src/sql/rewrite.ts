import type { ClickHouseClient } from '@clickhouse/client'
import { errors } from '../errors.js'
import { explain } from './explain.js'
import { significant, type Token } from './lexer.js'
import { ANALYST_TABLES, type AstNode } from './policy.js'

/** Own keys only: `constructor` or `toString` name no table. */
const viewNamed = (name: string): string | undefined => (Object.hasOwn(ANALYST_TABLES, name) ? ANALYST_TABLES[name] : undefined)

/** The view a token would name if it stood where a table is read: bare names in any case, quoted ones exactly. */
function viewOf(t: Token): string | undefined {
  if (t.kind === 'ident') return viewNamed(t.value.toLowerCase())
  return t.kind === 'quoted_ident' ? viewNamed(t.value) : undefined
}

/** A token that names an analyst table where a table is read (FROM, JOIN), and whether the query aliased it. */
interface TableReference {
  index: number
  view: string
  aliased: boolean
}

/**
 * Replaces each table reference `spans` / `scores` / `spans_minute` / `metrics` / `logs`
 * (ANALYST_TABLES) with the parameterized view for the caller's project, keeping the name
 * as alias so `spans.trace_id` still resolves. A FINAL after it is dropped (the views
 * de-duplicate). A column, alias, window or lambda parameter of the same name is left as
 * written: which tokens are tables is ClickHouse's parser's answer, not ours.
 */
export async function bindTables(client: ClickHouseClient, tokens: Token[], project: string, ast: AstNode[]): Promise<string> {
  refuseSubqueriesNamedLikeTables(tokens)
  // A query that reads no analyst table has nothing to bind: no second parse.
  const readsOne = ast.some((n) => n.type === 'TableIdentifier' && viewNamed(n.name.toLowerCase()) !== undefined)
  const refs = readsOne ? await tableReferences(client, tokens) : []
  const literal = `'${project.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`
  const out = tokens.map((t) => t.text)
  for (const { index, view, aliased } of refs) {
    const t = tokens[index] as Token
    out[index] = `${view}(project = ${literal})${aliased ? '' : ` AS ${t.kind === 'ident' ? t.value : `\`${t.value}\``}`}`
    const next = nextSignificant(tokens, index)
    if (next !== undefined && (tokens[next] as Token).kind === 'ident' && (tokens[next] as Token).value.toLowerCase() === 'final') out[next] = ''
  }
  return out.join('')
}

/**
 * Which tokens ClickHouse's parser reads as tables. The AST names nodes but not their
 * place in the text, so every token spelled like an analyst table is renamed to a marker
 * of its own (a prefix the query does not contain, plus the token's index) and the
 * marked text is parsed again: a marker that comes back as a TableIdentifier is a table
 * read; one that comes back as an Identifier, an alias or not at all is something else
 * with a table's name. The renaming keeps every token's kind, so both texts parse alike.
 */
async function tableReferences(client: ClickHouseClient, tokens: Token[]): Promise<TableReference[]> {
  const text = tokens.map((t) => t.text).join('').toLowerCase()
  let prefix = 'spanlens_table_'
  while (text.includes(prefix)) prefix += 'x'
  const marked = tokens.map((t, i) => {
    if (viewOf(t) === undefined) return t.text
    const quote = t.kind === 'quoted_ident' ? (t.text[0] as string) : ''
    return `${quote}${prefix}${i}${quote}`
  })
  const refs: TableReference[] = []
  for (const line of await explain(client, 'AST', marked.join(''), {})) {
    const m = /^\s*TableIdentifier (\S+)( \(alias .*\))?(?: \(children \d+\))?$/.exec(line)
    if (!m || !(m[1] as string).startsWith(prefix)) continue
    const index = Number((m[1] as string).slice(prefix.length))
    const token = Number.isInteger(index) ? tokens[index] : undefined
    const view = token && viewOf(token)
    if (view) refs.push({ index, view, aliased: m[2] !== undefined })
  }
  return refs
}

/**
 * `WITH spans AS (SELECT …) SELECT … FROM spans` would read the caller's `spans`, not the
 * subquery, once FROM spans is bound to the view; ClickHouse would read the subquery. The
 * sandbox cannot tell every FROM that means the subquery from one that means the table, so
 * it refuses the name rather than answer a different question than the one asked.
 */
function refuseSubqueriesNamedLikeTables(tokens: Token[]): void {
  const sig = tokens.filter(significant)
  for (const [k, t] of sig.entries()) {
    const after = sig[k + 2]
    const namesSubquery = sig[k + 1]?.value.toLowerCase() === 'as' && (after?.text === '(' || after?.value.toLowerCase() === 'materialized')
    if (namesSubquery && viewOf(t) !== undefined && inWithClause(sig, k)) {
      throw errors.SQL_INVALID(`WITH ${t.text} AS (…): ${t.text} is the name of a table, which FROM ${t.text} reads; give the subquery another name`)
    }
  }
}

/** True when the name at sig[k] belongs to a WITH clause (scanning back at its own depth), not a WINDOW clause. */
function inWithClause(sig: Token[], k: number): boolean {
  let depth = 0
  for (let j = k - 1; j >= 0; j--) {
    const t = sig[j] as Token
    if (t.kind === 'punct' && t.text === ')') depth++
    else if (t.kind === 'punct' && t.text === '(') {
      if (depth === 0) return false
      depth--
    } else if (depth === 0 && t.kind === 'ident') {
      const word = t.value.toLowerCase()
      if (word === 'with') return true
      if (word === 'window') return false
    }
  }
  return false
}

function nextSignificant(tokens: Token[], index: number): number | undefined {
  for (let i = index + 1; i < tokens.length; i++) if (significant(tokens[i] as Token)) return i
  return undefined
}
