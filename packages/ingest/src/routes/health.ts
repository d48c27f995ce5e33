import type { FastifyPluginAsync } from 'fastify'
import type { IngestPipeline } from '../pipeline/ingest.js'
import type { Store } from '../store/index.js'

export interface HealthRoutesOptions {
  store: Store
  pipeline: IngestPipeline
  migrated: () => boolean
}

/** /healthz: the process is up. /readyz: it can take data. /metrics: Prometheus text. */
export const healthRoutes: FastifyPluginAsync<HealthRoutesOptions> = async (app, opts) => {
  app.get('/healthz', async () => ({ status: 'ok' }))

  app.get('/readyz', async (_req, reply) => {
    const ping = await Promise.race([
      opts.store.client.ping().then((r) => r.success, () => false),
      new Promise<boolean>((r) => setTimeout(() => r(false), 2000).unref()),
    ])
    const spool = opts.pipeline.spool
    const checks = {
      store: ping ? 'ok' : 'unreachable',
      migrations: opts.migrated() ? 'ok' : 'pending',
      spool: spool.full ? 'full' : 'ok',
    }
    const ready = Object.values(checks).every((v) => v === 'ok')
    return reply.code(ready ? 200 : 503).send({
      status: ready ? 'ready' : 'not_ready',
      checks,
      spool: { bytes: spool.bytes, segments: spool.segments, oldestAgeSeconds: spool.oldestAgeMs() / 1000 },
      lastInsertError: opts.pipeline.inserter.lastError?.message ?? null,
    })
  })

  app.get('/metrics', async (_req, reply) => {
    opts.pipeline.refreshGauges()
    const registry = opts.pipeline.metrics.registry
    return reply.type(registry.contentType).send(await registry.metrics())
  })
}
