import { afterAll, describe, expect, it } from 'vitest'
import { loadConfig } from '../src/config/load.js'
import { createStore, migrate, type Store } from '../src/store/index.js'
import { spanlens } from './helpers/cli.js'
import { provided, storeEnv } from './helpers/store-mode.js'
import { removeTempDirs, tempDir } from './helpers/tmp.js'

/**
 * Runs in the `cluster` project: a cluster setting the served nodes cannot honour stops
 * start-up and `migrate` as a Spanlens error naming it, not as ClickHouse's stack trace.
 */
const ch = provided()
if (ch?.mode !== 'cluster' || !ch.nodes) throw new Error('store-connect-cluster.test.ts runs in the cluster vitest project')

const stores: Store[] = []
afterAll(async () => {
  await Promise.all(stores.map((s) => s.close()))
  removeTempDirs()
})

/** The project's cluster env on a fresh database, with `extra` over it. */
function clusterEnv(extra: Record<string, string | undefined>): Record<string, string> {
  const dir = tempDir()
  const env: Record<string, string | undefined> = { SPANLENS_DATA_DIR: dir.path, ...storeEnv(dir.path), ...extra }
  return Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined))
}

describe('a cluster the nodes do not know', () => {
  it('stops migrate node by node with SPANLENS_STORE_REFUSED naming SPANLENS_CLICKHOUSE_CLUSTER', async () => {
    // Per node, the database is made without ON CLUSTER: the name first matters to the Distributed tables.
    const store = await createStore(loadConfig({ env: clusterEnv({ SPANLENS_CLICKHOUSE_CLUSTER: 'spanlenz' }) }).store)
    stores.push(store)
    const err = await migrate(store).catch((e: unknown) => e as Error)
    expect(err).toMatchObject({ code: 'SPANLENS_STORE_REFUSED' })
    expect((err as Error).message).toMatch(/cluster spanlenz .*SPANLENS_CLICKHOUSE_CLUSTER/)
  })

  it('stops opening the store under distributed DDL with SPANLENS_STORE_REFUSED naming SPANLENS_CLICKHOUSE_CLUSTER', async () => {
    const env = clusterEnv({ SPANLENS_CLICKHOUSE_CLUSTER: 'spanlenz', SPANLENS_CLICKHOUSE_NODES: undefined })
    const err = await createStore(loadConfig({ env }).store).catch((e: unknown) => e as Error)
    expect(err).toMatchObject({ code: 'SPANLENS_STORE_REFUSED' })
    expect((err as Error).message).toMatch(/SPANLENS_CLICKHOUSE_CLUSTER/)
  })

  it('prints spanlens: CODE: message and exits 2 from `spanlens migrate`', async () => {
    const env = clusterEnv({ SPANLENS_CLICKHOUSE_CLUSTER: 'spanlenz' })
    const { code, stderr } = await spanlens(['migrate'], { ...process.env, ...env })
    expect(code).toBe(2)
    expect(stderr).toMatch(/^spanlens: SPANLENS_STORE_REFUSED: .*SPANLENS_CLICKHOUSE_CLUSTER/m)
    expect(stderr).not.toMatch(/^\s+at /m)
  })
})

describe('distributed DDL on nodes without Keeper', () => {
  it('is refused at open, pointing to SPANLENS_CLICKHOUSE_NODES', async () => {
    const err = await createStore(loadConfig({ env: clusterEnv({ SPANLENS_CLICKHOUSE_NODES: undefined }) }).store).catch((e: unknown) => e as Error)
    expect(err).toMatchObject({ code: 'SPANLENS_STORE_REFUSED' })
    expect((err as Error).message).toMatch(/SPANLENS_CLICKHOUSE_NODES/)
  })
})
