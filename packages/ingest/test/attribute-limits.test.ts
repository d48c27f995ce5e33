import { ValueType } from '@opentelemetry/api'
import { ProtobufMetricsSerializer } from '@opentelemetry/otlp-transformer'
import { resourceFromAttributes } from '@opentelemetry/resources'
import { AggregationTemporality, DataPointType } from '@opentelemetry/sdk-metrics'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { postOtlp, startServer, type TestServer } from './helpers/server.js'
import { jsonRequest, protobufRequest } from './helpers/otlp.js'
import { logsJson, logsJsonAsProtobuf } from './helpers/otlp-logs.js'

/**
 * Resources, log records, span events and links of more than 1,024 attributes, through the
 * receiver: the names the normalizer reads (service, environment, release; a GenAI event's
 * name and message) are kept wherever they sit, and how many others were left out is stored.
 * A span's own attributes are in span-limits.test.ts.
 */
let server: TestServer
beforeAll(async () => {
  server = await startServer({ SPANLENS_BODY_LIMIT_BYTES: String(4 * 1024 * 1024) })
})
afterAll(() => server?.close())

const post = (path: string, body: Buffer | string, type: 'application/json' | 'application/x-protobuf') => postOtlp(server, path, body, type)

const plain = Array.from({ length: 1100 }, (_, i) => ({ key: `app.field.${i}`, value: { stringValue: `v${i}` } }))

/** A resource of 1,100 attributes of the app's own, then the ones the rows' service, environment and release come from. */
const resource = (service: string) => ({
  attributes: [
    ...plain,
    { key: 'service.name', value: { stringValue: service } },
    { key: 'service.version', value: { stringValue: '2.4.1' } },
    { key: 'deployment.environment', value: { stringValue: 'staging' } },
  ],
})

describe('the attributes of a resource past 1,024', () => {
  it("a span keeps its service, environment and release sent after 1,100 other resource attributes, over JSON and protobuf alike, and its resource says how many it lost", async () => {
    const request = (wire: string) => {
      const req = jsonRequest([{ name: `many-resource-${wire}` }])
      ;(req.resourceSpans as Array<{ resource: unknown }>)[0]!.resource = resource(`svc-${wire}`)
      return req
    }
    expect((await post('/v1/traces', JSON.stringify(request('json')), 'application/json')).status).toBe(200)
    expect((await post('/v1/traces', protobufRequest(request('protobuf')), 'application/x-protobuf')).status).toBe(200)
    await server.app.spanlens.flush()
    const rows = await server.rows<{ name: string; service: string; environment: string; release: string; dropped: string; truncated: string }>(
      `SELECT name, service_name AS service, environment, release,
              resource_attributes['spanlens.resource.attributes.dropped'] AS dropped, resource_attributes['spanlens.resource.truncated'] AS truncated
       FROM spans WHERE name LIKE 'many-resource-%' ORDER BY name`,
    )
    const kept = { environment: 'staging', release: '2.4.1', dropped: '76', truncated: 'true' }
    expect(rows).toEqual([
      { name: 'many-resource-json', service: 'svc-json', ...kept },
      { name: 'many-resource-protobuf', service: 'svc-protobuf', ...kept },
    ])
  })

  it('a metric point keeps its service sent after 1,100 other resource attributes, and its resource says how many it lost', async () => {
    const now = `${Date.now()}000000`
    const request = {
      resourceMetrics: [{ resource: resource('svc-metrics'), scopeMetrics: [{ scope: { name: 'test' }, metrics: [{ name: 'many.resource.metric', gauge: { dataPoints: [{ timeUnixNano: now, asDouble: 1 }] } }] }] }],
    }
    expect((await post('/v1/metrics', JSON.stringify(request), 'application/json')).status).toBe(200)
    await server.app.spanlens.flush()
    expect(
      await server.rows(
        `SELECT service_name AS service, resource_attributes['spanlens.resource.attributes.dropped'] AS dropped FROM metrics WHERE name = 'many.resource.metric'`,
      ),
    ).toEqual([{ service: 'svc-metrics', dropped: '76' }])
  })
})

describe('the attributes of a log record past 1,024', () => {
  it('a GenAI event keeps its name and message sent after 1,100 other attributes, over JSON and protobuf alike, and its row says how many it lost', async () => {
    const traceId = 'ab'.repeat(16)
    const message = [{ role: 'user', parts: [{ type: 'text', content: 'hello after 1,100' }] }]
    const request = (wire: string, spanId: string) => {
      const req = logsJson([{ traceId, spanId, body: `many-attributes-${wire}` }])
      const rl = (req.resourceLogs as Array<{ resource: unknown; scopeLogs: Array<{ logRecords: Array<{ attributes: unknown[] }> }> }>)[0]!
      rl.resource = resource(`logs-${wire}`)
      rl.scopeLogs[0]!.logRecords[0]!.attributes = [
        ...plain,
        { key: 'event.name', value: { stringValue: 'gen_ai.client.inference.operation.details' } },
        { key: 'gen_ai.input.messages', value: { stringValue: JSON.stringify(message) } },
      ]
      return req
    }
    expect((await post('/v1/logs', JSON.stringify(request('json', '01'.repeat(8))), 'application/json')).status).toBe(200)
    expect((await post('/v1/logs', logsJsonAsProtobuf(request('protobuf', '02'.repeat(8))), 'application/x-protobuf')).status).toBe(200)
    await server.app.spanlens.flush()
    const logs = await server.rows<{ body: string; service: string; event: string; dropped: string; resource: string }>(
      `SELECT body, service_name AS service, event_name AS event, attributes['spanlens.attributes.dropped'] AS dropped,
              resource_attributes['spanlens.resource.attributes.dropped'] AS resource
       FROM logs WHERE body LIKE 'many-attributes-%' ORDER BY body`,
    )
    const event = { event: 'gen_ai.client.inference.operation.details', dropped: '76', resource: '76' }
    expect(logs).toEqual([
      { body: 'many-attributes-json', service: 'logs-json', ...event },
      { body: 'many-attributes-protobuf', service: 'logs-protobuf', ...event },
    ])
    const content = await server.rows<{ span: string; input: string }>(
      `SELECT span_id AS span, input FROM span_content WHERE trace_id = {traceId:String} ORDER BY span`,
      { traceId },
    )
    expect(content).toEqual([
      { span: '01'.repeat(8), input: JSON.stringify(message) },
      { span: '02'.repeat(8), input: JSON.stringify(message) },
    ])
  })
})

describe('the attributes of a span event or link past 1,024', () => {
  it('keeps the first 1,024 and says on the event or link how many it lost, over JSON and protobuf alike', async () => {
    const now = BigInt(Date.now()) * 1_000_000n
    const spans = (wire: string) => [
      {
        name: `event-link-attributes-${wire}`,
        events: [
          { timeUnixNano: String(now + 1_000n), name: 'many', attributes: plain },
          { timeUnixNano: String(now + 2_000n), name: 'few', attributes: plain.slice(0, 3) },
        ],
        links: [{ traceId: 'cd'.repeat(16), spanId: 'ef'.repeat(8), attributes: plain.slice(0, 1030) }],
      },
    ]
    expect((await post('/v1/traces', JSON.stringify(jsonRequest(spans('json'))), 'application/json')).status).toBe(200)
    expect((await post('/v1/traces', protobufRequest(jsonRequest(spans('protobuf'))), 'application/x-protobuf')).status).toBe(200)
    await server.app.spanlens.flush()
    const rows = await server.rows<{ name: string; kept: number[]; dropped: string[]; link_kept: number; link_dropped: string; last: string }>(
      `SELECT name, arrayMap(m -> length(mapKeys(m)), events.attributes) AS kept,
              arrayMap(m -> m['spanlens.attributes.dropped'], events.attributes) AS dropped,
              length(mapKeys(links.attributes[1])) AS link_kept, links.attributes[1]['spanlens.attributes.dropped'] AS link_dropped,
              events.attributes[1]['app.field.1023'] AS last
       FROM spans WHERE name LIKE 'event-link-attributes-%' ORDER BY name`,
    )
    // 1,024 kept and the count beside them; a link's cut the same way; an event under the cap has no count.
    const row = { kept: [1025, 3], dropped: ['76', ''], link_kept: 1025, link_dropped: '6', last: 'v1023' }
    expect(rows).toEqual([
      { name: 'event-link-attributes-json', ...row },
      { name: 'event-link-attributes-protobuf', ...row },
    ])
  })
})

describe('the attributes of a metric point or exemplar past 1,024', () => {
  it('keeps the first 1,024 and says on the point or exemplar how many it lost, over JSON and protobuf alike', async () => {
    const now = `${Date.now()}000000`
    const json = {
      resourceMetrics: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: 'point-attributes' } }] },
          scopeMetrics: [
            {
              scope: { name: 'test' },
              metrics: [
                {
                  name: 'many.point.attributes.json',
                  gauge: { dataPoints: [{ timeUnixNano: now, asDouble: 1, attributes: plain.slice(0, 1030), exemplars: [{ timeUnixNano: now, asDouble: 1, filteredAttributes: plain }] }] },
                },
              ],
            },
          ],
        },
      ],
    }
    const attributes = Object.fromEntries(plain.slice(0, 1030).map((kv) => [kv.key, kv.value.stringValue]))
    const seconds = Math.floor(Date.now() / 1000)
    const protobuf = ProtobufMetricsSerializer.serializeRequest({
      resource: resourceFromAttributes({ 'service.name': 'point-attributes' }),
      scopeMetrics: [
        {
          scope: { name: 'test' },
          metrics: [
            {
              descriptor: { name: 'many.point.attributes.protobuf', description: '', unit: '', valueType: ValueType.DOUBLE },
              dataPointType: DataPointType.GAUGE,
              aggregationTemporality: AggregationTemporality.CUMULATIVE,
              dataPoints: [{ startTime: [seconds, 0], endTime: [seconds, 0], value: 1, attributes }],
            },
          ],
        },
      ],
    }) as Uint8Array
    expect((await post('/v1/metrics', JSON.stringify(json), 'application/json')).status).toBe(200)
    expect((await post('/v1/metrics', Buffer.from(protobuf), 'application/x-protobuf')).status).toBe(200)
    await server.app.spanlens.flush()
    const rows = await server.rows<{ name: string; kept: number; dropped: string; exemplar: string[] }>(
      `SELECT name, length(mapKeys(attributes)) AS kept, attributes['spanlens.attributes.dropped'] AS dropped,
              arrayMap(m -> m['spanlens.attributes.dropped'], exemplars.attributes) AS exemplar
       FROM metrics WHERE name LIKE 'many.point.attributes.%' ORDER BY name`,
    )
    expect(rows).toEqual([
      { name: 'many.point.attributes.json', kept: 1025, dropped: '6', exemplar: ['76'] },
      { name: 'many.point.attributes.protobuf', kept: 1025, dropped: '6', exemplar: [] },
    ])
  })
})
