import { existsSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import pino from 'pino'
import { loadConfig } from '../../src/config/load.js'
import { buildServer } from '../../src/server.js'
import { storeEnv } from '../helpers/store-mode.js'
import { tempDir } from '../helpers/tmp.js'

export interface FuzzProject {
  project: string
  key: string
}

export interface FuzzServer {
  app: FastifyInstance
  url: string
  spoolDir: string
  /** The server's warn/error log lines (pino JSON), for failure reports. */
  logs: string[]
  rows<T = Record<string, unknown>>(query: string, params?: Record<string, unknown>): Promise<T[]>
  /** Files ClickHouse refused and the inserter set aside: acknowledged spans that will never be stored. */
  deadLetters(): string[]
  /** flush() or, after `ms`, a description of why not (insert error, spool state). */
  flushWithin(ms: number): Promise<string | undefined>
  close(): Promise<void>
}

/**
 * A real server over the project's ClickHouse (embedded in a temp dir, or served) on 127.0.0.1:0, with
 * several projects and its warn+ logs kept in memory. Retention is off so spans
 * dated 1970 are not a TTL's to drop while a test counts them.
 */
export async function startFuzzServer(projects: FuzzProject[], env: Record<string, string> = {}): Promise<FuzzServer> {
  const dir = tempDir('spanlens-fuzz-')
  const logs: string[] = []
  const logger = pino({ level: 'warn' }, { write: (line: string) => void logs.push(line.length > 2000 ? `${line.slice(0, 2000)}…` : line) })
  const config = loadConfig({
    env: {
      SPANLENS_DATA_DIR: dir.path,
      SPANLENS_API_KEYS: projects.map((p) => `${p.project}:${p.key}`).join(','),
      SPANLENS_RETENTION_DAYS: '0',
      SPANLENS_PORT: '0',
      // The vitest project's store: embedded, or the served ClickHouse (project `remote`).
      ...storeEnv(dir.path),
      ...env,
    },
  })
  const app = await buildServer(config, { logger })
  const url = await app.listen({ host: '127.0.0.1', port: 0 })
  const spoolDir = config.ingest.spoolDir
  return {
    app,
    url,
    spoolDir,
    logs,
    async rows<T>(query: string, params: Record<string, unknown> = {}) {
      const rs = await app.spanlens.store.client.query({ query, query_params: params, format: 'JSONEachRow' })
      return rs.json<T>()
    },
    deadLetters() {
      const dead = join(spoolDir, 'dead')
      return existsSync(dead) ? readdirSync(dead) : []
    },
    async flushWithin(ms: number) {
      let timer: NodeJS.Timeout | undefined
      const timedOut = await Promise.race([
        app.spanlens.flush().then(() => false),
        new Promise<boolean>((r) => (timer = setTimeout(() => r(true), ms))),
      ])
      clearTimeout(timer)
      if (!timedOut) return undefined
      const p = app.spanlens.pipeline
      return `flush() did not finish within ${ms} ms: inserter lastError=${JSON.stringify(p.inserter.lastError?.message?.slice(0, 300) ?? null)}, spool segments=${p.spool.segments}, bytes=${p.spool.bytes}`
    },
    async close() {
      await app.close()
      dir.cleanup()
    },
  }
}

/** The server's count of spans it accepted (acknowledged) for a project so far. */
export async function acceptedSpans(app: FastifyInstance, project: string): Promise<number> {
  const metric = await app.spanlens.metrics.signals.traces.accepted.get()
  return metric.values.filter((v) => v.labels.project === project).reduce((n, v) => n + v.value, 0)
}

/** Log lines at error level or that mention ClickHouse refusing data, shortened for a report. */
export function importantLogs(logs: string[], max = 8): string[] {
  return logs.filter((l) => /"level":(50|60)|quarantine|rejected a spool segment|insert failed/.test(l)).slice(-max).map((l) => l.trim().slice(0, 600))
}
