import type { ClickHouseClient } from '@clickhouse/client'
import type { FastifyPluginAsync, FastifyRequest } from 'fastify'
import { z } from 'zod'
import { bias } from '../bias/report.js'
import { counterfactual } from '../bias/counterfactual.js'
import { DRIFT_SIGNALS_AT_ONCE, drift } from '../drift/report.js'
import { type AdmissionLimits, defaultAdmission, QueryAdmission } from '../admission.js'
import { type QueryLimits, withQueryLimits } from '../db.js'
import { errors, type LogLimit, PRIVATE_REPLY_HEADERS, replyWithError } from '../errors.js'
import { filterFromQuery, isFilterParam } from '../filters.js'
import { traceIdParam } from '../ids.js'
import { logsRoutes } from '../logs/routes.js'
import { invalidFields, oneValueEach, onlyParams, parseFlag, parseLimit, type RouteParams } from '../params.js'
import { metricsRoutes } from '../metrics/routes.js'
import { recordScore } from '../scores/record.js'
import { sessionsRoutes } from '../sessions/routes.js'
import { loadSloFile } from '../slo/file.js'
import { sloStatus } from '../slo/status.js'
import { runSandboxedSql, type StreamQuery } from '../sql/sandbox.js'
import { attributeKeys } from '../traces/attribute-keys.js'
import { decodeCursor } from '../traces/cursor.js'
import { getTrace } from '../traces/get-trace.js'
import { listSpans, listTraces } from '../traces/list.js'
import { decodeOrderCursor, parseTraceOrder } from '../traces/order.js'
import { SUMMARY_DIMENSIONS, type SummaryDimension, summary } from '../traces/summary.js'
import { parseTime } from '../time.js'
import { usersRoutes } from '../users/routes.js'
import { stringifyReply } from '../json.js'

declare module 'fastify' {
  interface FastifyRequest {
    spanlensProject?: string
  }
  interface FastifyContextConfig {
    /**
     * A route that takes data in (OTLP, POST /scores): an ingest key may call it, and a
     * browser on an origin of SPANLENS_CORS_ORIGINS (the server's auth and CORS read it).
     */
    ingest?: boolean
    /** The query parameters the route reads; any other is a 400 naming it (params.ts, onlyParams). None when not given. */
    query?: RouteParams
  }
}

export interface QueryRoutesOptions {
  client: ClickHouseClient
  database: string
  mode: 'embedded' | 'remote'
  /** The store is a cluster (Distributed tables): the SQL sandbox needs to know (sql/sandbox.ts). */
  cluster?: boolean
  /** Embedded: the store's streamed read, through which the SQL sandbox reads its result (sql/sandbox.ts). */
  streamQuery?: StreamQuery | undefined
  sloFile?: string
  sql: { maxExecutionSeconds: number; maxMemoryBytes: number; maxResultRows: number; maxResultBytes: number }
  /** Every other route's queries: SPANLENS_QUERY_MAX_EXECUTION_SECONDS and SPANLENS_QUERY_MAX_MEMORY_BYTES. */
  queryLimits: QueryLimits
  /** SPANLENS_RETENTION_DAYS (0: forever): POST /scores refuses a score the TTL would delete at once. */
  retentionDays?: number
  /** SPANLENS_REDACT's redactor, for what POST /scores stores (a comment, a label); none when off. */
  redact?: ((text: string) => string) | undefined
  /** Per-project query concurrency and queue; defaults from defaultAdmission() (admission.ts). */
  admission?: Partial<AdmissionLimits>
  /** The server's limit on warnings of an unreachable store (replyWithError); each 503 is logged without one. */
  unreachableLog?: LogLimit
}

function project(request: FastifyRequest): string {
  const p = request.spanlensProject
  if (typeof p !== 'string' || p === '') throw errors.UNAUTHORIZED()
  return p
}

/** A query string as the preValidation hook has checked it: one value per parameter. */
type Query = Record<string, string | undefined>

/** What GET /spans and GET /traces take besides filters. */
const SPANS_PARAMS = ['limit', 'cursor', 'io'] as const
const TRACES_PARAMS = [...SPANS_PARAMS, 'order', 'total'] as const
const SUMMARY_PARAMS = ['groupBy', 'bucket'] as const

/** A route's own parameters and the span filters, as its config declares them. */
const withFilters = (names: readonly string[]): { config: { query: RouteParams } } => ({ config: { query: { names, filters: isFilterParam } } })

function listOptions(q: Query, params: readonly string[]) {
  return {
    filter: filterFromQuery(q, params),
    limit: parseLimit(q.limit, 50, 1000),
    cursor: decodeCursor(q.cursor),
    includeIo: parseFlag(q, 'io'),
  }
}

/**
 * The largest body each route that takes one reads (docs/api.md, "Request bodies"): what
 * its largest valid request needs, far under the OTLP limit (SPANLENS_BODY_LIMIT_BYTES,
 * 64 MiB), which a caller with any key could otherwise make the server buffer and parse.
 * - A score: at most 110,500 characters of text (comment 100,000, value 10,000, name,
 *   source and id); JSON writes a character in at most 6 bytes (a `\u` escape), so 663,000
 *   bytes and its ids.
 * - SQL: at most MAX_QUERY_BYTES of UTF-8 (sql/explain.ts: what ClickHouse parses, 262,144
 *   bytes, less the sandbox's own text), which JSON escaping at most doubles (quotes,
 *   backslashes, line breaks: 2 bytes; a 3-byte character as a `\u` escape: 6).
 * - A drift, bias or counterfactual report: filters, which the GET routes take within
 *   Node's 16 KiB of request line and headers, and at most 200 refusal phrases.
 */
const BODY_LIMITS = { score: 1024 * 1024, sql: 1024 * 1024, report: 256 * 1024 } as const

/**
 * Analyst routes, relative to the prefix the server mounts them under (/api/v1).
 * Every handler scopes to request.spanlensProject (set by the server's auth hook).
 */
export const queryRoutes: FastifyPluginAsync<QueryRoutesOptions> = async (app, opts) => {
  // The routes' reads run under the query limits; /sql sets its own (sandbox.ts), whose
  // EXPLAIN AST must run with no settings at all, and POST /scores is an insert.
  const client = withQueryLimits(opts.client, opts.queryLimits)
  const admission = new QueryAdmission({ ...defaultAdmission(opts.mode, opts.sql.maxExecutionSeconds), ...opts.admission })
  // Aborted when the client leaves before its answer is written (a console page left or
  // reloaded, a CLI interrupted): a query still waiting for its turn then never runs. A client
  // leaves by ending its side of the connection (its FIN), which is all the server sees, too, of
  // one that half-closes to wait for its answer, until it writes; the server answers such a
  // client (ingest's http/half-close.ts), so a query that runs at once is answered, and one
  // that would wait is dropped as the client's who left. A connection reset closes the
  // ServerResponse with writableFinished unset.
  const clientGone = new WeakMap<object, AbortSignal>()
  app.addHook('onRequest', async (request, reply) => {
    // A project's data, read with its key (errors.ts says why; error replies carry them too).
    reply.headers(PRIVATE_REPLY_HEADERS)
    const controller = new AbortController()
    const socket = request.raw.socket
    const left = () => controller.abort()
    if (socket.readableEnded) left()
    else socket.once('end', left)
    reply.raw.once('close', () => {
      socket.removeListener('end', left)
      if (!reply.raw.writableFinished) left()
    })
    clientGone.set(request.raw, controller.signal)
  })
  /** Runs a handler's store work in the caller project's turn (admission.ts). */
  const admitted = <T>(request: FastifyRequest, work: (project: string) => Promise<T>, slots = 1): Promise<T> => {
    const p = project(request)
    return admission.run(p, () => work(p), slots, clientGone.get(request.raw))
  }
  // A drift report runs its signals side by side: admitted as that many queries, so
  // the admission totals (and the client's sockets they leave to ingest) still hold.
  const driftSlots = admission.slotsFor(DRIFT_SIGNALS_AT_ONCE)

  // The one mapping (errors.ts): a client error keeps its status as SPANLENS_BAD_REQUEST,
  // a store failure is 502 SPANLENS_QUERY_FAILED, anything else unexpected is a bug, 500 SPANLENS_INTERNAL.
  app.setErrorHandler((err, _request, reply) => replyWithError(err, reply, opts.unreachableLog))
  // A trace's tree can be nested deeper than JSON.stringify's recursion reaches (json.ts).
  app.setReplySerializer(stringifyReply)
  // Every body here is JSON. Fastify also reads text/plain, as a string, which then failed
  // validation as "expected object, received string" instead of naming the content type.
  app.removeContentTypeParser('text/plain')
  // Before any handler reads its query string, on every route: each parameter once and not
  // empty, and only those the route declares it reads (none unless its config says: params.ts).
  app.addHook('preValidation', async (request) => {
    const q = request.query as Record<string, unknown>
    oneValueEach(q)
    onlyParams(q, request.routeOptions.url ?? request.url, request.routeOptions.config.query ?? { names: [] })
  })

  // Which project the key opens (the console keys saved views by it); no store work.
  app.get('/project', async (request) => ({ project: project(request) }))

  app.get('/spans', withFilters(SPANS_PARAMS), async (request) => admitted(request, (p) => listSpans(client, p, listOptions(request.query as Query, SPANS_PARAMS))))
  app.get('/traces', withFilters(TRACES_PARAMS), async (request) => {
    const q = request.query as Query
    const order = parseTraceOrder(q.order)
    const opts = order
      ? { ...listOptions({ ...q, cursor: undefined }, TRACES_PARAMS), order, orderCursor: decodeOrderCursor(order, q.cursor) }
      : listOptions(q, TRACES_PARAMS)
    return admitted(request, (p) => listTraces(client, p, { ...opts, total: parseFlag(q, 'total') }))
  })
  app.get<{ Params: { traceId: string } }>('/traces/:traceId', async (request) => {
    const traceId = traceIdParam(request.params.traceId)
    return admitted(request, (p) => getTrace(client, p, traceId))
  })
  await app.register(logsRoutes, { client, admitted })
  await app.register(sessionsRoutes, { client, admitted })
  await app.register(usersRoutes, { client, admitted })

  app.get('/summary', withFilters(SUMMARY_PARAMS), async (request) => {
    const q = request.query as Query
    const groupBy = q.groupBy !== undefined ? q.groupBy.split(',').map((s) => s.trim()) : []
    for (const g of groupBy) {
      if (!(SUMMARY_DIMENSIONS as readonly string[]).includes(g)) throw errors.BAD_REQUEST(`groupBy: expected some of ${SUMMARY_DIMENSIONS.join(', ')}`)
    }
    return admitted(request, (p) =>
      summary(client, p, {
        filter: filterFromQuery(q, SUMMARY_PARAMS),
        groupBy: groupBy as SummaryDimension[],
        ...(q.bucket !== undefined ? { bucket: q.bucket } : {}),
      }),
    )
  })

  await app.register(metricsRoutes, { client, admitted })

  // Recent spans unless the caller names a time: keys are for pickers (bias groups, filters).
  app.get('/attributes', withFilters([]), async (request) => {
    const q = request.query as Query
    // The week before `to` when only `to` is given: the week before now was "from must be before to" for an older `to`.
    const to = q.to !== undefined ? parseTime(q.to, 'to') : undefined
    const from = to ? new Date(to.getTime() - 7 * 86_400_000).toISOString() : 'now-7d'
    return admitted(request, (p) => attributeKeys(client, p, filterFromQuery({ from, ...q }, [])))
  })

  app.post('/scores', { config: { ingest: true }, bodyLimit: BODY_LIMITS.score }, async (request, reply) => {
    // A score is one small insert, sent by SDKs at the rate of the app's traffic like
    // spans are: it is not an analyst query, and queueing it behind them made the
    // demo's SDK drop scores with 429.
    const result = await recordScore(opts.client, project(request), request.body, { retentionDays: opts.retentionDays ?? 0, redact: opts.redact })
    return reply.code(result.idempotent ? 200 : 201).send(result)
  })

  app.post('/drift', { bodyLimit: BODY_LIMITS.report }, async (request) =>
    admitted(request, (p) => drift(client, p, (request.body ?? {}) as never, new Date(), { signalsAtOnce: driftSlots }), driftSlots),
  )
  app.post('/bias', { bodyLimit: BODY_LIMITS.report }, async (request) => admitted(request, (p) => bias(client, p, (request.body ?? {}) as never)))
  app.post('/bias/counterfactual', { bodyLimit: BODY_LIMITS.report }, async (request) => admitted(request, (p) => counterfactual(client, p, (request.body ?? {}) as never)))

  const slos = () => {
    if (!opts.sloFile) throw errors.SLO_FILE_MISSING()
    return loadSloFile(opts.sloFile)
  }
  // `at` is the one parameter: another (`?name=checkout`) would answer every SLO as if it applied.
  const at = { config: { query: { names: ['at'] } } }
  const when = (q: Query) => (q.at !== undefined ? { at: parseTime(q.at, 'at') } : {})
  app.get('/slo', at, async (request) => {
    const asOf = when(request.query as Query)
    return admitted(request, (p) => sloStatus(client, p, slos(), asOf))
  })
  app.get('/slo/check', at, async (request) => {
    const asOf = when(request.query as Query)
    const report = await admitted(request, (p) => sloStatus(client, p, slos(), asOf))
    return {
      at: report.at,
      firing: report.firing,
      alerts: report.slos.flatMap((s) => s.alerts.filter((a) => a.firing).map((a) => ({ slo: s.name, ...a }))),
    }
  })

  // Each bad field named as every body's are (invalidFields); a missing query is `query: required`.
  const sqlBody = z
    .object(
      { query: z.string({ error: (issue) => (issue.input === undefined ? undefined : 'expected a string') }) },
      { error: (issue) => (issue.code === 'invalid_type' ? 'expected a JSON object {"query": "SELECT ..."}' : undefined) },
    )
    .strict()
  app.post('/sql', { bodyLimit: BODY_LIMITS.sql }, async (request) => {
    const body = sqlBody.safeParse(request.body)
    if (!body.success) throw invalidFields(body.error)
    return admitted(request, (p) => runSandboxedSql(opts.client, p, body.data.query, { database: opts.database, limits: opts.sql, cluster: opts.cluster === true, stream: opts.streamQuery }))
  })
}
