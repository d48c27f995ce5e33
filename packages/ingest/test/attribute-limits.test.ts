import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bearer, KEYS, startServer, type TestServer } from './helpers/server.js'
import { jsonRequest, protobufRequest } from './helpers/otlp.js'

/**
 * Resources of more than 1,024 attributes, through the receiver: the names the
 * normalizer reads (service, environment, release) are kept wherever they sit, and how
 * many others were left out is stored.
 * A span's own attributes are in span-limits.test.ts.
 */
let server: TestServer
beforeAll(async () => {
  server = await startServer({ SPANLENS_BODY_LIMIT_BYTES: String(4 * 1024 * 1024) })
})
afterAll(() => server?.close())

const post = (path: string, body: Buffer | string, type: 'application/json' | 'application/x-protobuf') =>
  fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': type, ...bearer(KEYS.acme) }, body })

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
