import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MAX_TIME_NS } from '../src/otlp/decode.js'
import { bearer, KEYS, startServer, type TestServer } from './helpers/server.js'
import { jsonRequest, protobufRequest } from './helpers/otlp.js'

// What ClickHouse cannot store, or would delete at once, is refused per span
// through partial_success; the rest of the request is kept. Two servers, one
// after the other (one embedded data directory per process): the default
// 90-day retention, and retention 0 (keep forever), where any time from 1 ns
// after the epoch to the last one DateTime64(9) holds must round-trip.
let withRetention: TestServer
let forever: TestServer

const NOW_NS = () => BigInt(Date.now()) * 1_000_000n
const DAY_NS = 86_400n * 1_000_000_000n

async function send(server: TestServer, spans: Array<Record<string, unknown>>) {
  const res = await fetch(`${server.url}/v1/traces`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...bearer(KEYS.acme) },
    body: JSON.stringify(jsonRequest(spans)),
  })
  expect(res.status).toBe(200)
  return (await res.json()) as { partialSuccess?: { rejectedSpans: string; errorMessage: string } }
}

async function stored(server: TestServer, names: string[]) {
  await server.app.spanlens.flush()
  return server.rows<{ name: string; start: string; end: string; events: string[] }>(
    `SELECT name, toString(start_time) AS start, toString(end_time) AS end, arrayMap(t -> toString(t), events.time) AS events
     FROM spans WHERE project_id = 'acme' AND name IN {names:Array(String)} ORDER BY name`,
    { names },
  )
}

describe('with the default 90-day retention, times ClickHouse cannot keep are refused per span', () => {
  beforeAll(async () => {
    withRetention = await startServer()
  })
  afterAll(() => withRetention?.close())

  it('refuses a span ending after 2262 (DateTime64(9) overflow) and keeps the valid span beside it', async () => {
    const past = (BigInt(MAX_TIME_NS) + 1n).toString()
    const reply = await send(withRetention, [
      { name: 'limits-ok-1', startTimeUnixNano: String(NOW_NS()) },
      { name: 'limits-end-overflow', startTimeUnixNano: String(NOW_NS()), endTimeUnixNano: past },
      { name: 'limits-end-max-u64', startTimeUnixNano: String(NOW_NS()), endTimeUnixNano: '18446744073709551615' },
      {
        name: 'limits-event-overflow',
        startTimeUnixNano: String(NOW_NS()),
        events: [{ name: 'e', timeUnixNano: past }],
      },
    ])
    expect(reply.partialSuccess?.rejectedSpans).toBe('3')
    expect(reply.partialSuccess?.errorMessage).toMatch(/end_time_unix_nano is after 2262-04-11/)
    expect(reply.partialSuccess?.errorMessage).toMatch(/event time_unix_nano is after 2262-04-11/)
    expect((await stored(withRetention, ['limits-ok-1', 'limits-end-overflow', 'limits-end-max-u64', 'limits-event-overflow'])).map((r) => r.name)).toEqual([
      'limits-ok-1',
    ])
  })

  it('refuses a JSON start time of 1e30 as out of range, not as an insert failure', async () => {
    const reply = await send(withRetention, [{ name: 'limits-1e30', startTimeUnixNano: 1e30, endTimeUnixNano: 1e30 }])
    expect(reply.partialSuccess?.rejectedSpans).toBe('1')
    expect(await stored(withRetention, ['limits-1e30'])).toEqual([])
  })

  it('refuses spans older than the retention or more than a day ahead, naming why', async () => {
    const reply = await send(withRetention, [
      { name: 'limits-old', startTimeUnixNano: String(NOW_NS() - 91n * DAY_NS) },
      { name: 'limits-future', startTimeUnixNano: String(NOW_NS() + 2n * DAY_NS), endTimeUnixNano: String(NOW_NS() + 2n * DAY_NS) },
      { name: 'limits-89-days', startTimeUnixNano: String(NOW_NS() - 89n * DAY_NS) },
      { name: 'limits-tomorrowish', startTimeUnixNano: String(NOW_NS() + DAY_NS / 2n), endTimeUnixNano: String(NOW_NS() + DAY_NS / 2n) },
    ])
    expect(reply.partialSuccess?.rejectedSpans).toBe('2')
    // Each named as a span invalid in itself is (its name and id), so the sender can find it.
    expect(reply.partialSuccess?.errorMessage).toMatch(/span \d+ "limits-old" \([0-9a-f]{16}\): start_time_unix_nano is older than the 90-day retention/)
    expect(reply.partialSuccess?.errorMessage).toMatch(/span \d+ "limits-future" \([0-9a-f]{16}\): start_time_unix_nano is more than 24 h ahead/)
    expect((await stored(withRetention, ['limits-old', 'limits-future', 'limits-89-days', 'limits-tomorrowish'])).map((r) => r.name)).toEqual([
      'limits-89-days',
      'limits-tomorrowish',
    ])
    const metrics = await (await fetch(`${withRetention.url}/metrics`)).text()
    expect(metrics).toMatch(/spanlens_ingest_spans_rejected_total\{project="acme",reason="time_out_of_range"\} 2/)
  })

})

describe('with retention 0 (keep forever), every time DateTime64(9) holds round-trips', () => {
  beforeAll(async () => {
    forever = await startServer({ SPANLENS_RETENTION_DAYS: '0' })
  })
  afterAll(() => forever?.close())

  it('stores times from 1 ns after the epoch exactly', async () => {
    // Seconds with fewer than 10 digits used to be read by ClickHouse as dates.
    const cases: Array<[string, string]> = [
      ['limits-1ns', '1'],
      ['limits-10s', '10500000000'],
      ['limits-1973', '99999999000000000'],
      ['limits-2001', '999999999123456789'],
    ]
    const reply = await send(
      forever,
      cases.map(([name, ns]) => ({ name, startTimeUnixNano: ns, endTimeUnixNano: ns, events: [{ name: 'e', timeUnixNano: ns }] })),
    )
    expect(reply.partialSuccess).toBeUndefined()
    const rows = await stored(
      forever,
      cases.map(([n]) => n),
    )
    const expected = cases.map(([name, ns]) => {
      const padded = ns.padStart(19, '0')
      const iso = new Date(Number(BigInt(ns) / 1_000_000n)).toISOString().replace('T', ' ').slice(0, 19)
      const text = `${iso}.${padded.slice(-9)}`
      return { name, start: text, end: text, events: [text] }
    })
    expect(rows).toEqual(expected.sort((a, b) => a.name.localeCompare(b.name)))
  })
})

describe('no field of one span, and no request, can grow past its bound', () => {
  let server: TestServer
  beforeAll(async () => {
    server = await startServer({ SPANLENS_BODY_LIMIT_BYTES: String(4 * 1024 * 1024) })
  })
  afterAll(() => server?.close())

  const post = (body: unknown) =>
    fetch(`${server.url}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json', ...bearer(KEYS.acme) }, body: JSON.stringify(body) })

  it('cuts names and labels at 1024 characters and the resource attributes at 16 KiB, marking what it cut', async () => {
    const long = 'y'.repeat(1_100_000)
    const req = jsonRequest([{ name: `long-${'n'.repeat(5000)}`, attributes: [{ key: 'user.id', value: { stringValue: long } }] }], long)
    const resource = (req.resourceSpans as Array<{ resource: { attributes: Array<Record<string, unknown>> } }>)[0]?.resource
    resource?.attributes.push({ key: 'host.name', value: { stringValue: 'h'.repeat(20_000) } }, { key: 'zz.after', value: { stringValue: 'dropped' } })
    expect((await post(req)).status).toBe(200)
    await server.app.spanlens.flush()
    const [row] = await server.rows<{ n: number; s: number; u: number; r: number; truncated: string; after: number }>(
      `SELECT lengthUTF8(name) AS n, lengthUTF8(service_name) AS s, lengthUTF8(user_id) AS u,
              arraySum(arrayMap((k, v) -> length(k) + length(v), mapKeys(resource_attributes), mapValues(resource_attributes))) AS r,
              resource_attributes['spanlens.resource.truncated'] AS truncated, mapContains(resource_attributes, 'zz.after') AS after
       FROM spans WHERE startsWith(name, 'long-')`,
    )
    const marker = '…[truncated by spanlens]'.length
    expect(row).toMatchObject({ n: 1024 + marker, s: 1024 + marker, u: 1024 + marker, truncated: 'true', after: 0 })
    expect(Number(row?.r)).toBeLessThan(16 * 1024 + 100)
  })

  it('keeps the first 1,000 events and links of a span, over JSON and protobuf alike, and records how many it left out', async () => {
    const link = (i: number) => ({ traceId: (i + 1).toString(16).padStart(32, '0'), spanId: (i + 1).toString(16).padStart(16, '0') })
    const spans = (wire: string) => [
      { name: `many-events-${wire}`, events: Array.from({ length: 5000 }, (_, i) => ({ name: `e${i}` })), links: Array.from({ length: 1200 }, (_, i) => link(i)) },
      { name: `few-events-${wire}`, events: [{ name: 'only' }], links: [link(7)] },
    ]
    expect((await post(jsonRequest(spans('json')))).status).toBe(200)
    const proto = await fetch(`${server.url}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/x-protobuf', ...bearer(KEYS.acme) }, body: protobufRequest(jsonRequest(spans('protobuf'))) })
    expect(proto.status).toBe(200)
    await server.app.spanlens.flush()
    const rows = await server.rows<{ name: string; events: number; last: string; links: number; de: string; dl: string }>(
      `SELECT name, length(events.name) AS events, events.name[-1] AS last, length(links.trace_id) AS links,
              attributes['spanlens.events.dropped'] AS de, attributes['spanlens.links.dropped'] AS dl
       FROM spans WHERE name LIKE '%-events-%' ORDER BY name`,
    )
    expect(rows).toEqual([
      { name: 'few-events-json', events: 1, last: 'only', links: 1, de: '', dl: '' },
      { name: 'few-events-protobuf', events: 1, last: 'only', links: 1, de: '', dl: '' },
      { name: 'many-events-json', events: 1000, last: 'e999', links: 1000, de: '4000', dl: '200' },
      { name: 'many-events-protobuf', events: 1000, last: 'e999', links: 1000, de: '4000', dl: '200' },
    ])
  })

  it('keeps the GenAI attributes of a span of more than 1,024 wherever they sit, over JSON and protobuf alike, and records how many others it left out', async () => {
    const plain = Array.from({ length: 1100 }, (_, i) => ({ key: `app.field.${i}`, value: { stringValue: `v${i}` } }))
    const genai = [
      { key: 'gen_ai.operation.name', value: { stringValue: 'chat' } },
      { key: 'gen_ai.request.model', value: { stringValue: 'gpt-4o' } },
      { key: 'gen_ai.usage.input_tokens', value: { intValue: '1000000' } },
      { key: 'gen_ai.usage.output_tokens', value: { intValue: 1000 } },
      { key: 'gen_ai.input.messages', value: { stringValue: JSON.stringify([{ role: 'user', parts: [{ type: 'text', content: 'hello' }] }]) } },
    ]
    // Past the first 1,024, the names the normalizer reads are kept up to 1,024 more.
    const prompts = Array.from({ length: 1100 }, (_, i) => ({ key: `gen_ai.prompt.${i}.content`, value: { stringValue: `p${i}` } }))
    const spans = (wire: string) => [
      { name: `many-attributes-${wire}`, attributes: [...plain, ...genai] },
      { name: `many-prompts-${wire}`, attributes: [...plain.slice(0, 1024), ...prompts] },
      { name: `few-attributes-${wire}`, attributes: genai },
    ]
    expect((await post(jsonRequest(spans('json')))).status).toBe(200)
    const proto = await fetch(`${server.url}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/x-protobuf', ...bearer(KEYS.acme) }, body: protobufRequest(jsonRequest(spans('protobuf'))) })
    expect(proto.status).toBe(200)
    await server.app.spanlens.flush()
    const rows = await server.rows<{ name: string; kind: string; model: string; in: number; out: number; cost: number | null; input: string; first: number; past: number; dropped: string }>(
      `SELECT name, kind, request_model AS model, input_tokens AS in, output_tokens AS out, cost_usd AS cost, input,
              mapContains(attributes, 'app.field.1023') AS first, mapContains(attributes, 'app.field.1024') AS past,
              attributes['spanlens.attributes.dropped'] AS dropped
       FROM spans WHERE name LIKE '%-attributes-%' ORDER BY name`,
    )
    const call = { kind: 'llm', model: 'gpt-4o', in: 1_000_000, out: 1000, cost: 2.51, input: JSON.stringify([{ role: 'user', parts: [{ type: 'text', content: 'hello' }] }]) }
    expect(rows).toEqual([
      { name: 'few-attributes-json', ...call, first: 0, past: 0, dropped: '' },
      { name: 'few-attributes-protobuf', ...call, first: 0, past: 0, dropped: '' },
      { name: 'many-attributes-json', ...call, first: 1, past: 0, dropped: '76' },
      { name: 'many-attributes-protobuf', ...call, first: 1, past: 0, dropped: '76' },
    ])
    const prompted = await server.rows<{ name: string; messages: number; last: string; dropped: string }>(
      `SELECT name, length(JSONExtractArrayRaw(input)) AS messages, JSONExtractString(input, -1, 'parts', 1, 'content') AS last,
              attributes['spanlens.attributes.dropped'] AS dropped
       FROM spans WHERE name LIKE 'many-prompts-%' ORDER BY name`,
    )
    expect(prompted).toEqual([
      { name: 'many-prompts-json', messages: 1024, last: 'p1023', dropped: '76' },
      { name: 'many-prompts-protobuf', messages: 1024, last: 'p1023', dropped: '76' },
    ])
  })

  it('refuses with 413 SPANLENS_ROWS_TOO_LARGE a request whose rows would be over 4 × the body limit, and stores none of it', async () => {
    // 16 KiB of resource attributes repeated in 1,100 small spans: ~18 MB of rows from a ~60 KB gzip-able body.
    const big = { key: 'k8s.pod.annotations', value: { stringValue: 'a'.repeat(16_000) } }
    const req = jsonRequest(Array.from({ length: 1100 }, () => ({ name: 'expanding' })))
    ;(req.resourceSpans as Array<{ resource: { attributes: Array<Record<string, unknown>> } }>)[0]?.resource.attributes.push(big)
    const res = await post(req)
    expect(res.status).toBe(413)
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('SPANLENS_ROWS_TOO_LARGE')
    await server.app.spanlens.flush()
    expect(await server.rows("SELECT 1 FROM spans WHERE name = 'expanding' LIMIT 1")).toEqual([])
    // The server goes on.
    expect((await post(jsonRequest([{ name: 'after-expanding' }]))).status).toBe(200)
  })
})
