import { copyFileSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { expect } from 'vitest'
import { loadConfig } from '../../src/config/load.js'
import { createStore, defaultMigrationsDir, loadMigrations, migrate, renderMigration, type Store } from '../../src/store/index.js'
import { storeEnv } from './store-mode.js'

/** A store in a data directory under `dir`, migrated up to the migration before `file`: the store as an older version left it. */
export async function storeBefore(file: string, dir: string): Promise<Store> {
  const older = join(dir, 'migrations-before')
  mkdirSync(older)
  for (const m of loadMigrations()) if (m.file < file) copyFileSync(join(defaultMigrationsDir(), m.file), join(older, m.file))
  const dataDir = join(dir, 'data')
  const store = await createStore(loadConfig({ env: { SPANLENS_DATA_DIR: dataDir, ...storeEnv(dataDir) } }).store)
  await migrate(store, { dir: older })
  return store
}

/**
 * Runs the INSERT of migration `file` once more, on every node of a cluster, as a second
 * server migrating at the same time would. `table` is the Distributed table the migration
 * creates, sharded by `shardingKey`.
 */
export async function backfillAgain(store: Store, file: string, table: string, shardingKey: string): Promise<void> {
  await runMigrationStatements(store, file, table, shardingKey, (stmt) => (stmt.startsWith('INSERT') ? stmt : undefined))
}

/**
 * Runs migration `file` as a run cut short after part of its backfill would leave it: every
 * statement, its INSERT only for the rows `where` (a condition on the spans it reads) selects,
 * and nothing recorded, so the next migrate() applies it again.
 */
export async function backfillCutShort(store: Store, file: string, table: string, shardingKey: string, where: string): Promise<void> {
  await runMigrationStatements(store, file, table, shardingKey, (stmt) => {
    if (!stmt.startsWith('INSERT')) return stmt
    const filtered = stmt.replace(/\bWHERE content_filled = 0\b/, `WHERE content_filled = 0 AND ${where}`)
    expect(filtered).not.toBe(stmt)
    return filtered
  })
}

async function runMigrationStatements(store: Store, file: string, table: string, shardingKey: string, pick: (stmt: string) => string | undefined): Promise<void> {
  const sql = loadMigrations().find((m) => m.file === file)?.sql ?? ''
  const runs =
    store.cluster && store.nodes
      ? store.nodes.map((n) => ({ client: n.client, ctx: { database: store.database, cluster: store.cluster, ddl: 'per_node' as const } }))
      : [{ client: store.client, ctx: { database: store.database, cluster: store.cluster } }]
  for (const { client, ctx } of runs) {
    const statements = renderMigration(sql, { ...ctx, shardingKeys: new Map([[table, shardingKey]]) })
    expect(statements.filter((s) => s.startsWith('INSERT'))).toHaveLength(1)
    for (const stmt of statements) {
      const query = pick(stmt)
      if (query !== undefined) await client.command({ query })
    }
  }
}
