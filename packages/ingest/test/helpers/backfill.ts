import { expect } from 'vitest'
import { loadMigrations, renderMigration, type Store } from '../../src/store/index.js'

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
