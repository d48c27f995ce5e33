import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Fastify, { type FastifyInstance } from 'fastify'
import { createStore, loadConfig, migrate, storeQueryOptions, type Store } from '@spanlens/ingest'
import { queryRoutes, type QueryRoutesOptions } from '../../src/index.js'
import { storeEnv } from '../../../ingest/test/helpers/store-mode.js'
import { seedMigratedStore } from '../../../ingest/test/helpers/store-template.js'

/**
 * One store per test file: embedded (libchdb allows one data directory per process),
 * or a database of its own on the project's served ClickHouse or cluster.
 */
export async function openStore(): Promise<{ store: Store; close: () => Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'spanlens-query-'))
  seedMigratedStore(dir)
  const store = await createStore(loadConfig({ env: { SPANLENS_DATA_DIR: dir, ...storeEnv(dir) } }).store)
  await migrate(store)
  return {
    store,
    close: async () => {
      await store.close().catch(() => undefined)
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

let seq = 0
const hex = (n: number, width: number) => n.toString(16).padStart(width, '0')

export function traceId(n: number): string {
  return hex(n, 32)
}

/** A span row with sensible defaults; start is an ISO time or Date. */
export function span(o: Record<string, unknown> & { start?: string | Date } = {}): Record<string, unknown> {
  seq++
  const start = o.start instanceof Date ? o.start : new Date(o.start ?? Date.now() - 3_600_000)
  const duration = typeof o.duration_ms === 'number' ? o.duration_ms : 100
  const end = new Date(start.getTime() + duration)
  const fmt = (d: Date) => d.toISOString().replace('T', ' ').replace('Z', '')
  const { start: _s, ...rest } = o
  return {
    project_id: 'p1',
    trace_id: traceId(seq),
    span_id: hex(seq, 16),
    parent_span_id: '',
    name: 'chat',
    kind: 'llm',
    span_kind: 'client',
    service_name: 'svc',
    status_code: 'ok',
    request_model: 'gpt-4o',
    input_tokens: 10,
    output_tokens: 20,
    total_tokens: 30,
    duration_ms: duration,
    start_time: fmt(start),
    end_time: fmt(end),
    ...rest,
  }
}

export async function insertSpans(store: Store, rows: Array<Record<string, unknown>>): Promise<void> {
  await store.client.insert({ table: 'spans', values: rows, format: 'JSONEachRow' })
}

/** The routes' per-query limits in tests: far above what their small stores need. */
const TEST_QUERY_LIMITS = { maxExecutionSeconds: 30, maxMemoryBytes: 1024 * 1024 * 1024 }

/**
 * The query routes on a bare Fastify, as the server mounts them under /api/v1,
 * with a stand-in for its auth hook: `project` names the caller's project for a
 * bearer key (or for every request when it is a string).
 */
export async function queryApp(
  store: Store,
  project: string | Record<string, string>,
  options: Omit<QueryRoutesOptions, 'client' | 'database' | 'mode' | 'cluster' | 'queryLimits'> & Partial<Pick<QueryRoutesOptions, 'queryLimits'>>,
): Promise<FastifyInstance> {
  const app = Fastify()
  app.addHook('onRequest', async (request) => {
    const p = typeof project === 'string' ? project : project[(request.headers.authorization ?? '').replace(/^Bearer /, '')]
    if (p) request.spanlensProject = p
  })
  await app.register(queryRoutes, { prefix: '/api/v1', ...storeQueryOptions(store), queryLimits: TEST_QUERY_LIMITS, ...options })
  return app
}
