import { createHash } from 'node:crypto'

import type { ProvidedContext } from 'vitest'

// Outside vitest (the fuzz bench runs the fuzz server from bench/fuzz/otlp-fuzz.ts), importing
// vitest throws: nothing is provided there, and the store is embedded.
const vitestInject = process.env.VITEST ? (await import('vitest')).inject : undefined

/** What a globalSetup provided under `key`, or undefined outside vitest. */
export function injected<K extends keyof ProvidedContext>(key: K): ProvidedContext[K] | undefined {
  return vitestInject?.(key)
}

/**
 * The store a test file runs against, chosen by its vitest project: embedded
 * (nothing provided), one served ClickHouse (project `remote`) or a
 * two-shard cluster with per-node DDL (project `cluster`); global-clickhouse.ts
 * starts the server(s) once per project and provides where they listen.
 */
export interface ProvidedClickHouse {
  mode: 'remote' | 'cluster'
  url: string
  username: string
  password: string
  cluster?: string
  nodes?: string[]
}

declare module 'vitest' {
  export interface ProvidedContext {
    spanlensClickHouse: ProvidedClickHouse | null
  }
}

export type StoreMode = 'embedded' | 'remote' | 'cluster'

export function provided(): ProvidedClickHouse | null {
  return injected('spanlensClickHouse') ?? null
}

export function storeMode(): StoreMode {
  return provided()?.mode ?? 'embedded'
}

/**
 * The SPANLENS_CLICKHOUSE_* variables that point a config at the project's
 * store; none in embedded mode. The database is named after the data directory,
 * so a fresh directory is a fresh store and a server restarted on the same
 * directory finds its data, as with an embedded store.
 */
export function storeEnv(dataDir: string): Record<string, string> {
  const ch = provided()
  if (!ch) return {}
  return {
    SPANLENS_CLICKHOUSE_URL: ch.url,
    SPANLENS_CLICKHOUSE_USER: ch.username,
    SPANLENS_CLICKHOUSE_PASSWORD: ch.password,
    SPANLENS_CLICKHOUSE_DATABASE: databaseFor(dataDir),
    ...(ch.cluster ? { SPANLENS_CLICKHOUSE_CLUSTER: ch.cluster } : {}),
    ...(ch.nodes ? { SPANLENS_CLICKHOUSE_NODES: ch.nodes.join(',') } : {}),
  }
}

const named = new Set<string>()

export function databaseFor(dataDir: string): string {
  const name = `t_${createHash('sha256').update(dataDir).digest('hex').slice(0, 16)}`
  named.add(name)
  return name
}

/**
 * Every database this test file pointed a store at, forgotten here: served-nodes-up.ts drops them
 * after the file, and the next file in the same process starts with none.
 */
export function takeDatabasesNamed(): string[] {
  const names = [...named]
  named.clear()
  return names
}
