import './types.js'
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest, type RouteOptions } from 'fastify'
import { consoleHandler, consoleRoutes, isReserved } from '@spanlens/console'
import { loadSloFile, queryRoutes } from '@spanlens/query'
import type { Logger } from 'pino'
import { authenticate, authenticateAdmin, KeyRing } from './auth.js'
import type { SpanlensConfig } from './config/load.js'
import { errors, LogLimit, replyWithError } from './errors.js'
import { GrpcReceiver } from './grpc/server.js'
import { challengeEvery401 } from './http/challenge.js'
import { clientErrorHandler } from './http/client-error.js'
import { ConnectionLimit } from './http/connection-limit.js'
import { requireHostHeader } from './http/host-header.js'
import { answerHalfClosedClients } from './http/half-close.js'
import { refuseUntilStoreOpen, type StoreOpenState } from './http/store-not-open.js'
import { cors } from './http/cors.js'
import { type KeyedRoute, unroutedRequests } from './http/unrouted.js'
import { otlpServices } from './grpc/services.js'
import { createLogger } from './logger.js'
import { ContentMergeJob } from './jobs/content-merge.js'
import { isLoopback } from './loopback.js'
import { createMetrics, type IngestMetrics } from './metrics.js'
import { IngestPipeline } from './pipeline/ingest.js'
import { lockSpoolDir } from './pipeline/spool-lock.js'
import { MAX_STORED_LABEL_CHARS } from './normalize/normalize.js'
import { createRedactor } from './normalize/redact.js'
import { adminRoutes } from './routes/admin.js'
import { healthRoutes } from './routes/health.js'
import { otlpRoutes } from './routes/otlp.js'
import { StoreOpener, unreachableAtOpen } from './store-opener.js'
import { connectStore, migrate, storeQueryOptions, type Store } from './store/index.js'

/**
 * Node's whole-request timeout: headers, then a body, with a second to spare so that
 * the OTLP receiver's SPANLENS_BODY_TIMEOUT_MS answers first, in the request's encoding.
 */
function requestTimeoutMs(config: SpanlensConfig): number {
  return config.headersTimeoutMs + config.ingest.bodyTimeoutMs + 1000
}

/** As the OTLP receiver's for every 503 (receiver/export.ts): another server, or this one restarted, in a few seconds. */
const SHUTDOWN_RETRY_AFTER_SECONDS = 5

/**
 * How long start-up waits for the store before it listens anyway, opening it in the background
 * (store-opener.ts): well inside Kubernetes' default liveness allowance (3 failed probes 10 s
 * apart), which a served store that takes connections and answers nothing held for the whole
 * request timeout (30 s). A store that answers opens within it; one whose migrations take longer
 * (a backfill over a large store: 013's takes ~3.4 s per 10 M spans on 2 cores, embedded or
 * served; a cluster's DDL on a busy Keeper) is migrated in the background, the server taking data
 * into its spool meanwhile.
 */
const FIRST_WAIT_MS = 5_000

export interface BuildServerOptions {
  /** Use this store instead of opening one from config (tests, fault injection); its database exists. */
  store?: Store
  logger?: Logger
  /** How long shutdown waits for ClickHouse before leaving the rest in the spool. */
  shutdownTimeoutMs?: number
  /** How long start-up waits for the store to open and migrate before listening anyway (FIRST_WAIT_MS). */
  storeFirstWaitMs?: number
}

export interface SpanlensHandle {
  config: SpanlensConfig
  store: Store
  pipeline: IngestPipeline
  metrics: IngestMetrics
  /**
   * Resolves once the store is open and migrated: at once, unless the server started while
   * ClickHouse was unreachable (store-opener.ts). Rejects with the failure that then stops the
   * server (a refusal, a failed migration): `spanlens serve` exits with it.
   */
  storeOpened: Promise<void>
  /** Seals the current batch and resolves once every acknowledged span is in ClickHouse, content from logs merged onto its spans. */
  flush(): Promise<void>
  /** The OTLP/gRPC receiver, bound by its listen() (bin.ts); undefined when SPANLENS_GRPC_PORT is off. */
  grpc: GrpcReceiver | undefined
  /** Every route registered (a test walks them against the public allow-list). */
  routes: Array<{ method: string; url: string }>
}

declare module 'fastify' {
  interface FastifyInstance {
    spanlens: SpanlensHandle
  }
}

/** Composes the server: auth, OTLP ingest, query API, health and metrics; tests start it on port 0. */
export async function buildServer(config: SpanlensConfig, options: BuildServerOptions = {}): Promise<FastifyInstance> {
  const keys = new KeyRing(config.apiKeys)
  if (keys.open && !isLoopback(config.host)) throw errors.UNSAFE_BIND(config.host)
  if (keys.open && config.grpc && !isLoopback(config.grpc.host)) throw errors.UNSAFE_BIND(config.grpc.host)

  const logger = options.logger ?? createLogger(config.logLevel)
  for (const warning of config.warnings ?? []) logger.warn(warning)
  // A bad SLO file stops start-up, as loadConfig checks it (a config built by hand too), before
  // the spool's lock and the store, so nothing is left open. An edit that breaks it later is
  // answered by /api/v1/slo alone, which reads the file on every request.
  if (config.query.sloFile) {
    logger.info({ file: config.query.sloFile, slos: loadSloFile(config.query.sloFile).length }, 'SLO file loaded')
  }
  // The spool's lock before anything else: a server refused because another one
  // owns this spool must not open its store or apply its migrations (to a shared
  // ClickHouse, say, that the running server is using).
  const spoolLock = lockSpoolDir(config.ingest.spoolDir)
  const ownsStore = options.store === undefined
  let store: Store | undefined
  let opener: StoreOpener | undefined
  /** The store is reached and its migrations are running (the query routes say so). */
  let migrating = false
  /** Where a store not open yet is: its migrations running, or ClickHouse not reached. */
  const openingPhase = (): 'migrating' | 'unreached' => (migrating ? 'migrating' : 'unreached')
  const metrics = createMetrics()
  let pipeline: IngestPipeline
  try {
    const connected = options.store ? { store: options.store, bootstrap: async () => undefined } : await connectStore(config.store, { logger })
    const opening = connected.store
    store = opening
    opener = new StoreOpener({
      open: async () => {
        await connected.bootstrap()
        migrating = true
        try {
          await migrate(opening, { log: (msg, fields) => logger.info(fields ?? {}, msg) })
        } finally {
          migrating = false
        }
      },
      // Remote only: an embedded engine opened in connectStore, or start-up stopped there.
      retries: (err) => opening.mode === 'remote' && unreachableAtOpen(err),
      log: logger.child({ component: 'store' }),
      firstWaitMs: options.storeFirstWaitMs ?? FIRST_WAIT_MS,
      stillOpening: openingPhase,
    })
    await opener.start()
    pipeline = new IngestPipeline(config.ingest, store, metrics, logger.child({ component: 'pipeline' }), spoolLock, opener.opened)
    pipeline.start()
  } catch (err) {
    // A store that refuses, a failed migration, an unusable spool: leave no
    // store open behind (embedded chDB allows one data directory per process, so
    // a caller could not start again) and no lock.
    opener?.close()
    if (ownsStore) await store?.close().catch(() => undefined)
    spoolLock.release()
    throw err
  }
  const storeOpener = opener
  const storeState = (): StoreOpenState => (storeOpener.isOpen ? 'open' : openingPhase())

  const routes: SpanlensHandle['routes'] = []
  /** The routes registered in the scopes below that check the caller's key. */
  const keyed: KeyedRoute[] = []
  const unrouted = unroutedRequests({
    keys,
    routes,
    keyed,
    maxParamLength: MAX_STORED_LABEL_CHARS,
    consolePage: consoleHandler(),
    isConsolePath: (path) => !isReserved(path),
  })
  // Typed as the default instance so plugins and callers need no pino generics.
  const app = Fastify({
    loggerInstance: logger,
    requestIdHeader: 'x-request-id',
    trustProxy: config.trustProxy,
    // No server-wide body limit: each route that reads a body sets its own (OTLP counts its
    // bodies itself, after decompression, to SPANLENS_BODY_LIMIT_BYTES; the query API's
    // POST routes theirs), and a request no route takes is answered unread (http/unrouted.ts).
    // Fastify's default, 1 MiB, is what a route added without one gets.
    // A connection holds its slot (SPANLENS_MAX_CONNECTIONS) while its headers arrive: they
    // are cut at SPANLENS_HEADERS_TIMEOUT_MS, checked each second (Node's defaults: 60 s,
    // checked each 30). Between requests a kept-alive connection is under keepAliveTimeout.
    // Node's own refusal of an HTTP/1.1 request without Host is an empty 400: http/host-header.ts answers it instead.
    http: {
      headersTimeout: config.headersTimeoutMs,
      requestTimeout: requestTimeoutMs(config),
      connectionsCheckingInterval: Math.min(1000, config.headersTimeoutMs),
      requireHostHeader: false,
    },
    // Fastify's default, 0, lets a body trickle for ever on the routes that do not time
    // their bodies themselves (the OTLP receiver answers SPANLENS_BODY_TIMEOUT first).
    requestTimeout: requestTimeoutMs(config),
    // Session and user ids are stored up to this length (characters, once decoded); the router's
    // default, 100, answers a route with a longer one "route not found".
    routerOptions: { maxParamLength: MAX_STORED_LABEL_CHARS },
    clientErrorHandler: clientErrorHandler(logger),
    // The router's own refusals (a path whose percent-encoding does not decode, `%E0%A4%A`)
    // bypass the hooks and the error handler below: answered as any request no route takes,
    // except a page the console owns, which gets the console (its router says "no page at
    // this address"; a link pasted with a cut escape showed the API's JSON). (The reply is
    // typed for a route generic it has not, hence the casts.)
    frameworkErrors: (err, req, reply) => unrouted.frameworkErrors(err, req as unknown as FastifyRequest, reply as unknown as FastifyReply),
    // Fastify's own 503 while closing is JSON in its shape, without Retry-After, even to a
    // protobuf exporter: the hook below answers SHUTTING_DOWN instead.
    return503OnClosing: false,
  })
  // From the moment close() starts (preClose) a request that arrives on a connection still
  // open (a keep-alive one, one whose headers were on their way) is refused like any other
  // error of its route: the OTLP receiver in the request's encoding, the rest in JSON, each
  // with Retry-After. First of all hooks, so that every route, however scoped, has it.
  let closing = false
  app.addHook('preClose', async () => {
    closing = true
  })
  app.addHook('onRequest', async () => {
    if (closing) throw errors.SHUTTING_DOWN({ retryAfterSeconds: SHUTDOWN_RETRY_AFTER_SECONDS })
  })
  app.addHook('onRequest', requireHostHeader)
  // Before every scope, so that each 401, whoever answers it, says how to authenticate.
  app.addHook('onSend', challengeEvery401)
  const connections = new ConnectionLimit(config.maxConnections, metrics, logger.child({ component: 'connections' }))
  connections.watch(app.server, 'http')
  // A client that ends its side once its request is sent still gets the reply (http/half-close.ts).
  answerHalfClosedClients(app.server)
  // Every call passes the same auth, admission and limits as the OTLP/HTTP routes (grpc/call.ts).
  const grpc =
    config.grpc &&
    new GrpcReceiver(
      config.grpc,
      otlpServices(pipeline),
      {
        keys,
        pipeline,
        bodyLimit: config.ingest.bodyLimitBytes,
        bodyTimeoutMs: config.ingest.bodyTimeoutMs,
        log: logger.child({ component: 'grpc' }),
      },
      connections,
    )
  // Content from GenAI logs onto its spans, for analytics (jobs/content-merge.ts).
  const contentMerge = new ContentMergeJob(store.client, config.ingest.contentMergeIntervalMs, metrics, logger.child({ component: 'content-merge' }))
  // Its tables exist once the store is migrated.
  storeOpener.opened.then(
    () => contentMerge.start(),
    () => undefined,
  )
  /** Routes that take data in: each gets a CORS preflight below. */
  const ingestUrls = new Set<string>()
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) routes.push({ method, url: route.url })
    if (route.config?.ingest === true) ingestUrls.add(route.url)
  })
  app.decorate('spanlens', {
    config,
    store,
    pipeline,
    metrics,
    storeOpened: storeOpener.opened,
    flush: async () => {
      storeOpener.retryNow()
      await storeOpener.opened
      await pipeline.flush()
      await contentMerge.run('full')
    },
    grpc,
    routes,
  } satisfies SpanlensHandle)

  // The one mapping of foreign errors to ours (@spanlens/query/errors): a client
  // error keeps its status, a store failure is 502, anything else a bug (500).
  // One limit for the root's and the query API's handlers: the first 503 of an outage, then one per 30 s with a count.
  const unreachableLog = new LogLimit()
  app.setErrorHandler((err, _req, reply) => replyWithError(err, reply, unreachableLog))
  app.setNotFoundHandler(unrouted.notFound)

  // Public on purpose: health and metrics (bind /metrics to loopback or firewall
  // it), and the console's files at / below. Everything that reads or writes
  // project data is registered inside the scope below, whose onRequest hook
  // authenticates: a route added there is closed by default, whatever its path
  // or however it is percent-encoded (the hook runs on the route, not the URL).
  await app.register(healthRoutes, {
    store,
    pipeline,
    storeState,
    // One analyst call may run the whole SQL or query limit; beyond twice that the engine is stalled.
    storeStallMs: Math.max(120_000, 2 * Math.max(config.query.sqlMaxExecutionSeconds, config.query.maxExecutionSeconds) * 1000),
  })
  // Before the scopes' auth hooks, so that a browser can read a 401 or a 429 too.
  const corsPolicy = cors(config.cors)
  app.addHook('onRequest', corsPolicy.onRequest)
  // After CORS's, so that a browser can read the answer; before the body is read.
  app.addHook('onRequest', unrouted.onRequest)
  /** Notes each route of a scope that checks keys: a request the router cannot take for one is refused alike. */
  const noteKeyed = (route: RouteOptions) => {
    for (const method of [route.method].flat()) keyed.push({ method, url: route.url, ingest: route.config?.ingest === true, authScheme: route.config?.authScheme })
  }
  await app.register(async (ingest) => {
    ingest.addHook('onRoute', noteKeyed)
    // OTLP answers a refused key in the request's own encoding (its error handler).
    ingest.addHook('onRequest', authenticate(keys, 'throw'))
    await ingest.register(otlpRoutes, {
      pipeline,
      bodyLimit: config.ingest.bodyLimitBytes,
      bodyTimeoutMs: config.ingest.bodyTimeoutMs,
    })
  })
  await app.register(async (api) => {
    api.addHook('onRoute', noteKeyed)
    api.addHook('onRequest', authenticate(keys, 'reply'))
    api.addHook('onRequest', refuseUntilStoreOpen(storeState))
    await api.register(queryRoutes, {
      prefix: '/api/v1',
      ...storeQueryOptions(store),
      redact: createRedactor(config.ingest.redact),
      ...(config.query.sloFile ? { sloFile: config.query.sloFile } : {}),
      admission: config.query.admission,
      sql: {
        maxExecutionSeconds: config.query.sqlMaxExecutionSeconds,
        maxMemoryBytes: config.query.sqlMaxMemoryBytes,
        maxResultRows: config.query.sqlMaxResultRows,
        maxResultBytes: config.query.sqlMaxResultBytes,
      },
      queryLimits: { maxExecutionSeconds: config.query.maxExecutionSeconds, maxMemoryBytes: config.query.maxMemoryBytes },
      unreachableLog,
    })
  })

  // The operator's routes on the spool, only with SPANLENS_ADMIN_KEY, and in a scope of their own
  // whose hook takes that key alone: a project's key acts on its project, these on every one's.
  const adminKey = config.adminKey
  if (adminKey !== undefined) {
    await app.register(async (admin) => {
      admin.addHook('onRequest', authenticateAdmin(adminKey, keys))
      await admin.register(adminRoutes, { pipeline })
    })
  }

  // Preflights carry no credentials: outside the authenticated scopes, and they read no data.
  for (const url of ingestUrls) app.options(url, corsPolicy.preflight)

  // The web console at / (static files + client-side routes); never answers the API's prefixes.
  await app.register(consoleRoutes)

  app.addHook('onClose', async () => {
    // A store not reached yet is left for the next start, which finds the spool as it is.
    storeOpener.close()
    // gRPC calls in flight get the same time to finish; what they acknowledge is spooled before the pipeline stops.
    await grpc?.close(options.shutdownTimeoutMs ?? 10_000)
    await contentMerge.stop()
    await pipeline.stop(options.shutdownTimeoutMs ?? 10_000)
    if (ownsStore) await store.close()
  })
  return app as unknown as FastifyInstance
}
