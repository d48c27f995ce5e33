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
 * server migrating at the same time would: its deduplication token must make it insert nothing.
 * `table` is the Distributed table the migration creates, sharded by `shardingKey`.
 */
export async function backfillAgain(store: Store, file: string, table: string, shardingKey: string): Promise<void> {
  const sql = loadMigrations().find((m) => m.file === file)?.sql ?? ''
  const runs =
    store.cluster && store.nodes
      ? store.nodes.map((n) => ({ client: n.client, ctx: { database: store.database, cluster: store.cluster, ddl: 'per_node' as const } }))
      : [{ client: store.client, ctx: { database: store.database, cluster: store.cluster } }]
  for (const { client, ctx } of runs) {
    const insert = renderMigration(sql, { ...ctx, shardingKeys: new Map([[table, shardingKey]]) }).filter((s) => s.startsWith('INSERT'))
    expect(insert).toHaveLength(1)
    await client.command({ query: insert[0] as string })
  }
}
