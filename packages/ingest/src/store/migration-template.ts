import { quoteIdent } from './create-store.js'

/**
 * Migrations are written once, for a single server, with a few placeholders
 * that turn them cluster-aware when SPANLENS_CLICKHOUSE_CLUSTER is set:
 *
 *   {{table X}}              X                      | X_local
 *   {{on_cluster}}           (nothing)              | ON CLUSTER c
 *   {{engine E(args)}}       E(args)                | ReplicatedE('/clickhouse/tables/{shard}/{database}/{table}', '{replica}', args)
 *   {{dedup_window N}}       non_replicated_deduplication_window = N | replicated_deduplication_window = N
 *   {{distributed X KEY}}    (statement dropped)    | CREATE TABLE X ON CLUSTER c AS X_local ENGINE = Distributed(c, db, X_local, KEY)
 *   {{distributed_alter X A}} (statement dropped)   | ALTER TABLE X ON CLUSTER c A   (keep the Distributed table's columns in step)
 *
 * Reads and inserts always use the plain name X: the table itself on one server,
 * the Distributed table on a cluster.
 */
export interface TemplateContext {
  database: string
  cluster?: string | undefined
}

const TOKEN = /\{\{\s*(\w+)([^}]*)\}\}/g

export function renderMigration(sql: string, ctx: TemplateContext): string[] {
  return splitStatements(stripComments(sql))
    .map((stmt) => stmt.replace(TOKEN, (_m, name: string, rawArgs: string) => expand(name, rawArgs.trim(), ctx)))
    .map((stmt) => stmt.trim())
    .filter((stmt) => stmt.length > 0)
}

function expand(name: string, args: string, ctx: TemplateContext): string {
  const cluster = ctx.cluster
  switch (name) {
    case 'table':
      requireArgs(name, args)
      return cluster ? `${args}_local` : args
    case 'on_cluster':
      return cluster ? `ON CLUSTER ${quoteIdent(cluster)}` : ''
    case 'engine': {
      requireArgs(name, args)
      if (!cluster) return args
      const m = /^(\w+)(?:\((.*)\))?$/s.exec(args)
      if (!m) throw new Error(`cannot parse engine ${args}`)
      const engineArgs = m[2]?.trim()
      const replicated = [`'/clickhouse/tables/{shard}/{database}/{table}'`, `'{replica}'`]
      if (engineArgs) replicated.push(engineArgs)
      return `Replicated${m[1]}(${replicated.join(', ')})`
    }
    case 'dedup_window':
      requireArgs(name, args)
      return cluster ? `replicated_deduplication_window = ${args}` : `non_replicated_deduplication_window = ${args}`
    case 'distributed': {
      if (!cluster) return ''
      const m = /^(\w+)\s+(.+)$/s.exec(args)
      if (!m) throw new Error(`{{distributed}} needs a table and a sharding key, got "${args}"`)
      const [, table, key] = m as unknown as [string, string, string]
      const c = quoteIdent(cluster)
      return (
        `CREATE TABLE IF NOT EXISTS ${table} ON CLUSTER ${c} AS ${table}_local ` +
        `ENGINE = Distributed(${c}, ${quoteIdent(ctx.database)}, ${table}_local, ${key})`
      )
    }
    case 'distributed_alter': {
      if (!cluster) return ''
      const m = /^(\w+)\s+(.+)$/s.exec(args)
      if (!m) throw new Error(`{{distributed_alter}} needs a table and an ALTER action, got "${args}"`)
      return `ALTER TABLE ${m[1]} ON CLUSTER ${quoteIdent(cluster)} ${m[2]}`
    }
    default:
      throw new Error(`unknown placeholder {{${name}}}`)
  }
}

function requireArgs(name: string, args: string): void {
  if (args === '') throw new Error(`{{${name}}} needs an argument`)
}

/** Drops `--` comments outside string literals. */
function stripComments(sql: string): string {
  let out = ''
  let quote: string | null = null
  for (let i = 0; i < sql.length; i++) {
    const ch = sql[i] as string
    if (quote) {
      out += ch
      if (ch === '\\') {
        out += sql[i + 1] ?? ''
        i++
      } else if (ch === quote) quote = null
      continue
    }
    if (ch === "'" || ch === '"' || ch === '`') {
      quote = ch
      out += ch
      continue
    }
    if (ch === '-' && sql[i + 1] === '-') {
      while (i < sql.length && sql[i] !== '\n') i++
      out += '\n'
      continue
    }
    out += ch
  }
  return out
}

/** Splits on `;` outside string literals and identifiers. */
function splitStatements(sql: string): string[] {
  const out: string[] = []
  let current = ''
  let quote: string | null = null
  for (let i = 0; i < sql.length; i++) {
    const ch = sql[i] as string
    if (quote) {
      current += ch
      if (ch === '\\') {
        current += sql[i + 1] ?? ''
        i++
      } else if (ch === quote) quote = null
      continue
    }
    if (ch === "'" || ch === '"' || ch === '`') quote = ch
    if (ch === ';') {
      out.push(current)
      current = ''
      continue
    }
    current += ch
  }
  out.push(current)
  return out
}
