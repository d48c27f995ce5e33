import type { FastifyPluginAsync } from 'fastify'
import type { IngestPipeline } from '../pipeline/ingest.js'
import type { Store } from '../store/index.js'
import { onlyParams, parseFlag } from '@spanlens/query'
import type { StoreOpenState } from '../http/store-not-open.js'
import { quoteString } from '../store/scoped-settings.js'

export interface HealthRoutesOptions {
  store: Store
  pipeline: IngestPipeline
  /** Whether the store is open and migrated, or its migrations are running (server.ts). */
  storeState: () => StoreOpenState
  /** How long /readyz waits for the store's ping when the engine is idle, or remote. */
  pingTimeoutMs?: number
  /**
   * Embedded, while a call is running: how long /readyz waits for the ping, which
   * queues behind that call. Well under Kubernetes' default probe timeout of 1 s.
   */
  busyPingTimeoutMs?: number
  /**
   * Embedded: a call running longer than this is a stalled engine, not a busy
   * one. Longer than the longest query the limits allow (an analyst query runs
   * up to SPANLENS_SQL_MAX_EXECUTION_SECONDS, default 30 s).
   */
  storeStallMs?: number
}

type StoreCheck = 'ok' | 'busy' | 'unreachable'

/** `running`: this server is applying them; `pending`: the store was not reached yet to apply them. */
function migrationsCheck(state: StoreOpenState): 'ok' | 'running' | 'pending' {
  return state === 'open' ? 'ok' : state === 'migrating' ? 'running' : 'pending'
}

/**
 * Whether the store answers. On a cluster the node Spanlens asks answers its /ping while a
 * shard is down, and every insert then fails (each touches every shard) as do most reads:
 * measured with one shard of two killed, /readyz said the store was `ok`. There the check
 * reads a row from one replica of every shard (`cluster()`, which fails when a shard has none).
 */
async function reach(store: Store): Promise<boolean> {
  if (store.cluster === undefined) return (await store.client.ping()).success
  const rs = await store.client.query({ query: `SELECT count() FROM cluster(${quoteString(store.cluster)}, system.one)`, format: 'JSONEachRow' })
  await rs.json()
  return true
}

/**
 * /healthz: the process is up. /readyz: it can take data. /metrics: Prometheus text.
 *
 * Taking data needs room in the spool, not the store: an OTLP request is acknowledged once
 * spooled, and the inserter stores it when ClickHouse answers again. So a store that cannot be
 * reached, an inserter failing for over a minute, or migrations not applied yet is `degraded`,
 * still 200. Migrations are `pending` in a server started while ClickHouse was unreachable, which
 * applies them once it answers, and `running` in one whose migrations outlast start-up's first
 * wait (a backfill over a large store): either listens meanwhile (store-opener.ts), and a failed
 * migration stops it. A 503 while ClickHouse (or one shard of
 * a cluster) is down takes every Spanlens server out of a load balancer at once, and exporters
 * lose the data the spools are there to keep: Kubernetes routes nothing to a Service whose pods
 * are all unready. `?strict=1` answers 503 when degraded too, for a load balancer that should
 * send traffic to servers that reach their store (one server cut off from it, the others not).
 */
export const healthRoutes: FastifyPluginAsync<HealthRoutesOptions> = async (app, opts) => {
  const pingTimeoutMs = opts.pingTimeoutMs ?? 2000
  const busyPingTimeoutMs = opts.busyPingTimeoutMs ?? 250
  const stallMs = opts.storeStallMs ?? 120_000
  // One ping at a time: a probe every second during a long query must not queue one ping per probe.
  let inflight: Promise<boolean> | undefined
  const ping = (): Promise<boolean> => {
    inflight ??= reach(opts.store)
      .then((ok) => ok, () => false)
      .finally(() => {
        inflight = undefined
      })
    return inflight
  }

  /**
   * Embedded ClickHouse runs one call at a time, so during a 29 s analyst query
   * the ping waited behind it and /readyz answered 503 although the engine was
   * working. A ping that times out while a call has been running for less than
   * `stallMs` is therefore `busy`, which is ready: the spool keeps taking data
   * and ingest's inserts go before queued queries. A ping behind a running call
   * cannot answer before that call ends, and a Kubernetes readinessProbe gives up
   * after 1 s by default, marking a server that takes data not ready: so behind a
   * running call the ping waits busyPingTimeoutMs, not the idle engine's 2 s.
   * Remote mode pings over HTTP (a cluster: a read of every shard, reach()), which no query
   * holds up, and has no activity to consult.
   */
  const checkStore = async (): Promise<{ check: StoreCheck; busySeconds: number | null; queued: number | null }> => {
    const busyBefore = opts.store.activity?.().busySince != null
    const answered = await Promise.race([
      ping(),
      new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), busyBefore ? busyPingTimeoutMs : pingTimeoutMs).unref()),
    ])
    const activity = opts.store.activity?.()
    const busySeconds = activity?.busySince != null ? (Date.now() - activity.busySince) / 1000 : null
    const queued = activity?.queued ?? null
    if (answered === true) return { check: 'ok', busySeconds, queued }
    if (answered === 'timeout' && busySeconds !== null && busySeconds * 1000 < stallMs) return { check: 'busy', busySeconds, queued }
    return { check: 'unreachable', busySeconds, queued }
  }

  app.get('/healthz', async () => ({ status: 'ok' }))

  app.get<{ Querystring: Record<string, unknown> }>('/readyz', async (req, reply) => {
    // As every query route: a parameter it does not read is refused, not dropped.
    onlyParams(req.query, '/readyz', { names: ['strict'] })
    const strict = parseFlag(req.query, 'strict')
    const store = await checkStore()
    const spool = opts.pipeline.spool
    const pipeline = opts.pipeline.health()
    const inserter = pipeline.inserter
    const checks = {
      store: store.check,
      migrations: migrationsCheck(opts.storeState()),
      spool: spool.full ? 'full' : 'ok',
      // stuck: failing without a success for over a minute; behind: unconfirmed data over a minute old,
      // whether or not inserts are failing now (retrying says less: its data may be fresh).
      inserter: inserter.state !== 'stuck' && inserter.behind ? 'behind' : inserter.state,
    }
    const takesData = checks.spool === 'ok'
    const degraded = store.check === 'unreachable' || checks.migrations !== 'ok' || inserter.state === 'stuck'
    const status = !takesData ? 'not_ready' : degraded ? 'degraded' : 'ready'
    return reply.code(status === 'ready' || (status === 'degraded' && !strict) ? 200 : 503).send({
      status,
      checks,
      // Embedded only (null remote): how long the running call has run, and the calls waiting behind it.
      storeBusySeconds: store.busySeconds,
      storeQueuedCalls: store.queued,
      spool: { bytes: spool.bytes, segments: spool.segments, oldestAgeSeconds: spool.oldestAgeMs() / 1000 },
      inserter: {
        failingForSeconds: inserter.failingForSeconds,
        pendingSegments: inserter.pending,
        oldestUnconfirmedSeconds: inserter.oldestUnconfirmedSeconds,
        // Each segment failing now (the oldest 10): how long, how often, why; one that no retry
        // inserts is set aside with `spanlens dead-letter set-aside` (docs/ingest.md).
        failingSegments: inserter.failingSegments,
        oldestFailing: inserter.oldestFailing,
      },
      lastInsertError: inserter.lastError,
      deadLetters: pipeline.deadLetters,
    })
  })

  app.get('/metrics', async (_req, reply) => {
    opts.pipeline.refreshGauges()
    // Read here, not per request: dead letters change only on a refused insert or `spanlens dead-letter`.
    opts.pipeline.metrics.deadLetterRowsOnDisk.set(opts.pipeline.deadLetters.stats().rows)
    // Here too, not on the ingest path: a segment starts or stops failing only on an insert.
    const inserter = opts.pipeline.inserter.health()
    opts.pipeline.metrics.insertFailingSegments.set(inserter.failingSegments)
    opts.pipeline.metrics.insertOldestFailingSeconds.set(inserter.oldestFailing[0]?.failingForSeconds ?? 0)
    const registry = opts.pipeline.metrics.registry
    return reply.type(registry.contentType).send(await registry.metrics())
  })
}
