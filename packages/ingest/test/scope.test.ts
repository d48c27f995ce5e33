import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { TRUNCATED } from '../src/normalize/truncate.js'
import { bearer, KEYS, postOtlp, startServer, type TestServer } from './helpers/server.js'
import { jsonRequest, protobufRequest } from './helpers/otlp.js'
import { logsJson, logsJsonAsProtobuf } from './helpers/otlp-logs.js'

/**
 * The instrumentation scope as stored and shown: its name, version and attributes on every
 * span, log record and metric point, over OTLP JSON and protobuf alike; and a trace's tree
 * (GET /api/v1/traces/:id) giving each span its scope, resource, events and links.
 */
let server: TestServer
beforeAll(async () => {
  server = await startServer({ SPANLENS_BODY_LIMIT_BYTES: String(4 * 1024 * 1024) })
})
afterAll(() => server?.close())

const post = (path: string, body: Buffer | string, type: 'application/json' | 'application/x-protobuf') => postOtlp(server, path, body, type)
/** Posts one request over JSON and another over protobuf, each answered 200, and waits until both are stored. */
const sendBoth = async (path: string, json: Record<string, unknown>, protobuf: Buffer) => {
  expect((await post(path, JSON.stringify(json), 'application/json')).status).toBe(200)
  expect((await post(path, protobuf, 'application/x-protobuf')).status).toBe(200)
  await server.app.spanlens.flush()
}
/** The scope stored with each row of `table` whose `key` column starts with `prefix`, by that column. */
const storedScopes = async (table: 'spans' | 'logs', key: 'name' | 'body', prefix: string) =>
  // Aliases that name no column: ClickHouse reads an alias in WHERE before the column of that name.
  (await server.rows<{ k: string; n: string; v: string; a: Record<string, string> }>(
    `SELECT ${key} AS k, scope_name AS n, scope_version AS v, scope_attributes AS a FROM ${table} WHERE ${key} LIKE '${prefix}%' ORDER BY k`,
  )).map((r) => ({ key: r.k, name: r.n, version: r.v, attributes: r.a }))

const str = (key: string, value: string) => ({ key, value: { stringValue: value } })
const SCOPE = { name: 'openinference.instrumentation.openai', version: '0.1.27', attributes: [str('instrumentation.kind', 'auto'), { key: 'level', value: { intValue: '3' } }] }
const SCOPE_STORED = { name: 'openinference.instrumentation.openai', version: '0.1.27', attributes: { 'instrumentation.kind': 'auto', level: '3' } }

/** A request of `spans` under SCOPE, the spans' scope replaced. */
function underScope(spans: Parameters<typeof jsonRequest>[0], scope: Record<string, unknown> = SCOPE): Record<string, unknown> {
  const req = jsonRequest(spans)
  ;(req.resourceSpans as Array<{ scopeSpans: Array<{ scope: unknown }> }>)[0]!.scopeSpans[0]!.scope = scope
  return req
}

describe('the instrumentation scope of what is stored', () => {
  it("stores a span's scope name, version and attributes, over JSON and protobuf alike", async () => {
    const req = (wire: string) => underScope([{ name: `scoped-span-${wire}` }])
    await sendBoth('/v1/traces', req('json'), protobufRequest(req('protobuf')))
    expect(await storedScopes('spans', 'name', 'scoped-span-')).toEqual([
      { key: 'scoped-span-json', ...SCOPE_STORED },
      { key: 'scoped-span-protobuf', ...SCOPE_STORED },
    ])
  })

  it("stores a log record's scope name, version and attributes, over JSON and protobuf alike, and its trace's logs show them", async () => {
    const traceId = randomBytes(16).toString('hex')
    const req = (body: string) => {
      const json = logsJson([{ body, traceId }])
      ;(json.resourceLogs as Array<{ scopeLogs: Array<{ scope: unknown }> }>)[0]!.scopeLogs[0]!.scope = SCOPE
      return json
    }
    await sendBoth('/v1/logs', req('scoped-log-json'), logsJsonAsProtobuf(req('scoped-log-protobuf')))
    expect(await storedScopes('logs', 'body', 'scoped-log-')).toEqual([
      { key: 'scoped-log-json', ...SCOPE_STORED },
      { key: 'scoped-log-protobuf', ...SCOPE_STORED },
    ])
    const res = await fetch(`${server.url}/api/v1/traces/${traceId}/logs`, { headers: bearer(KEYS.acme) })
    const logs = (await res.json()) as { items: Array<{ body: string; scope: unknown }> }
    // Both records may have the same time: compared by body.
    expect(logs.items.map((l) => [l.body, l.scope]).sort()).toEqual([
      ['scoped-log-json', SCOPE_STORED],
      ['scoped-log-protobuf', SCOPE_STORED],
    ])
  })

  it("stores a metric point's scope attributes, and two scopes that differ only by their attributes make two series", async () => {
    const now = `${Date.now()}000000`
    const scopeMetrics = (scope: Record<string, unknown>) => ({ scope, metrics: [{ name: 'scoped.metric', gauge: { dataPoints: [{ timeUnixNano: now, asDouble: 1 }] } }] })
    const req = { resourceMetrics: [{ resource: { attributes: [str('service.name', 'scoped-metrics')] }, scopeMetrics: [scopeMetrics(SCOPE), scopeMetrics({ ...SCOPE, attributes: [str('instrumentation.kind', 'manual')] }), scopeMetrics({ name: SCOPE.name, version: SCOPE.version })] }] }
    expect((await post('/v1/metrics', JSON.stringify(req), 'application/json')).status).toBe(200)
    await server.app.spanlens.flush()
    const rows = await server.rows<{ kind: string; series: string }>(
      `SELECT scope_attributes['instrumentation.kind'] AS kind, toString(series_id) AS series FROM metrics WHERE name = 'scoped.metric' ORDER BY kind`,
    )
    expect(rows.map((r) => r.kind)).toEqual(['', 'auto', 'manual'])
    expect(new Set(rows.map((r) => r.series)).size).toBe(3)
  })

  it('keeps the first 1,024 attributes of a scope and says in its attributes how many it lost, over JSON and protobuf alike', async () => {
    // Short ones: 1,024 of them stay within the 16 KiB a scope's attributes may take.
    const many = Array.from({ length: 1100 }, (_, i) => str(`k${i}`, 'v'))
    const req = (wire: string) => underScope([{ name: `many-scope-${wire}` }], { name: 'big', attributes: many })
    expect((await post('/v1/traces', JSON.stringify(req('json')), 'application/json')).status).toBe(200)
    expect((await post('/v1/traces', protobufRequest(req('protobuf')), 'application/x-protobuf')).status).toBe(200)
    await server.app.spanlens.flush()
    const rows = await server.rows<{ name: string; kept: number; dropped: string; last: string }>(
      `SELECT name, length(mapKeys(scope_attributes)) AS kept, scope_attributes['spanlens.scope.attributes.dropped'] AS dropped,
              scope_attributes['k1023'] AS last
       FROM spans WHERE name LIKE 'many-scope-%' ORDER BY name`,
    )
    const row = { kept: 1025, dropped: '76', last: 'v' }
    expect(rows).toEqual([
      { name: 'many-scope-json', ...row },
      { name: 'many-scope-protobuf', ...row },
    ])
  })

  it("cuts a scope's attributes at 16 KiB as a resource's are, and marks the cut", async () => {
    const big = [str('a', 'x'.repeat(10_000)), str('b', 'y'.repeat(10_000)), str('c', 'z')]
    expect((await post('/v1/traces', JSON.stringify(underScope([{ name: 'wide-scope' }], { name: 'wide', attributes: big })), 'application/json')).status).toBe(200)
    await server.app.spanlens.flush()
    const [row] = await server.rows<{ a: number; b: number; c: string; truncated: string }>(
      `SELECT length(scope_attributes['a']) AS a, length(scope_attributes['b']) AS b, scope_attributes['c'] AS c,
              scope_attributes['spanlens.scope.truncated'] AS truncated FROM spans WHERE name = 'wide-scope'`,
    )
    // `b` is cut where the 16 KiB end (keys and values, in order), then marked as every cut value is (ClickHouse's length() counts bytes).
    expect(row).toEqual({ a: 10_000, b: 16 * 1024 - 10_002 + Buffer.byteLength(TRUNCATED), c: '', truncated: 'true' })
  })

  it("shows analysts' SQL the scope of spans, log records and metric points", async () => {
    const sql = async (query: string) => {
      const res = await fetch(`${server.url}/api/v1/sql`, { method: 'POST', headers: { 'content-type': 'application/json', ...bearer(KEYS.acme) }, body: JSON.stringify({ query }) })
      expect(res.status).toBe(200)
      return ((await res.json()) as { data: unknown[] }).data
    }
    const attributes = SCOPE_STORED.attributes
    expect(await sql(`SELECT scope_version, scope_attributes FROM spans WHERE name = 'scoped-span-json'`)).toEqual([{ scope_version: '0.1.27', scope_attributes: attributes }])
    expect(await sql(`SELECT scope_version, scope_attributes FROM logs WHERE body = 'scoped-log-json'`)).toEqual([{ scope_version: '0.1.27', scope_attributes: attributes }])
    expect(await sql(`SELECT scope_attributes FROM metrics WHERE name = 'scoped.metric' AND scope_attributes['instrumentation.kind'] = 'auto'`)).toEqual([{ scope_attributes: attributes }])
  })

  it('refuses the spans of a scope whose attribute has a value of the wrong type, naming it, and keeps the rest', async () => {
    const req = underScope([{ name: 'bad-scope' }], { name: 'x', attributes: [{ key: 'k', value: { intValue: 'twelve' } }] })
    const res = await post('/v1/traces', JSON.stringify(req), 'application/json')
    expect(res.status).toBe(200)
    const body = (await res.json()) as { partialSuccess?: { rejectedSpans?: string; errorMessage?: string } }
    expect(body.partialSuccess?.rejectedSpans).toBe('1')
    expect(body.partialSuccess?.errorMessage).toContain('scope attribute "k"')
  })
})

describe("a trace's tree shows each span's scope, resource, events and links", () => {
  it('answers them with the spans, each resource once for the trace', async () => {
    const traceId = randomBytes(16).toString('hex')
    const now = BigInt(Date.now()) * 1_000_000n
    const exception = [str('exception.type', 'RateLimitError'), str('exception.message', 'slow down'), str('exception.stacktrace', 'RateLimitError: slow down\n    at call (app.js:1:1)')]
    const req = underScope([
      { traceId, spanId: '0000000000000001', name: 'root', startTimeUnixNano: String(now), endTimeUnixNano: String(now + 9_000_000n) },
      {
        traceId,
        spanId: '0000000000000002',
        parentSpanId: '0000000000000001',
        name: 'call',
        startTimeUnixNano: String(now + 1_000_000n),
        endTimeUnixNano: String(now + 8_000_000n),
        events: [
          { timeUnixNano: String(now + 3_000_000n), name: 'exception', attributes: exception },
          { timeUnixNano: String(now + 2_000_000n), name: 'retry', attributes: [str('attempt', '2')] },
        ],
        links: [{ traceId: 'cd'.repeat(16), spanId: 'ef'.repeat(8), attributes: [str('link.why', 'batch')] }],
      },
    ])
    // A second resource in the same request: the other service's span of the trace.
    const other = jsonRequest([{ traceId, spanId: '0000000000000003', parentSpanId: '0000000000000001', name: 'other', startTimeUnixNano: String(now + 1_000_000n), endTimeUnixNano: String(now + 2_000_000n) }], 'other-svc')
    ;(req.resourceSpans as unknown[]).push(...(other.resourceSpans as unknown[]))
    await sendBoth('/v1/traces', req, protobufRequest(req))

    const res = await fetch(`${server.url}/api/v1/traces/${traceId}`, { headers: bearer(KEYS.acme) })
    expect(res.status).toBe(200)
    interface Node { name: string; resource: string; scope: unknown; events: Array<{ name: string; time: string; timeUnixNano: string; attributes: Record<string, string> }>; links: unknown[]; children: Node[] }
    const trace = (await res.json()) as { roots: Node[]; resources: Record<string, Record<string, string>> }
    const root = trace.roots[0]!
    const call = root.children.find((c) => c.name === 'call')!
    const otherSpan = root.children.find((c) => c.name === 'other')!
    expect(root.scope).toEqual(SCOPE_STORED)
    expect(otherSpan.scope).toEqual({ name: 'test', version: '', attributes: {} })
    expect(root.resource).toBe(call.resource)
    expect(otherSpan.resource).not.toBe(root.resource)
    expect(trace.resources).toEqual({ [root.resource]: { 'service.name': 'test-svc' }, [otherSpan.resource]: { 'service.name': 'other-svc' } })
    expect(call.events).toEqual([
      { name: 'exception', time: new Date(Number((now + 3_000_000n) / 1_000_000n)).toISOString(), timeUnixNano: String(now + 3_000_000n), attributes: Object.fromEntries(exception.map((a) => [a.key, a.value.stringValue])) },
      { name: 'retry', time: new Date(Number((now + 2_000_000n) / 1_000_000n)).toISOString(), timeUnixNano: String(now + 2_000_000n), attributes: { attempt: '2' } },
    ])
    expect(call.links).toEqual([{ traceId: 'cd'.repeat(16), spanId: 'ef'.repeat(8), attributes: { 'link.why': 'batch' } }])
    expect(root.events).toEqual([])
    expect(root.links).toEqual([])
  })
})
