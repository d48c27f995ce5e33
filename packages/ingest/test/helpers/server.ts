import type { FastifyInstance } from 'fastify'
import { loadConfig } from '../../src/config/load.js'
import { buildServer, type BuildServerOptions } from '../../src/server.js'
import { createStore, type Store } from '../../src/store/index.js'
import { storeEnv } from './store-mode.js'
import { seedMigratedStore } from './store-template.js'
import { tempDir } from './tmp.js'

export const KEYS = { acme: 'acme-key-0123456789', other: 'other-key-0123456789' }
export const API_KEYS = `acme:${KEYS.acme},other:${KEYS.other}`

export interface TestServer {
  app: FastifyInstance
  url: string
  dataDir: string
  close(): Promise<void>
  rows<T = Record<string, unknown>>(query: string, params?: Record<string, unknown>): Promise<T[]>
}

/**
 * A real server on an ephemeral port over a store in a temp dir: embedded ClickHouse,
 * or the served one / the cluster of the vitest project (store-mode.ts).
 */
export async function startServer(env: Record<string, string> = {}, options: BuildServerOptions = {}): Promise<TestServer> {
  const dir = tempDir()
  // A test that names its own data directory gets what is there; a new one starts migrated.
  if (env.SPANLENS_DATA_DIR === undefined) seedMigratedStore(dir.path)
  const config = loadConfig({
    env: { SPANLENS_DATA_DIR: dir.path, ...storeEnv(dir.path), SPANLENS_API_KEYS: API_KEYS, SPANLENS_LOG_LEVEL: 'silent', SPANLENS_PORT: '0', ...env },
  })
  const app = await buildServer(config, options)
  // buildServer gives up waiting for the migrations after 5 s (a loaded host can take that long on a
  // new store); a test's queries expect them applied. A test that sets the wait watches them itself.
  if (options.storeFirstWaitMs === undefined) {
    await app.spanlens.storeOpened.catch(async (err: unknown) => {
      await app.close()
      throw err
    })
  }
  const url = await app.listen({ host: '127.0.0.1', port: 0 })
  return {
    app,
    url,
    dataDir: dir.path,
    async close() {
      await app.close()
      dir.cleanup()
    },
    async rows<T>(query: string, params: Record<string, unknown> = {}) {
      const rs = await app.spanlens.store.client.query({ query, query_params: params, format: 'JSONEachRow' })
      return rs.json<T>()
    },
  }
}

export async function openStore(dataDir: string): Promise<Store> {
  return createStore(loadConfig({ env: { SPANLENS_DATA_DIR: dataDir, ...storeEnv(dataDir) } }).store)
}

export const bearer = (key: string) => ({ authorization: `Bearer ${key}` })

/** POSTs an OTLP body to the server as the acme project. */
export const postOtlp = (server: TestServer, path: string, body: Buffer | string, type: 'application/json' | 'application/x-protobuf') =>
  fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': type, ...bearer(KEYS.acme) }, body })
