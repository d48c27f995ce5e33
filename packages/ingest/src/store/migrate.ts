import { createHash } from 'node:crypto'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { ClickHouseClient } from '@clickhouse/client'
import { errors, isSpanlensError, type SpanlensError } from '../errors.js'
import type { Store } from './create-store.js'
import { quoteIdent } from './create-store.js'
import { renderMigration, shardingKeys, type TemplateContext } from './migration-template.js'
import { storeRefusal } from './refusal.js'

export interface MigrationFile {
  version: number
  /** File name, e.g. 001_spans.sql */
  file: string
  sql: string
  checksum: string
}

export interface MigrateResult {
  applied: string[]
  alreadyApplied: number
}

export interface MigrateOptions {
  dir?: string
  log?: (msg: string, fields?: Record<string, unknown>) => void
}

const FILE_PATTERN = /^(\d+)_[\w-]+\.sql$/

/** Finds the repository's clickhouse/ folder, or the copy shipped inside the package. */
export function defaultMigrationsDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url))
  let fallback: string | undefined
  for (let i = 0; i < 6; i++) {
    const candidate = join(dir, 'clickhouse')
    if (existsSync(candidate)) {
      // In the repository the top-level folder is the source of truth; the copy
      // inside packages/ingest is a build artifact that can be stale.
      if (existsSync(join(dir, 'pnpm-workspace.yaml'))) return candidate
      fallback ??= candidate
    }
    dir = dirname(dir)
  }
  if (fallback) return fallback
  throw errors.MIGRATION_INVALID('clickhouse/', 'migrations folder not found next to the package')
}

export function loadMigrations(dir: string = defaultMigrationsDir()): MigrationFile[] {
  const files = readdirSync(dir).filter((f) => f.endsWith('.sql'))
  const seen = new Map<number, string>()
  const out: MigrationFile[] = []
  for (const file of files) {
    const m = FILE_PATTERN.exec(file)
    if (!m) throw errors.MIGRATION_INVALID(file, 'expected a name like 001_description.sql')
    const version = Number(m[1])
    const clash = seen.get(version)
    if (clash) throw errors.MIGRATION_INVALID(file, `version ${version} is also used by ${clash}`)
    seen.set(version, file)
    const sql = readFileSync(join(dir, file), 'utf8')
    out.push({ version, file, sql, checksum: createHash('sha256').update(sql).digest('hex') })
  }
  return out.sort((a, b) => a.version - b.version)
}

const MIGRATIONS_TABLE = `
CREATE TABLE IF NOT EXISTS {{table schema_migrations}} {{on_cluster}}
(
    version     UInt32,
    file        String,
    checksum    String,
    applied_at  DateTime64(3) DEFAULT now64(3)
)
ENGINE = {{engine MergeTree}}
ORDER BY version;
{{distributed schema_migrations rand()}};
`

/** Where one run of the migrations applies its DDL and keeps its record. */
interface Target {
  client: ClickHouseClient
  /** Safe to log; per-node runs name the node in errors. */
  target: string | undefined
  ctx: TemplateContext
  /** The table holding the applied versions this target reads and writes. */
  tracking: string
}

/**
 * Applies pending migrations in version order and records each in
 * schema_migrations. Re-running is a no-op. A failed statement stops the run
 * with the file name and ClickHouse's message; later files are not attempted.
 *
 * Per-node DDL (store.nodes): the migrations run on each node in turn, without
 * ON CLUSTER, and each node records its own versions in its schema_migrations_local,
 * so a migration that failed on one node is retried there and skipped where it
 * already applied.
 */
export async function migrate(store: Store, options: MigrateOptions = {}): Promise<MigrateResult> {
  const log = options.log ?? (() => undefined)
  const migrations = loadMigrations(options.dir)
  const base = { database: store.database, cluster: store.cluster }
  const targets: Target[] =
    store.cluster && store.nodes
      ? store.nodes.map((n) => ({ client: n.client, target: n.target, ctx: { ...base, ddl: 'per_node' }, tracking: 'schema_migrations_local' }))
      : [{ client: store.client, target: undefined, ctx: base, tracking: 'schema_migrations' }]
  const result: MigrateResult = { applied: [], alreadyApplied: 0 }
  const appliedAnywhere = new Set<string>()
  for (const t of targets) {
    const applied = await migrateTarget(store, t, migrations, log)
    for (const file of applied) appliedAnywhere.add(file)
  }
  result.applied = migrations.map((m) => m.file).filter((f) => appliedAnywhere.has(f))
  result.alreadyApplied = migrations.length - result.applied.length
  try {
    await syncRetention(store)
  } catch (err) {
    throw migrationFailure(store, undefined, RETENTION_STEP, err)
  }
  return result
}

/** What a failure outside a migration file is reported as: the record of versions, the TTLs. */
const TRACKING_STEP = 'schema_migrations (the record of applied migrations)'
const RETENTION_STEP = 'retention (SPANLENS_RETENTION_DAYS)'

/**
 * A failed step of a migration run as a Spanlens error: SPANLENS_STORE_REFUSED when ClickHouse
 * refused for a reason a setting decides (login, privileges, an unknown cluster), naming the
 * setting; otherwise SPANLENS_MIGRATION_FAILED with the step and ClickHouse's message.
 */
function migrationFailure(store: Store, node: string | undefined, step: string, err: unknown): SpanlensError {
  if (isSpanlensError(err)) return err
  const message = (err as Error).message
  return (
    storeRefusal(node ?? store.target, err, { cluster: store.cluster, where: step }) ??
    errors.MIGRATION_FAILED(step, node ? `${node}: ${message}` : message, { cause: err })
  )
}

async function migrateTarget(store: Store, t: Target, migrations: MigrationFile[], log: NonNullable<MigrateOptions['log']>): Promise<string[]> {
  const fail = (step: string, err: unknown) => migrationFailure(store, t.target, step, err)
  let applied: Map<number, string>
  try {
    for (const stmt of renderMigration(MIGRATIONS_TABLE, t.ctx)) {
      await t.client.command({ query: stmt })
    }
    const rs = await t.client.query({
      query: `SELECT version, any(checksum) AS checksum FROM ${t.tracking} GROUP BY version`,
      format: 'JSONEachRow',
    })
    applied = new Map((await rs.json<{ version: number; checksum: string }>()).map((r) => [Number(r.version), r.checksum]))
  } catch (err) {
    throw fail(TRACKING_STEP, err)
  }
  const keys = shardingKeys(migrations.map((m) => m.sql))
  const done: string[] = []
  for (const m of migrations) {
    const previous = applied.get(m.version)
    if (previous !== undefined) {
      if (previous !== m.checksum) throw errors.MIGRATION_CHECKSUM(m.file)
      continue
    }
    let statements: string[]
    try {
      statements = renderMigration(m.sql, { ...t.ctx, shardingKeys: keys })
    } catch (err) {
      throw errors.MIGRATION_INVALID(m.file, (err as Error).message, { cause: err })
    }
    // Said before, too: a backfill over a large store runs for minutes (013: ~35 s at 100 M spans).
    const started = Date.now()
    log('applying migration', { file: m.file, ...(t.target ? { node: t.target } : {}) })
    for (const stmt of [...statements, ...reloadAlteredViews(statements)]) {
      try {
        await t.client.command({ query: stmt })
      } catch (err) {
        throw fail(m.file, err)
      }
    }
    try {
      await t.client.insert({
        table: t.tracking,
        values: [{ version: m.version, file: m.file, checksum: m.checksum }],
        format: 'JSONEachRow',
      })
    } catch (err) {
      throw fail(`${TRACKING_STEP}, recording ${m.file}`, err)
    }
    log('migration applied', { file: m.file, ...(t.target ? { node: t.target } : {}), seconds: (Date.now() - started) / 1000 })
    done.push(m.file)
  }
  return done
}

const MODIFY_QUERY = /^ALTER\s+TABLE\s+([\w.]+)(\s+ON\s+CLUSTER\s+\S+)?\s+MODIFY\s+QUERY\b/i

/**
 * A view whose query a migration altered is renamed away and back, in one statement.
 *
 * With deduplicate_blocks_in_dependent_materialized_views, the deduplication
 * token of a view's block names the view (its UUID, else its name) as the
 * engine's catalogue of dependent views holds it, and after `ALTER TABLE view
 * MODIFY QUERY` that entry differs from the one the engine loads at start, until
 * it restarts (chDB 26.7, measured): a segment inserted by the process that ran
 * the migration and replayed after a restart (a crash between its insert and its
 * deletion) is deduplicated in `spans` and counted again in `spans_minute`. A
 * rename registers the view as a start does. The view exists throughout, under
 * one name or the other, so inserts of other servers still reach it.
 */
export function reloadAlteredViews(statements: readonly string[]): string[] {
  const out: string[] = []
  for (const stmt of statements) {
    const m = MODIFY_QUERY.exec(stmt)
    if (!m) continue
    const view = m[1] as string
    out.push(`RENAME TABLE ${view} TO ${view}_reload, ${view}_reload TO ${view}${m[2] ?? ''}`)
  }
  return out
}

/** Each table's time, as a DateTime64 (the TTL adds the retention to it before it becomes a DateTime). */
const RETENTION: Array<{ table: string; column: string }> = [
  { table: 'spans', column: 'start_time' },
  { table: 'scores', column: 'timestamp' },
  { table: 'spans_minute', column: 'toDateTime64(minute, 0)' },
  { table: 'metrics', column: 'time' },
  { table: 'logs', column: 'timestamp' },
  { table: 'span_content', column: 'time' },
  { table: 'trace_hours', column: 'toDateTime64(hour, 0)' },
]

/**
 * When a row of `column` expires. A TTL is a DateTime, which ends on 2106-02-07 and wraps
 * past it: `toDateTime(t) + toIntervalDay(36500)` for a span of 2026 is 1990-10-05, so every
 * part was expired when written and dropped whole (36,500 days is an accepted setting). The
 * sum is taken in DateTime64 (to 2262) and held at the last day a DateTime reaches: a row
 * whose retention ends after it is kept until then.
 */
function ttlExpression(column: string, days: number): string {
  return `toDateTime(least(${column} + toIntervalDay(${days}), toDateTime64('${LAST_TTL_DAY}', 0, 'UTC')))`
}
const LAST_TTL_DAY = '2106-02-07 00:00:00'

/**
 * Makes each table's TTL match SPANLENS_RETENTION_DAYS (0 keeps data forever).
 * Only touches a table whose TTL differs, and never rewrites old parts
 * (materialize_ttl_after_modify = 0): expired days are dropped whole as parts age.
 * Per-node DDL: checked and altered on each node by itself.
 */
export async function syncRetention(store: Store): Promise<void> {
  const suffix = store.cluster ? '_local' : ''
  if (store.cluster && store.nodes) {
    for (const node of store.nodes) await syncRetentionOn(node.client, store.database, '', suffix, store.retentionDays)
    return
  }
  const onCluster = store.cluster ? ` ON CLUSTER ${quoteIdent(store.cluster)}` : ''
  await syncRetentionOn(store.client, store.database, onCluster, suffix, store.retentionDays)
}

async function syncRetentionOn(client: ClickHouseClient, database: string, onCluster: string, suffix: string, days: number): Promise<void> {
  for (const { table, column } of RETENTION) {
    const name = `${table}${suffix}`
    const rs = await client.query({
      query: 'SELECT engine_full FROM system.tables WHERE database = {db:String} AND name = {name:String}',
      query_params: { db: database, name },
      format: 'JSONEachRow',
    })
    const rows = await rs.json<{ engine_full: string }>()
    if (rows.length === 0) continue
    const engine = rows[0]?.engine_full ?? ''
    const current = /TTL .*?toIntervalDay\((\d+)\)/.exec(engine)
    const currentDays = current ? Number(current[1]) : 0
    // A TTL written before it was held at LAST_TTL_DAY is written again, whatever its days.
    if (currentDays === days && (days === 0 || engine.includes(LAST_TTL_DAY))) continue
    const alter =
      days === 0
        ? `ALTER TABLE ${name}${onCluster} REMOVE TTL`
        : `ALTER TABLE ${name}${onCluster} MODIFY TTL ${ttlExpression(column, days)}`
    await client.command({ query: alter, clickhouse_settings: { materialize_ttl_after_modify: 0 } })
  }
}
