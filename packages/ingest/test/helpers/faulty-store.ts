import { readFileSync } from 'node:fs'
import { loadConfig } from '../../src/config/load.js'
import { buildServer } from '../../src/server.js'
import { createStore, type Store } from '../../src/store/index.js'
import { API_KEYS } from './server.js'
import { seedMigratedStore } from './store-template.js'
import { tempDir } from './tmp.js'

export type Fault = 'down' | 'commit-then-fail' | 'ok'

export interface FaultyStore extends Store {
  fault: Fault
  /** Extra time every insert takes, as with a slow or busy ClickHouse. */
  delayMs: number
  attempts: number
  /** Rows of each insert that reached ClickHouse, in order. */
  insertedRows: number[]
}

/**
 * Wraps the real embedded store and injects faults into inserts (insertFile, insertRaw):
 * 'down' fails before ClickHouse sees the rows; 'commit-then-fail' lets the
 * insert commit and then throws, as when a response is lost on the network.
 */
export function faultyStore(store: Store): FaultyStore {
  const state = { fault: 'ok' as Fault, attempts: 0, delayMs: 0 }
  const insertedRows: number[] = []
  const lines = (data: Buffer[]) => data.reduce((n, b) => n + b.toString('utf8').split('\n').filter(Boolean).length, 0)
  const faulty = async (insert: () => Promise<void>, rows: () => number) => {
    state.attempts++
    if (state.delayMs > 0) await new Promise((r) => setTimeout(r, state.delayMs))
    if (state.fault === 'down') throw Object.assign(new Error('injected: connection refused'), { code: 'ECONNREFUSED' })
    await insert()
    insertedRows.push(rows())
    if (state.fault === 'commit-then-fail') {
      throw Object.assign(new Error('injected: response lost after commit'), { code: 'ECONNRESET' })
    }
  }
  const insertRaw: Store['insertRaw'] = (insert) => faulty(() => store.insertRaw(insert), () => lines(insert.body))
  // A spool segment's first line names its columns (TabSeparatedWithNames): not a row.
  const header = (insert: { format: string }) => (insert.format === 'TabSeparatedWithNames' ? 1 : 0)
  const insertFile: Store['insertFile'] = (insert) => faulty(() => store.insertFile(insert), () => lines([readFileSync(insert.path)]) - header(insert))
  const wrapped = { ...store, insertRaw, insertFile, insertedRows, close: () => store.close() }
  Object.defineProperties(wrapped, {
    fault: { get: () => state.fault, set: (f: Fault) => (state.fault = f), enumerable: true },
    delayMs: { get: () => state.delayMs, set: (ms: number) => (state.delayMs = ms), enumerable: true },
    attempts: { get: () => state.attempts, enumerable: true },
  })
  return wrapped as FaultyStore
}

export interface FaultyServer {
  url: string
  store: FaultyStore
  app: Awaited<ReturnType<typeof buildServer>>
}

/** A real server on port 0 over a fault-injecting wrapper of the real embedded store, in a temp dir removed after `body`. */
export async function withFaultyServer(env: Record<string, string>, body: (ctx: FaultyServer) => Promise<void>): Promise<void> {
  const dir = tempDir()
  // Migrated already: the inserter waits for the store's migrations, which took over the tests'
  // waits for a first insert on a loaded host.
  seedMigratedStore(dir.path)
  const config = loadConfig({ env: { SPANLENS_DATA_DIR: dir.path, SPANLENS_API_KEYS: API_KEYS, SPANLENS_LOG_LEVEL: 'silent', ...env } })
  const store = faultyStore(await createStore(config.store))
  const app = await buildServer(config, { store })
  const url = await app.listen({ host: '127.0.0.1', port: 0 })
  try {
    await body({ url, store, app })
  } finally {
    await app.close()
    await store.close()
    dir.cleanup()
  }
}
