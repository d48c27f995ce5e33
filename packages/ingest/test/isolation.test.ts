import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { type Answer, send } from './fuzz/http.js'
import type { FuzzServer } from './fuzz/server.js'
import { storeMode } from './helpers/store-mode.js'
import { tempDir } from './helpers/tmp.js'

/**
 * Per-project isolation (issue 15): project B's key never sees project A's spans,
 * traces or scores, through any route and any filter the route takes; and no
 * route but the public ones answers without a key, however its path is spelled.
 *
 * Every route is enumerated from the server itself: fastify is wrapped so each
 * instance records its routes (onRoute) and wraps their handlers, so a route
 * added later is probed without anyone listing it here, and a request that
 * reaches a handler is seen even when the handler itself refuses it.
 */
const seen = vi.hoisted(() => ({ routes: [] as Array<{ method: string; url: string }>, reached: [] as string[] }))
vi.mock('fastify', async (importOriginal) => {
  const mod = await importOriginal<typeof import('fastify')>()
  const real = mod.default as unknown as (opts?: unknown) => import('fastify').FastifyInstance
  const wrapped = (opts?: unknown) => {
    const app = real(opts)
    app.addHook('onRoute', (route) => {
      for (const method of [route.method].flat()) seen.routes.push({ method: String(method), url: route.url ?? route.path })
      const handler = route.handler
      const label = `${[route.method].flat().join(',')} ${route.url}`
      route.handler = function (this: unknown, req, reply) {
        seen.reached.push(label)
        return (handler as (this: unknown, ...a: unknown[]) => unknown).call(this, req, reply)
      }
    })
    return app
  }
  return { ...mod, default: Object.assign(wrapped, mod.default) }
})

const A = { project: 'acme', key: 'acme-key-0123456789' }
const B = { project: 'other', key: 'other-key-0123456789' }
const WRONG = 'wrong-key-0123456789'

/** What the console and operations expose without a key: GET (and its HEAD) only. */
const PUBLIC = new Set(['GET /healthz', 'GET /readyz', 'GET /metrics', 'GET /', 'GET /*'].flatMap((r) => [r, r.replace(/^GET/, 'HEAD')]))
/** A browser's CORS preflight carries no credentials and reads nothing (http/cors.ts, browser-ingest.test.ts). */
const isPublic = (route: string) => PUBLIC.has(route) || route.startsWith('OPTIONS ')

const HOUR = 3_600_000
const T0 = Date.now() - 6 * HOUR
const ns = (ms: number) => `${BigInt(Math.round(ms)) * 1_000_000n}`
const hexId = (bytes: number, tag: number, n: number) => {
  const b = Buffer.alloc(bytes)
  b.writeUInt32BE(tag, 0)
  b.writeUInt32BE(n + 1, bytes - 4)
  return b.toString('hex')
}
const TRACE_A = (n: number) => hexId(16, 0xaaaa0001, n)
const TRACE_B = (n: number) => hexId(16, 0xbbbb0001, n)
/** A trace id both projects write to: each must see only its own half. */
const SHARED_TRACE = hexId(16, 0x5ba4ed00, 0)

interface SpanSpec {
  trace: string
  span: string
  parent?: string
  at: number
  p: 'a' | 'b'
  i: number
  /** No content attributes: what its GenAI log records would fill. */
  bare?: true
}

/** Spans carrying the project's own value for every filter the query API has. */
function otlpFor(spans: SpanSpec[]): string {
  const byProject = spans[0]?.p ?? 'a'
  const s = (key: string, v: string) => ({ key, value: { stringValue: v } })
  return JSON.stringify({
    resourceSpans: [
      {
        resource: { attributes: [s('service.name', `svc-${byProject}`), s('deployment.environment.name', `env-${byProject}`), s('service.version', `rel-${byProject}`), s('region', `region-${byProject}`)] },
        scopeSpans: [
          {
            scope: { name: 'isolation' },
            spans: spans.map((sp) => ({
              traceId: sp.trace,
              spanId: sp.span,
              ...(sp.parent ? { parentSpanId: sp.parent } : {}),
              name: `name-${sp.p}`,
              kind: 3,
              startTimeUnixNano: ns(sp.at),
              endTimeUnixNano: ns(sp.at + 100 + sp.i * 7),
              status: { code: sp.i % 3 === 0 ? 2 : 1 },
              attributes: [
                s('gen_ai.operation.name', 'chat'),
                s('gen_ai.provider.name', `prov-${sp.p}`),
                s('gen_ai.request.model', `model-${sp.p}`),
                { key: 'gen_ai.usage.input_tokens', value: { intValue: String(100 + sp.i) } },
                { key: 'gen_ai.usage.output_tokens', value: { intValue: String(10 + sp.i) } },
                ...(sp.bare
                  ? []
                  : [
                      s('gen_ai.input.messages', JSON.stringify([{ role: 'user', parts: [{ type: 'text', content: `secret-${sp.p} question ${sp.i}` }] }])),
                      s('gen_ai.output.messages', JSON.stringify([{ role: 'assistant', parts: [{ type: 'text', content: sp.i % 4 === 0 ? `I cannot help secret-${sp.p}` : `answer-${sp.p}` }] }])),
                      s('gen_ai.response.finish_reasons', 'stop'),
                    ]),
                s('user.id', `user-${sp.p}-${sp.i % 3}`),
                s('session.id', `sess-${sp.p}`),
                s('tenant', `tenant-${sp.p}`),
                { key: 'spanlens.tags', value: { arrayValue: { values: [{ stringValue: `tag-${sp.p}` }] } } },
                s('spanlens.counterfactual.pair_id', `pair-${sp.p}-${Math.floor(sp.i / 2)}`),
                s('spanlens.counterfactual.side', sp.i % 2 === 0 ? 'a' : 'b'),
              ],
            })),
          },
        ],
      },
    ],
  })
}

function spansFor(p: 'a' | 'b', traces: number, perTrace: number, traceId: (n: number) => string): SpanSpec[] {
  const out: SpanSpec[] = []
  let i = 0
  for (let t = 0; t < traces; t++) {
    const trace = traceId(t)
    const root = hexId(8, p === 'a' ? 0xa0a0a0a0 : 0xb0b0b0b0, i)
    // Traces spread over the last six hours: half "reference", half "current" for drift.
    const at = T0 + (t / traces) * 5.5 * HOUR
    for (let k = 0; k < perTrace; k++, i++) {
      out.push({ trace, span: k === 0 ? root : hexId(8, p === 'a' ? 0xa0a0a0a0 : 0xb0b0b0b0, i), ...(k > 0 ? { parent: root } : {}), at: at + k * 10, p, i })
    }
  }
  return out
}

const A_SPANS = [...spansFor('a', 20, 3, TRACE_A), { trace: SHARED_TRACE, span: hexId(8, 0xa0a05a5a, 0), at: T0 + HOUR, p: 'a' as const, i: 1 }]
/** B's span without content of its own: A's log records naming it must not fill it. */
const B_BARE = { trace: TRACE_B(0), span: hexId(8, 0xb0b0bbbb, 0), parent: hexId(8, 0xb0b0b0b0, 0), at: T0 + HOUR, p: 'b' as const, i: 3, bare: true as const }
const B_SPANS = [...spansFor('b', 4, 2, TRACE_B), { trace: SHARED_TRACE, span: hexId(8, 0xb0b05a5a, 0), at: T0 + HOUR, p: 'b' as const, i: 2 }, B_BARE]
/** Strings only project A's data contains: none may appear in anything B is answered. */
const A_MARKERS = ['svc-a', 'secret-a', 'user-a', 'tenant-a', 'region-a', 'model-a', 'prov-a', 'name-a', 'sess-a', 'env-a', 'rel-a', 'pair-a', 'score-a', 'answer-a', 'aaaa0001', 'a0a0a0a0', 'a0a05a5a']

let server: FuzzServer
const slo = tempDir('spanlens-slo-')
const FROM = new Date(T0 - HOUR).toISOString()
const MID = new Date(T0 + 2.75 * HOUR).toISOString()
const TO = new Date(Date.now() + HOUR).toISOString()

const call = (key: string | undefined, method: string, path: string, body?: unknown): Promise<Answer> =>
  send(server.url, {
    method,
    path,
    headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: Buffer.from(JSON.stringify(body)) } : {}),
    timeoutMs: 30_000,
  })

async function ingest(key: string, spans: SpanSpec[]) {
  const res = await send(server.url, { method: 'POST', path: '/v1/traces', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: Buffer.from(otlpFor(spans)), timeoutMs: 30_000 })
  expect(res.status, res.body.toString()).toBe(200)
  expect(res.body.toString()).toBe('{}')
}

/** Metrics carrying the project's own values: a GenAI token histogram (delta) and a cumulative counter. */
function otlpMetricsFor(p: 'a' | 'b'): string {
  const s = (key: string, v: string) => ({ key, value: { stringValue: v } })
  const t = (ms: number) => ns(ms)
  const points = (n: number, f: (i: number) => Record<string, unknown>) => Array.from({ length: n }, (_, i) => ({ startTimeUnixNano: t(T0), timeUnixNano: t(T0 + (i + 1) * HOUR), ...f(i) }))
  const attrs = [s('gen_ai.request.model', `model-${p}`), s('gen_ai.token.type', 'input'), s('tenant', `tenant-${p}`)]
  return JSON.stringify({
    resourceMetrics: [
      {
        resource: { attributes: [s('service.name', `svc-${p}`), s('region', `region-${p}`)] },
        scopeMetrics: [
          {
            scope: { name: 'isolation' },
            metrics: [
              {
                name: 'gen_ai.client.token.usage',
                unit: '{token}',
                histogram: { aggregationTemporality: 1, dataPoints: points(4, (i) => ({ attributes: attrs, count: '2', sum: 100 + i, min: 10, max: 90 + i, explicitBounds: [16, 256], bucketCounts: ['1', '1', '0'] })) },
              },
              { name: 'requests', sum: { aggregationTemporality: 2, isMonotonic: true, dataPoints: points(4, (i) => ({ attributes: attrs, asInt: String(10 * (i + 1)) })) } },
            ],
          },
        ],
      },
    ],
  })
}

async function ingestMetrics(key: string, p: 'a' | 'b') {
  const res = await send(server.url, { method: 'POST', path: '/v1/metrics', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: Buffer.from(otlpMetricsFor(p)), timeoutMs: 30_000 })
  expect(res.status, res.body.toString()).toBe(200)
  expect(res.body.toString()).toBe('{}')
}

/**
 * Log records of project p: GenAI events (a prompt and a refusing choice) and a plain
 * record for spans of its own, of the shared trace, and of B's span without content.
 */
function otlpLogsFor(p: 'a' | 'b', spans: Array<{ trace: string; span: string }>): string {
  const s = (key: string, v: string) => ({ key, value: { stringValue: v } })
  const kv = (o: Record<string, string>) => ({ kvlistValue: { values: Object.entries(o).map(([k, v]) => s(k, v)) } })
  return JSON.stringify({
    resourceLogs: [
      {
        resource: { attributes: [s('service.name', `svc-${p}`)] },
        scopeLogs: [
          {
            scope: { name: 'isolation' },
            logRecords: spans.flatMap((sp, i) => [
              { timeUnixNano: ns(T0 + HOUR + i), traceId: sp.trace, spanId: sp.span, attributes: [s('event.name', 'gen_ai.user.message')], body: kv({ content: `secret-${p} logged question` }) },
              { timeUnixNano: ns(T0 + HOUR + i + 1), traceId: sp.trace, spanId: sp.span, attributes: [s('event.name', 'gen_ai.choice')], body: { kvlistValue: { values: [s('finish_reason', 'content_filter'), { key: 'message', value: kv({ content: `I cannot help secret-${p}` }) }] } } },
              { timeUnixNano: ns(T0 + HOUR + i + 2), traceId: sp.trace, severityText: 'INFO', body: { stringValue: `secret-${p} plain log` }, attributes: [s('tenant', `tenant-${p}`)] },
            ]),
          },
        ],
      },
    ],
  })
}

async function ingestLogs(key: string, p: 'a' | 'b', spans: Array<{ trace: string; span: string }>) {
  const res = await send(server.url, { method: 'POST', path: '/v1/logs', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: Buffer.from(otlpLogsFor(p, spans)), timeoutMs: 30_000 })
  expect(res.status, res.body.toString()).toBe(200)
  expect(res.body.toString()).toBe('{}')
}

async function score(key: string, body: Record<string, unknown>) {
  const res = await call(key, 'POST', '/api/v1/scores', body)
  expect([200, 201], res.body.toString()).toContain(res.status)
}

/** SLOs are server-wide configuration: every project sees their definitions, computed over its own spans. */
const SLO_TEXT = JSON.stringify({
  slos: [
    { name: 'all-success', objective: 99, window: '1d', indicator: { type: 'success' } },
    { name: 'svc-a-latency', service: 'svc-a', objective: 99, window: '1d', indicator: { type: 'latency', thresholdMs: 50 } },
    { name: 'svc-b-ratio', service: 'svc-b', objective: 90, window: '1d', indicator: { type: 'ratio', good: { status: 'ok' }, total: {} } },
  ],
})

beforeAll(async () => {
  const sloFile = join(slo.path, 'slos.yaml')
  writeFileSync(sloFile, SLO_TEXT)
  // The server's modules are evaluated again, so they take the fastify mocked above: another file in
  // this process may have loaded them with the real one (vitest.config.ts, isolate: false).
  vi.resetModules()
  const { startFuzzServer } = await import('./fuzz/server.js')
  server = await startFuzzServer([A, B], { SPANLENS_SLO_FILE: sloFile })
  await ingest(B.key, B_SPANS)
  await ingestMetrics(B.key, 'b')
  await ingestLogs(B.key, 'b', [B_SPANS[0] as SpanSpec])
  for (let t = 0; t < 4; t++) await score(B.key, { traceId: TRACE_B(t), name: 'feedback', value: t % 2, id: `b-score-${t}` })
  await server.app.spanlens.flush()
})
afterAll(async () => {
  await server?.close()
  slo.cleanup()
})

// ---- every route, every filter

type Filter = Record<string, string>
const FILTERS: Array<[string, Filter]> = [
  ['no filter', {}],
  ['service', { service: 'svc-a' }],
  ['model', { model: 'model-a' }],
  ['provider', { provider: 'prov-a' }],
  ['operation', { operation: 'chat' }],
  ['kind', { kind: 'llm' }],
  ['name', { name: 'name-a' }],
  ['status', { status: 'error' }],
  ['environment', { environment: 'env-a' }],
  ['release', { release: 'rel-a' }],
  ['userId', { userId: 'user-a-0' }],
  ['sessionId', { sessionId: 'sess-a' }],
  ['traceId', { traceId: TRACE_A(0) }],
  ['traceId shared by both', { traceId: SHARED_TRACE }],
  ['attribute', { 'attr.tenant': 'tenant-a' }],
  ['resource attribute', { 'resource.region': 'region-a' }],
  ['text', { q: 'secret-a' }],
  ['refusal', { refusal: '0' }],
  ['duration', { minDurationMs: '0', maxDurationMs: '100000' }],
  ['tag', { tag: 'tag-a' }],
  ['score', { 'score.score-a': '*' }],
  ['numeric score', { 'score.feedback': '<=0' }],
  ['several lists', { service: 'svc-a,svc-b', model: 'model-a,model-b', kind: 'llm,tool' }],
  ['span numbers', { durationMs: '>=0,<100000', inputTokens: '>=0' }],
  ['group keys', { 'group.user_prefix:6': 'user-a', 'group.language': 'latin' }],
  ['not', { 'not.status': 'error', 'not.group.model': 'model-b' }],
]
const qs = (f: Filter) => new URLSearchParams(f).toString()
/** The JSON form of a query-string filter (drift, bias, counterfactual bodies). */
function bodyFilter(f: Filter): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(f)) {
    if (k.startsWith('attr.')) out.attributes = { [k.slice(5)]: v }
    else if (k.startsWith('resource.')) out.resource = { [k.slice(9)]: v }
    else if (k.startsWith('score.')) out.scores = { [k.slice(6)]: v }
    else if (k.startsWith('group.')) out.groups = { ...(out.groups as object), [k.slice(6)]: v }
    else if (k.startsWith('not.')) out.not = { ...(out.not as object), ...bodyFilter({ [k.slice(4)]: v }) }
    else if (k === 'q') out.text = v
    else out[k] = v
  }
  return out
}

interface Probe {
  name: string
  method: string
  path: string
  body?: unknown
}

function probes(): Probe[] {
  const out: Probe[] = []
  for (const [fname, f] of FILTERS) {
    const q = qs({ ...f, from: FROM, to: TO })
    out.push({ name: `GET /spans by ${fname}`, method: 'GET', path: `/api/v1/spans?${q}&limit=1000&io=true` })
    out.push({ name: `GET /traces by ${fname}`, method: 'GET', path: `/api/v1/traces?${q}&limit=1000` })
    out.push({ name: `GET /traces by ${fname}, by cost, counted`, method: 'GET', path: `/api/v1/traces?${q}&limit=1000&order=-costUsd&total=1` })
    out.push({ name: `GET /attributes by ${fname}`, method: 'GET', path: `/api/v1/attributes?${q}` })
    out.push({ name: `GET /summary by ${fname}`, method: 'GET', path: `/api/v1/summary?${q}&groupBy=model,service,provider,operation,kind,environment,release&bucket=1h` })
    out.push({ name: `GET /summary by ${fname}, no groups`, method: 'GET', path: `/api/v1/summary?${q}` })
    const bf = bodyFilter(f)
    out.push({
      name: `POST /drift by ${fname}`,
      method: 'POST',
      path: '/api/v1/drift',
      body: {
        reference: { ...bf, from: FROM, to: MID },
        current: { ...bf, from: MID, to: TO },
        minSamples: 2,
        signals: ['input_tokens', 'output_tokens', 'latency', 'cost', 'model', 'status', 'kind', 'service', 'finish_reason', 'prompt', 'completion', 'score:feedback', 'score:score-a', 'attr:tenant', 'attr_num:gen_ai.usage.input_tokens'],
      },
    })
    for (const outcome of ['error_rate', 'refusal_rate', 'negative_feedback_rate', 'score_mean', 'latency_p95', 'output_length']) {
      for (const groupBy of ['user', 'user_prefix:6', 'attr:tenant', 'resource:region', 'model', 'service', 'language']) {
        if (fname !== 'no filter' && groupBy !== 'user') continue
        out.push({ name: `POST /bias ${outcome} by ${groupBy}, filter ${fname}`, method: 'POST', path: '/api/v1/bias', body: { groupBy, outcome, filter: { ...bf, from: FROM, to: TO }, minGroupSize: 1, refusalPhrases: ['cannot help'] } })
      }
    }
    out.push({ name: `POST /bias/counterfactual by ${fname}`, method: 'POST', path: '/api/v1/bias/counterfactual', body: { filter: { ...bf, from: FROM, to: TO }, minPairs: 1, refusalPhrases: ['cannot help'] } })
  }
  for (const [dimension, ref, cur] of [['service', 'svc-a', 'svc-b'], ['model', 'model-a', 'model-b'], ['attr:tenant', 'tenant-a', 'tenant-b'], ['resource:region', 'region-a', 'region-b']] as const) {
    out.push({ name: `POST /drift by dimension ${dimension}`, method: 'POST', path: '/api/v1/drift', body: { dimension, reference: ref, current: cur, filter: { from: FROM, to: TO }, minSamples: 2 } })
  }
  // Scores A attached to B's trace and span, by a name only A uses.
  for (const outcome of ['negative_feedback_rate', 'score_mean']) {
    out.push({ name: `POST /bias ${outcome} of A's score name`, method: 'POST', path: '/api/v1/bias', body: { groupBy: 'user', outcome, score: 'score-a', minGroupSize: 1, filter: { from: FROM, to: TO } } })
  }
  out.push({ name: "POST /bias/counterfactual of A's score name", method: 'POST', path: '/api/v1/bias/counterfactual', body: { score: 'score-a', minPairs: 1 } })
  // Keyset cursors that point into A's rows: B pages through its own rows only.
  for (const [ms, id] of [[T0 + 6 * HOUR, 'ffffffffffffffff'], [T0 + HOUR + 1, hexId(8, 0xa0a0a0a0, 5)]] as const) {
    const cursor = Buffer.from(JSON.stringify([ns(ms), id])).toString('base64url')
    out.push({ name: `GET /spans after cursor ${id}`, method: 'GET', path: `/api/v1/spans?cursor=${cursor}&limit=2&from=${encodeURIComponent(FROM)}` })
    out.push({ name: `GET /traces after cursor ${id}`, method: 'GET', path: `/api/v1/traces?cursor=${cursor}&limit=2&from=${encodeURIComponent(FROM)}` })
  }
  for (const id of [TRACE_A(0), TRACE_A(19), SHARED_TRACE, TRACE_B(0), TRACE_A(0).toUpperCase()]) {
    out.push({ name: `GET /traces/${id}`, method: 'GET', path: `/api/v1/traces/${id}` })
    out.push({ name: `GET /traces/${id}/logs`, method: 'GET', path: `/api/v1/traces/${id}/logs` })
  }
  out.push({ name: "GET /sessions of A's session id", method: 'GET', path: '/api/v1/sessions/sess-a' })
  out.push({ name: "GET /users of A's user id", method: 'GET', path: `/api/v1/users/user-a-0?from=${encodeURIComponent(FROM)}&to=${encodeURIComponent(TO)}&bucket=1h` })
  out.push({ name: 'GET /project', method: 'GET', path: '/api/v1/project' })
  out.push({ name: "GET /traces/:id/logs of B's span A logged for", method: 'GET', path: `/api/v1/traces/${B_BARE.trace}/logs?spanId=${B_BARE.span}` })
  out.push({ name: 'GET /spans io of B\'s span A logged for', method: 'GET', path: `/api/v1/spans?${qs({ traceId: B_BARE.trace, from: FROM, to: TO })}&io=1` })
  const at = encodeURIComponent(new Date(T0 + 6 * HOUR).toISOString())
  out.push({ name: 'GET /slo', method: 'GET', path: `/api/v1/slo?at=${at}` })
  out.push({ name: 'GET /slo/check', method: 'GET', path: `/api/v1/slo/check?at=${at}` })
  for (const query of SQL) out.push({ name: `POST /sql ${query}`, method: 'POST', path: '/api/v1/sql', body: { query } })
  // Metrics: every aggregation, grouped and filtered by what only A's points carry.
  const m = (params: Record<string, string>) => `/api/v1/metrics?${qs({ from: FROM, to: TO, ...params })}`
  for (const [fname, f] of [['no filter', {}], ['attribute', { 'attr.gen_ai.request.model': 'model-a' }], ['resource', { 'resource.service.name': 'svc-a' }], ['tenant', { 'attr.tenant': 'tenant-a' }]] as Array<[string, Filter]>) {
    for (const agg of ['sum', 'rate', 'count', 'avg', 'min', 'max', 'p95']) {
      out.push({ name: `GET /metrics tokens ${agg} by ${fname}`, method: 'GET', path: m({ ...f, name: 'gen_ai.client.token.usage', agg, groupBy: 'gen_ai.request.model,tenant,resource.service.name,resource.region', bucket: '1h' }) })
    }
    for (const agg of ['sum', 'last', 'count']) out.push({ name: `GET /metrics requests ${agg} by ${fname}`, method: 'GET', path: m({ ...f, name: 'requests', agg, groupBy: 'tenant' }) })
  }
  return out
}

/** Ways to name the tables in SQL: each must still mean the caller's own rows, or be refused. */
const SQL = [
  'SELECT count() AS c FROM spans',
  'SELECT * FROM spans ORDER BY span_id',
  'SELECT * FROM spans FINAL ORDER BY span_id',
  'SELECT * FROM `spans` ORDER BY span_id',
  'SELECT * FROM "spans" ORDER BY span_id',
  'SELECT * FROM SPANS ORDER BY span_id',
  'SELECT s.span_id FROM spans AS s ORDER BY 1',
  `SELECT span_id FROM spans WHERE trace_id = '${TRACE_A(0)}'`,
  `SELECT span_id FROM spans WHERE trace_id = '${SHARED_TRACE}'`,
  'SELECT trace_id, name, value FROM scores ORDER BY trace_id, name',
  'SELECT * FROM scores FINAL ORDER BY score_id',
  'SELECT service_name, sum(calls) AS n FROM spans_minute GROUP BY service_name ORDER BY service_name',
  'WITH x AS (SELECT * FROM spans) SELECT count() FROM x',
  'SELECT count() FROM (SELECT * FROM spans) AS sub',
  'SELECT count() FROM spans AS a JOIN scores AS b ON a.trace_id = b.trace_id',
  // Ordered: a cluster answers the two halves of a UNION ALL in either order.
  "SELECT t, n FROM (SELECT 'spans' AS t, count() AS n FROM spans UNION ALL SELECT 'scores' AS t, count() AS n FROM scores) ORDER BY t",
  'SELECT * FROM spanlens.spans',
  'SELECT * FROM default.spans',
  "SELECT * FROM analyst_spans(project = 'acme')",
  "SELECT * FROM merge('spanlens', '^spans$')",
  "SELECT * FROM view(SELECT * FROM spanlens.spans)",
  "SELECT * FROM clusterAllReplicas('default', spanlens.spans)",
  "SELECT * FROM remote('127.0.0.1', spanlens.spans)",
  'SELECT * FROM system.parts',
  'SELECT * FROM system.query_log',
  "SELECT * FROM spans WHERE project_id = 'acme'",
  "SELECT count() FROM spans SETTINGS additional_table_filters = {'spans': '1'}",
  "SELECT * FROM spans /* comment */ ORDER BY span_id",
  "SELECT * FROM spans\n-- comment\nORDER BY span_id",
  'SELECT * FROM metrics ORDER BY series_id, time',
  'SELECT name, count() AS n FROM metrics FINAL GROUP BY name ORDER BY name',
  "SELECT * FROM analyst_metrics(project = 'acme')",
  'SELECT * FROM logs ORDER BY timestamp, body',
  "SELECT body, count() AS n FROM logs FINAL WHERE body LIKE '%secret%' GROUP BY body ORDER BY body",
  `SELECT span_id, input, output, finish_reason FROM spans WHERE trace_id = '${TRACE_B(0)}' ORDER BY span_id`,
  "SELECT * FROM analyst_logs(project = 'acme')",
  'SELECT * FROM span_content',
  // A table's name where a column, alias or WITH name stands: only a FROM or JOIN reads a table.
  'SELECT service_name, count() AS spans FROM spans GROUP BY service_name ORDER BY spans DESC, service_name',
  'SELECT span_id, trace_id AS scores FROM spans AS logs ORDER BY span_id',
  'SELECT scores.* FROM scores AS spans JOIN spans AS scores ON spans.trace_id = scores.trace_id ORDER BY scores.span_id',
  'WITH spans AS (SELECT 1) SELECT * FROM spans',
  'WITH x AS (SELECT * FROM spans) SELECT * FROM x AS spans ORDER BY span_id',
  'SELECT * FROM schema_migrations AS spans',
  'SELECT count() AS n FROM numbers(1) WHERE toString(number) IN spans',
  // Not a query: with implicit_select, a plain EXPLAIN AST <this> runs as a SELECT on the base tables.
  "FROM (SELECT 1 AS EXPLAIN) WHERE CAST((SELECT any(concat(project_id, ':', service_name)) FROM spans), 'UInt8') = 1",
]

/** Drops what differs between two identical questions asked at different times. */
function stable(a: Answer): string {
  const text = a.body.toString('utf8')
  try {
    const doc = JSON.parse(text) as Record<string, unknown>
    delete doc.statistics
    return `${a.status} ${JSON.stringify(doc)}`
  } catch {
    return `${a.status} ${text}`
  }
}

// The walk of every route and filter asks each question twice (~40 s), embedded only: the routes
// send the same SQL to every store, and how a served store takes it (query parameters, settings,
// the sandbox's limits over HTTP) is query/test/sql.test.ts's and http.test.ts's, on the cluster.
// On one served engine, the tests after it: a score B posts, SQL statistics per node.
const walk = storeMode() === 'embedded'

describe("project B's key never sees project A's data", () => {
  /** B's answers to every question, asked before A had any data. */
  const before = new Map<string, string>()

  beforeAll(async () => {
    if (walk) for (const p of probes()) before.set(p.name, stable(await call(B.key, p.method, p.path, p.body)))
    await ingest(A.key, A_SPANS)
    await ingestMetrics(A.key, 'a')
    // A's GenAI logs for its own span, its half of the shared trace, and B's span without content.
    await ingestLogs(A.key, 'a', [A_SPANS[0] as SpanSpec, A_SPANS[A_SPANS.length - 1] as SpanSpec, B_BARE])
    for (let t = 0; t < 20; t++) await score(A.key, { traceId: TRACE_A(t), name: 'feedback', value: t % 3 === 0 ? 0 : 1, id: `a-score-${t}` })
    await score(A.key, { traceId: SHARED_TRACE, name: 'score-a', value: 'score-a-value', id: 'b-score-0' })
    await score(A.key, { traceId: TRACE_B(0), spanId: hexId(8, 0xb0b0b0b0, 0), name: 'score-a', value: 5 })
    await server.app.spanlens.flush()
  }, 300_000)

  it.skipIf(!walk)("gets the same answers to every route and filter after A ingests spans into its own and B's trace ids and scores them", { timeout: 300_000 }, async () => {
    const changed: string[] = []
    const leaked: string[] = []
    for (const p of probes()) {
      const after = stable(await call(B.key, p.method, p.path, p.body))
      if (after !== before.get(p.name)) changed.push(`${p.name}\n  before: ${before.get(p.name)?.slice(0, 400)}\n  after:  ${after.slice(0, 400)}`)
      // A marker the question itself named (a filter echoed back, an id in a 404) is not a leak.
      const asked = `${p.path} ${JSON.stringify(p.body ?? '')} ${p.path.includes('/slo') ? SLO_TEXT : ''}`.toLowerCase()
      const marks = A_MARKERS.filter((m) => after.toLowerCase().includes(m) && !asked.includes(m))
      if (marks.length > 0) leaked.push(`${p.name}: ${marks.join(', ')} in ${after.slice(0, 400)}`)
    }
    expect(before.size).toBe(probes().length)
    expect({ leaked, changed }).toEqual({ leaked: [], changed: [] })
  })

  it("is not a vacuous check: A's key finds A's data with each of those filters", async () => {
    for (const [fname, f] of FILTERS) {
      if (fname === 'traceId shared by both') continue
      const res = await call(A.key, 'GET', `/api/v1/spans?${qs({ ...f, from: FROM, to: TO })}&limit=1000&io=true`)
      expect(res.status, fname).toBe(200)
      expect((JSON.parse(res.body.toString()) as { items: unknown[] }).items.length, fname).toBeGreaterThan(0)
    }
    const tokens = await call(A.key, 'GET', `/api/v1/metrics?${qs({ from: FROM, to: TO, name: 'gen_ai.client.token.usage', groupBy: 'tenant' })}`)
    expect(tokens.body.toString()).toContain('tenant-a')
    const trace = await call(A.key, 'GET', `/api/v1/traces/${TRACE_A(0)}`)
    expect(trace.status).toBe(200)
    const logs = await call(A.key, 'GET', `/api/v1/traces/${TRACE_A(0)}/logs`)
    expect(logs.body.toString()).toContain('secret-a plain log')
    const bias = await call(A.key, 'POST', '/api/v1/bias', { groupBy: 'user', outcome: 'score_mean', minGroupSize: 1, filter: { from: FROM, to: TO } })
    expect(bias.status, bias.body.toString()).toBe(200)
    expect(bias.body.toString()).toContain('user-a')
  })

  it("a score B posts with A's score id and A's trace does not replace or join A's", async () => {
    await score(B.key, { traceId: TRACE_A(1), name: 'feedback', value: 0, id: 'a-score-1' })
    await server.app.spanlens.flush()
    const res = await call(A.key, 'GET', `/api/v1/traces/${TRACE_A(1)}`)
    const doc = JSON.parse(res.body.toString()) as { scores: Array<{ id: string; value: number }>; roots: Array<{ scores: unknown[] }> }
    expect(doc.scores).toEqual([expect.objectContaining({ id: 'a-score-1', value: 1 })])
  })

  it("SQL statistics do not reveal how many rows other projects have", async () => {
    // Merged, both projects' rows share a part and a granule: what a long-running server looks like.
    // (A Distributed table cannot be optimized: on a cluster, each node's local table is.)
    const store = server.app.spanlens.store
    for (const client of store.nodes?.map((n) => n.client) ?? [store.client]) {
      await client.command({ query: `OPTIMIZE TABLE ${store.cluster ? 'spans_local' : 'spans'} FINAL` })
    }
    const mine = await call(B.key, 'POST', '/api/v1/sql', { query: 'SELECT count() AS c FROM spans' })
    const doc = JSON.parse(mine.body.toString()) as { data: Array<{ c: string }>; statistics?: { rows_read: number; bytes_read: number } }
    expect(doc.statistics?.rows_read ?? 0, JSON.stringify(doc.statistics)).toBeLessThanOrEqual(Number(doc.data[0]?.c))
  })
})

// ---- authentication on every route, however its path is spelled

const pct = (c: string, lower: boolean) => {
  const h = c.charCodeAt(0).toString(16).padStart(2, '0')
  return `%${lower ? h.toLowerCase() : h.toUpperCase()}`
}

/** The path as sent, with each character encoded in turn, then all of them (upper, lower and mixed hex). */
function spellings(path: string): string[] {
  const out = new Set<string>([path])
  const chars = [...path]
  chars.forEach((c, i) => {
    if (c === '/') return
    for (const lower of [false, true]) out.add(chars.map((d, j) => (j === i ? pct(d, lower) : d)).join(''))
  })
  for (const mode of ['upper', 'lower', 'mixed'] as const) {
    out.add(chars.map((d, j) => (d === '/' ? d : pct(d, mode === 'lower' || (mode === 'mixed' && j % 2 === 1)))).join(''))
  }
  // Inner slashes too, and a doubled one: these may name no route, but must never reach one unauthenticated.
  out.add(`/${chars.slice(1).map((d) => (d === '/' ? '%2F' : d)).join('')}`)
  out.add(`/${path}`)
  return [...out]
}

function concrete(url: string): string {
  return url.replace(/:traceId/g, TRACE_A(0)).replace(/\*/g, 'x')
}

const OTLP_BODY = () => otlpFor([{ trace: hexId(16, 0xeeee0001, 0), span: hexId(8, 0xeeee0001, 0), at: Date.now(), p: 'a', i: 0 }])
const QUERY_BODY: Record<string, unknown> = { query: 'SELECT 1', groupBy: 'user', outcome: 'error_rate', reference: {}, current: {} }

// The auth hook answers before any store is touched: run once, on the embedded store
// (the remote project runs this file for the project walk above).
describe.skipIf(storeMode() !== 'embedded')('every route that is not public refuses a request without a valid key, however its path is spelled', () => {
  it('the server has the routes this test expects to find (the enumeration works)', () => {
    const names = new Set(seen.routes.map((r) => `${r.method} ${r.url}`))
    for (const r of ['POST /v1/traces', 'GET /api/v1/spans', 'POST /api/v1/sql', 'GET /healthz', 'GET /*']) expect(names).toContain(r)
  })

  it('answers 401 and runs no handler for every spelling, without a key and with a wrong one', { timeout: 300_000 }, async () => {
    const routes = [...new Map(seen.routes.map((r) => [`${r.method} ${r.url}`, r])).values()].filter((r) => !isPublic(`${r.method} ${r.url}`))
    expect(routes.length).toBeGreaterThan(10)
    const failures: string[] = []
    let probesSent = 0
    for (const r of routes) {
      const otlp = r.url.endsWith('/traces') && r.method === 'POST' && !r.url.startsWith('/api/v1')
      for (const path of spellings(concrete(r.url))) {
        for (const key of [undefined, WRONG]) {
          seen.reached.length = 0
          const body = r.method === 'GET' || r.method === 'HEAD' ? undefined : otlp ? OTLP_BODY() : JSON.stringify(QUERY_BODY)
          const res = await send(server.url, {
            method: r.method,
            path,
            headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...(body ? { 'content-type': 'application/json' } : {}) },
            ...(body ? { body: Buffer.from(body) } : {}),
            timeoutMs: 10_000,
          })
          probesSent++
          const reached = seen.reached.filter((h) => !isPublic(h))
          const slashSpelling = path.includes('%2F') || path.startsWith('//')
          // A spelling that names no route may fall to 404 or the console's shell (200, or 503 "console
          // not built" in a checkout whose console bundle is not built yet); one that names the route must be 401.
          const shell = r.method !== 'POST' && (res.status === 200 || res.status === 503) && String(res.headers['content-type']).startsWith('text/html')
          const refused = res.status === 401 || (slashSpelling && (res.status === 404 || shell))
          // RFC 9110: a 401 says how to authenticate: Basic on Langfuse's route (Basic project:key), Bearer elsewhere.
          const challenge = String(res.headers['www-authenticate'] ?? '')
          const scheme = r.url === '/api/public/otel/v1/traces' ? 'Basic realm="spanlens"' : 'Bearer realm="spanlens"'
          if (res.status === 401 && !challenge.startsWith(scheme)) failures.push(`${r.method} ${path}: 401 with WWW-Authenticate ${JSON.stringify(challenge)}`)
          if (reached.length > 0 || !refused) {
            failures.push(`${r.method} ${path} (${key ? 'wrong key' : 'no key'}) → ${res.status} ${res.body.toString('utf8').slice(0, 160)}${reached.length > 0 ? ` [reached handler ${reached.join(', ')}]` : ''}`)
          }
        }
      }
    }
    await server.app.spanlens.flush()
    const smuggled = await server.rows<{ project_id: string; n: string }>("SELECT project_id, count() AS n FROM spans FINAL WHERE trace_id = {t:String} GROUP BY project_id", { t: hexId(16, 0xeeee0001, 0) })
    if (smuggled.length > 0) failures.push(`spans written without a key: ${JSON.stringify(smuggled)}`)
    console.log(`auth probes: ${probesSent} requests over ${routes.length} routes; ${failures.length} failures`)
    expect(failures).toEqual([])
  })

  it('answers with the right key on every route (the probes above would otherwise prove nothing)', { timeout: 120_000 }, async () => {
    const routes = [...new Map(seen.routes.map((r) => [`${r.method} ${r.url}`, r])).values()].filter((r) => !isPublic(`${r.method} ${r.url}`))
    for (const r of routes) {
      const otlp = r.url.endsWith('/traces') && r.method === 'POST' && !r.url.startsWith('/api/v1')
      const body = r.method === 'GET' || r.method === 'HEAD' ? undefined : otlp ? OTLP_BODY() : JSON.stringify(QUERY_BODY)
      const res = await send(server.url, {
        method: r.method,
        path: concrete(r.url),
        headers: { authorization: `Bearer ${A.key}`, ...(body ? { 'content-type': 'application/json' } : {}) },
        ...(body ? { body: Buffer.from(body) } : {}),
        timeoutMs: 30_000,
      })
      expect(res.status, `${r.method} ${r.url}: ${res.body.toString('utf8').slice(0, 200)}`).not.toBe(401)
    }
  })
})
