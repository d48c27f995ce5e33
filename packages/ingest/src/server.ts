import './types.js'
import Fastify, { type FastifyInstance } from 'fastify'
import { consoleRoutes } from '@spanlens/console'
import { queryRoutes } from '@spanlens/query'
import type { Logger } from 'pino'
import { KeyRing } from './auth.js'
import type { SpanlensConfig } from './config/load.js'
import { errors } from './errors.js'
import { createLogger } from './logger.js'
import { createMetrics, type IngestMetrics } from './metrics.js'
import { IngestPipeline } from './pipeline/ingest.js'
import { lockSpoolDir } from './pipeline/spool-lock.js'
import { healthRoutes } from './routes/health.js'
import { otlpRoutes } from './routes/otlp.js'
import { createStore, migrate, type Store } from './store/index.js'

export interface BuildServerOptions {
  /** Use this store instead of opening one from config (tests, fault injection). */
  store?: Store
  logger?: Logger
  /** How long shutdown waits for ClickHouse before leaving the rest in the spool. */
  shutdownTimeoutMs?: number
}

export interface SpanlensHandle {
  config: SpanlensConfig
  store: Store
  pipeline: IngestPipeline
  metrics: IngestMetrics
  /** Seals the current batch and resolves once every acknowledged span is in ClickHouse. */
  flush(): Promise<void>
}

declare module 'fastify' {
  interface FastifyInstance {
    spanlens: SpanlensHandle
  }
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]'])

export function isLoopback(host: string): boolean {
  return LOOPBACK.has(host) || host.startsWith('127.')
}

/** Composes the server: auth, OTLP ingest, query API, health and metrics; tests start it on port 0. */
export async function buildServer(config: SpanlensConfig, options: BuildServerOptions = {}): Promise<FastifyInstance> {
  const keys = new KeyRing(config.apiKeys)
  if (keys.open && !isLoopback(config.host)) throw errors.UNSAFE_BIND(config.host)

  const logger = options.logger ?? createLogger(config.logLevel)
  // The spool's lock before anything else: a server refused because another one
  // owns this spool must not open its store or apply its migrations (to a shared
  // ClickHouse, say, that the running server is using).
  const spoolLock = lockSpoolDir(config.ingest.spoolDir)
  const ownsStore = options.store === undefined
  let store: Store | undefined
  let migrated = false
  const metrics = createMetrics()
  let pipeline: IngestPipeline
  try {
    store = options.store ?? (await createStore(config.store))
    await migrate(store, { log: (msg, fields) => logger.info(fields ?? {}, msg) })
    migrated = true
    pipeline = new IngestPipeline(config.ingest, store, metrics, logger.child({ component: 'pipeline' }), spoolLock)
    pipeline.start()
  } catch (err) {
    // A store that cannot open, a failed migration, an unusable spool: leave no
    // store open behind (embedded chDB allows one data directory per process, so
    // a caller could not start again) and no lock.
    if (ownsStore) await store?.close().catch(() => undefined)
    spoolLock.release()
    throw err
  }

  // Typed as the default instance so plugins and callers need no pino generics.
  const app = Fastify({
    loggerInstance: logger,
    requestIdHeader: 'x-request-id',
    trustProxy: config.trustProxy,
    bodyLimit: config.ingest.bodyLimitBytes,
  })
  app.decorate('spanlens', {
    config,
    store,
    pipeline,
    metrics,
    flush: () => pipeline.flush(),
  } satisfies SpanlensHandle)

  // Authentication for everything that reads or writes project data. OTLP routes
  // answer in the request's encoding (their error handler); the JSON API here.
  app.addHook('onRequest', async (req, reply) => {
    const path = req.url
    const otlp = path.startsWith('/v1/') || path.startsWith('/api/public/otel/')
    if (!otlp && !path.startsWith('/api/')) return
    const auth = keys.authenticate(req.headers.authorization)
    if ('error' in auth) {
      const err = errors.UNAUTHORIZED(auth.error)
      if (otlp) throw err
      return reply.code(401).send(err.toJSON())
    }
    req.spanlensProject = auth.project
    return undefined
  })

  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, req, reply) => {
    const status = typeof err.statusCode === 'number' && err.statusCode >= 400 ? err.statusCode : 500
    if (status >= 500) req.log.error({ err }, 'request failed')
    const code = typeof err.code === 'string' && err.code.startsWith('SPANLENS_') ? err.code : status >= 500 ? 'SPANLENS_INTERNAL' : 'SPANLENS_BAD_REQUEST'
    const message = status >= 500 && code === 'SPANLENS_INTERNAL' ? 'internal error' : err.message
    return reply.code(status).send({ error: { code, message } })
  })
  app.setNotFoundHandler((req, reply) =>
    reply.code(404).send({ error: { code: 'SPANLENS_NOT_FOUND', message: `no route ${req.method} ${req.url.split('?')[0]}` } }),
  )

  await app.register(healthRoutes, { store, pipeline, migrated: () => migrated })
  await app.register(otlpRoutes, { pipeline, bodyLimit: config.ingest.bodyLimitBytes })
  await app.register(queryRoutes, {
    prefix: '/api/v1',
    client: store.client,
    database: store.database,
    mode: store.mode,
    ...(config.query.sloFile ? { sloFile: config.query.sloFile } : {}),
    sql: {
      maxExecutionSeconds: config.query.sqlMaxExecutionSeconds,
      maxMemoryBytes: config.query.sqlMaxMemoryBytes,
      maxResultRows: config.query.sqlMaxResultRows,
    },
  })

  // The web console at / (static files + client-side routes); never answers the API's prefixes.
  await app.register(consoleRoutes)

  app.addHook('onClose', async () => {
    await pipeline.stop(options.shutdownTimeoutMs ?? 10_000)
    if (ownsStore) await store.close()
  })
  return app as unknown as FastifyInstance
}
