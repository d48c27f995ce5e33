import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { buildServer, loadConfig } from '@spanlens/ingest'
import { startFakeLlm, type FakeLlm } from '@spanlens/fake-llm'
import { afterAll, beforeAll } from 'vitest'
import { storeEnv } from '../../../packages/ingest/test/helpers/store-mode.js'

/**
 * What an example test needs: a real Spanlens server (OTLP ingest + query API)
 * over the vitest project's store (embedded ClickHouse in a temp dir, or a database
 * of its own on the served ClickHouse or cluster of the remote and cluster projects),
 * and the fake LLM provider. One embedded store per test file: embedded ClickHouse
 * binds one data directory per process.
 */
export const PROJECT = 'examples'
export const API_KEY = 'examples-key-0123456789'

export interface Stack {
  /** Spanlens base URL, what SPANLENS_ENDPOINT takes. */
  spanlensUrl: string
  llm: FakeLlm
  /** The environment an example reads: Spanlens endpoint and key, provider base URLs and keys. */
  env: Record<string, string>
  /** Waits until every acknowledged span is inserted, then runs a query (JSONEachRow). */
  rows<T = Row>(query: string, params?: Record<string, unknown>): Promise<T[]>
  close(): Promise<void>
}

export type Row = Record<string, unknown>

/**
 * `env`: extra SPANLENS_* settings for the server (e.g. SPANLENS_SLO_FILE).
 * `embedded`: embedded ClickHouse whatever the project's store.
 */
export async function startStack(env: Record<string, string> = {}, options: { embedded?: boolean } = {}): Promise<Stack> {
  const dir = mkdtempSync(join(tmpdir(), 'spanlens-examples-'))
  const app = await buildServer(
    loadConfig({
      env: { SPANLENS_DATA_DIR: dir, ...(options.embedded ? {} : storeEnv(dir)), SPANLENS_PORT: '0', SPANLENS_API_KEYS: `${PROJECT}:${API_KEY}`, SPANLENS_LOG_LEVEL: 'silent', SPANLENS_SPOOL_FSYNC: 'never', ...env },
    }),
  )
  const spanlensUrl = await app.listen({ host: '127.0.0.1', port: 0 })
  const llm = await startFakeLlm()
  return {
    spanlensUrl,
    llm,
    env: {
      SPANLENS_ENDPOINT: spanlensUrl,
      SPANLENS_API_KEY: API_KEY,
      OPENAI_BASE_URL: `${llm.url}/v1`,
      OPENAI_API_KEY: 'sk-fake',
      ANTHROPIC_BASE_URL: llm.url,
      ANTHROPIC_API_KEY: 'sk-ant-fake',
    },
    async rows<T>(query: string, params: Record<string, unknown> = {}) {
      await app.spanlens.flush()
      const rs = await app.spanlens.store.client.query({ query, query_params: params, format: 'JSONEachRow' })
      return rs.json<T>()
    },
    async close() {
      await llm.close()
      await app.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

/**
 * One stack for the test file: started before its tests with its environment
 * applied to process.env (examples read their endpoints from there), closed after.
 * The returned object is filled in by the time the tests run.
 */
export function useStack(env: Record<string, string> = {}): Stack {
  const stack = {} as Stack
  beforeAll(async () => {
    Object.assign(stack, await startStack(env))
    Object.assign(process.env, stack.env)
  })
  afterAll(() => stack.close?.())
  return stack
}

/** The span columns the example tests assert on, oldest first. */
export const SPAN_COLUMNS = `name, kind, provider, operation, request_model, response_model, input_tokens, output_tokens,
  cache_read_tokens, cache_write_tokens, finish_reason, input, output, user_id, session_id, ttft_ms, status_code,
  error_type, trace_id, span_id, parent_span_id, service_name, project_id`

export async function spans(stack: Stack): Promise<Row[]> {
  return stack.rows(`SELECT ${SPAN_COLUMNS} FROM spans FINAL ORDER BY start_time, name`)
}

/** The one row with this name (throws listing what there is otherwise). */
export function one(rows: Row[], name: string): Row {
  const found = rows.filter((r) => r.name === name)
  if (found.length !== 1) throw new Error(`expected one span named ${name}, found ${found.length}; have ${rows.map((r) => r.name).join(', ')}`)
  return found[0]!
}
