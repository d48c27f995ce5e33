import { quoteIdent } from './create-store.js'

/**
 * Migrations are written once, for a single server, with a few placeholders
 * that turn them cluster-aware when SPANLENS_CLICKHOUSE_CLUSTER is set. Two
 * cluster renderings: `on_cluster` (distributed DDL through Keeper, replicated
 * shards) and `per_node` (SPANLENS_CLICKHOUSE_NODES: the same statements run on
 * each node by itself, shards without replicas).
 *
 *                           single server         | on_cluster                                    | per_node
 *   {{table X}}              X                     | X_local                                       | X_local
 *   {{on_cluster}}           (nothing)             | ON CLUSTER c                                  | (nothing)
 *   {{engine E(args)}}       E(args)               | ReplicatedE('/clickhouse/tables/{shard}/{database}/{table}', '{replica}', args) | E(args)
 *   {{dedup_window N}}       non_replicated_...=N  | replicated_deduplication_window = N           | non_replicated_...=N
 *   {{distributed X KEY}}    (dropped)             | CREATE TABLE X ON CLUSTER c AS X_local ENGINE = Distributed(c, db, X_local, KEY)
 *   {{distributed_sync X}}   (dropped)             | CREATE OR REPLACE TABLE X ON CLUSTER c AS X_local ENGINE = Distributed(..., KEY)
 *   {{distributed_alter X A}} same as {{distributed_sync X}}: the action A is not applied to X.
 *   {{data X}}               X                     | X                                             | X_local
 *
 * A Distributed table's columns are always derived from its local table
 * (`AS X_local`), never altered by hand: an ALTER written for the Distributed
 * table would have to repeat every DEFAULT/MATERIALIZED expression, and a plain
 * column where the local one is MATERIALIZED makes every insert fail (Code 44).
 * So after an ALTER of X_local, a migration re-creates X with {{distributed_sync X}};
 * KEY is the sharding key X was declared with in its {{distributed X KEY}}
 * (any migration file: pass them all as `shardingKeys`). Re-creating a
 * Distributed table loses nothing: inserts are foreground (create-store.ts),
 * so it holds no queued rows.
 *
 * Reads and inserts always use the plain name X: the table itself on one server,
 * the Distributed table on a cluster.
 *
 * A migration that moves data (INSERT … SELECT) names its tables {{data X}}: all of
 * X that one run of the migration reaches. Distributed DDL runs a migration once for
 * the cluster, so it reads and writes every shard through the Distributed table;
 * per-node DDL runs it on each node, which moves its own rows in X_local.
 */
export interface TemplateContext {
  database: string
  cluster?: string | undefined
  /** How cluster DDL runs; default `on_cluster`. Ignored without `cluster`. */
  ddl?: 'on_cluster' | 'per_node' | undefined
  /** Table → sharding key, from every {{distributed X KEY}}; default: those in the SQL being rendered. */
  shardingKeys?: ReadonlyMap<string, string> | undefined
}

const TOKEN = /\{\{\s*(\w+)([^}]*)\}\}/g

const DISTRIBUTED = /\{\{\s*distributed\s+(\w+)\s+([^}]+?)\s*\}\}/g

/** The sharding key of every Distributed table declared in `sqls` ({{distributed X KEY}}). */
export function shardingKeys(sqls: readonly string[]): Map<string, string> {
  const keys = new Map<string, string>()
  for (const sql of sqls) for (const m of stripComments(sql).matchAll(DISTRIBUTED)) keys.set(m[1] as string, m[2] as string)
  return keys
}

/** Renders each migration in order; Distributed tables' sharding keys come from all of them. */
export function renderMigrations(sqls: readonly string[], ctx: TemplateContext): string[][] {
  const keys = shardingKeys(sqls)
  return sqls.map((sql) => renderMigration(sql, { ...ctx, shardingKeys: keys }))
}

export function renderMigration(sql: string, ctx: TemplateContext): string[] {
  const full = { ...ctx, shardingKeys: ctx.shardingKeys ?? shardingKeys([sql]) }
  return splitStatements(stripComments(sql))
    .map((stmt) => stmt.replace(TOKEN, (_m, name: string, rawArgs: string) => expand(name, rawArgs.trim(), full)))
    .map((stmt) => stmt.trim())
    .filter((stmt) => stmt.length > 0)
}

function expand(name: string, args: string, ctx: TemplateContext): string {
  const cluster = ctx.cluster
  const perNode = ctx.ddl === 'per_node'
  const onCluster = cluster && !perNode ? ` ON CLUSTER ${quoteIdent(cluster)}` : ''
  switch (name) {
    case 'table':
      requireArgs(name, args)
      return cluster ? `${args}_local` : args
    case 'on_cluster':
      return onCluster.trim()
    case 'data':
      requireArgs(name, args)
      return cluster && perNode ? `${args}_local` : args
    case 'engine': {
      requireArgs(name, args)
      if (!cluster || perNode) return args
      const m = /^(\w+)(?:\((.*)\))?$/s.exec(args)
      if (!m) throw new Error(`cannot parse engine ${args}`)
      const engineArgs = m[2]?.trim()
      const replicated = [`'/clickhouse/tables/{shard}/{database}/{table}'`, `'{replica}'`]
      if (engineArgs) replicated.push(engineArgs)
      return `Replicated${m[1]}(${replicated.join(', ')})`
    }
    case 'dedup_window':
      requireArgs(name, args)
      return cluster && !perNode ? `replicated_deduplication_window = ${args}` : `non_replicated_deduplication_window = ${args}`
    case 'distributed': {
      if (!cluster) return ''
      const m = /^(\w+)\s+(.+)$/s.exec(args)
      if (!m) throw new Error(`{{distributed}} needs a table and a sharding key, got "${args}"`)
      const [, table, key] = m as unknown as [string, string, string]
      return `CREATE TABLE IF NOT EXISTS ${table}${onCluster} AS ${distributedEngine(table, key, cluster, ctx.database)}`
    }
    case 'distributed_sync':
    case 'distributed_alter': {
      if (!cluster) return ''
      const table = /^(\w+)(?:\s|$)/.exec(args)?.[1]
      if (!table) throw new Error(`{{${name}}} needs a table, got "${args}"`)
      const key = ctx.shardingKeys?.get(table)
      if (!key) throw new Error(`{{${name} ${table}}}: no {{distributed ${table} KEY}} declares its sharding key`)
      return `CREATE OR REPLACE TABLE ${table}${onCluster} AS ${distributedEngine(table, key, cluster, ctx.database)}`
    }
    default:
      throw new Error(`unknown placeholder {{${name}}}`)
  }
}

function distributedEngine(table: string, key: string, cluster: string, database: string): string {
  return `${table}_local ENGINE = Distributed(${quoteIdent(cluster)}, ${quoteIdent(database)}, ${table}_local, ${key})`
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
