import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { otlpTypes } from './helpers/proto.js'
import { runCampaign } from './fuzz/campaign.js'
import { CONTENT_TYPE, type Format } from './fuzz/cases.js'
import { edgeSpanArb, toSpanModel } from './fuzz/edge-arbitraries.js'
import { send } from './fuzz/http.js'
import { baseRequest, type Json, type RequestModel, requestJsonDoc, requestWire, spliceBytes, spansOf } from './fuzz/model.js'
import { intFromEnv, Rng, seedFromEnv } from './fuzz/rng.js'
import { importantLogs, startFuzzServer, type FuzzServer } from './fuzz/server.js'
import { encodeMessage } from './fuzz/wire.js'

/**
 * Issue 15, "a 200 is a promise": mutated OTLP from one project must never cost
 * another project its acknowledged spans, and nothing acknowledged may be lost.
 * Rerun a failure with SPANLENS_FUZZ_SEED=<seed> (printed below and in every message);
 * SPANLENS_FUZZ_CASES sets how many cases (bench/fuzz/otlp-fuzz.ts runs many more),
 * SPANLENS_FUZZ_PROPERTY_RUNS the fast-check runs; SPANLENS_FUZZ_ABORTS_PER_MILLE=0 and
 * SPANLENS_FUZZ_STALLED=0 leave out the clients that die or stall mid-upload, to look
 * past a starved server at what the mutations alone do.
 */
const SEED = seedFromEnv(process.env, 20261204)
// A fixed seed replays the same cases every run; these counts are what the suite's 10-minute
// budget leaves (~25 s embedded), and bench/fuzz/otlp-fuzz.ts runs other seeds at length.
const CASES = intFromEnv(process.env, 'SPANLENS_FUZZ_CASES', 1200)
/** Uploads cut off mid-body, per thousand cases. */
const ABORTS_PER_MILLE = intFromEnv(process.env, 'SPANLENS_FUZZ_ABORTS_PER_MILLE', 10)
const PROPERTY_RUNS = intFromEnv(process.env, 'SPANLENS_FUZZ_PROPERTY_RUNS', 50)
/** Uploads a third project holds open through the campaign (more than the in-flight limit of 8). */
const STALLED = intFromEnv(process.env, 'SPANLENS_FUZZ_STALLED', 10)
const ATTACKER = { project: 'attacker', key: 'attacker-key-0123456789' }
const VICTIM = { project: 'victim', key: 'victim-key-0123456789' }
const EDGE = { project: 'edge', key: 'edge-key-0123456789' }
/** Sends one valid span beside each edge request: a batch ClickHouse refuses must not take it along. */
const BYSTANDER = { project: 'bystander', key: 'bystander-key-0123456789' }
/** Holds uploads open for the whole campaign, more than the server's in-flight limit. */
const HOG = { project: 'hog', key: 'hog-key-0123456789' }

console.log(`otlp fuzz: SPANLENS_FUZZ_SEED=${SEED} SPANLENS_FUZZ_CASES=${CASES} SPANLENS_FUZZ_PROPERTY_RUNS=${PROPERTY_RUNS} SPANLENS_FUZZ_ABORTS_PER_MILLE=${ABORTS_PER_MILLE} SPANLENS_FUZZ_STALLED=${STALLED}`)

let server: FuzzServer
/**
 * A server of its own for each describe. With retention 0 the campaign's spans (times from 1970 on) leave
 * 264 parts over 134 daily partitions, and every later flush and read pays for them: after 2,000 cases the
 * edge property's runs took 0.57 s each against 0.18 s on a fresh store (its flush 300 ms against 80).
 */
function serverPerDescribe(): void {
  beforeAll(async () => {
    // A small in-flight limit so a leaked admission slot shows within a few cases.
    server = await startFuzzServer([ATTACKER, VICTIM, EDGE, BYSTANDER, HOG], {
      SPANLENS_MAX_CONCURRENT_REQUESTS: '8',
      // Durability across crashes is durability.test.ts's subject; here fsync would only slow the cases down.
      SPANLENS_SPOOL_FSYNC: 'never',
      SPANLENS_BODY_LIMIT_BYTES: String(32 * 1024 * 1024),
    })
  })
  afterAll(() => server?.close())
}

describe('mutated OTLP from one project', () => {
  serverPerDescribe()
  it(`keeps every acknowledged span of both projects and answers every request (seed ${SEED})`, { timeout: 120_000 }, async () => {
    const report = await runCampaign(server, {
      seed: SEED,
      cases: CASES,
      attacker: ATTACKER,
      victim: VICTIM,
      canaryEvery: 10,
      abortRate: ABORTS_PER_MILLE / 1000,
      requestTimeoutMs: 10_000,
      flushTimeoutMs: 20_000,
      maxDurationMs: 60_000,
      stalled: { project: HOG, count: STALLED },
    })
    console.log(JSON.stringify({ ...report, violations: report.violations.length }, null, 1))
    expect(report.violations, `seed ${SEED}; server logs:\n${report.logs.join('\n')}`).toEqual([])
  })
})

describe('spans at and beyond the edge of every field', () => {
  serverPerDescribe()
  it(`are stored exactly once when acknowledged, readable by their project, and cost no one else a span (fast-check, seed ${SEED})`, { timeout: 300_000 }, async () => {
    let run = 0
    const failures: string[] = []
    const property = fc.asyncProperty(
      fc.array(edgeSpanArb, { minLength: 1, maxLength: 3 }),
      fc.constantFrom('protobuf', 'json') as fc.Arbitrary<Format>,
      fc.boolean(),
      fc.option(fc.constantFrom<Json>('1e30', 1e30, '1e19', 1.8446744073709552e19, -1, '-1', 1.5, '9223372036854775808', 'NaN')),
      async (edges, format, numericTimes, jsonStart) => {
        run++
        const traceId = Buffer.alloc(16)
        traceId.writeUInt32BE(SEED, 0)
        traceId.writeUInt32BE(run, 12)
        traceId[4] = 0xed
        const spans = edges.map((e, k) => {
          const spanId = Buffer.alloc(8)
          spanId.writeUInt32BE(run, 0)
          spanId.writeUInt32BE(k + 1, 4)
          return toSpanModel(e, { traceId, spanId })
        })
        const req: RequestModel = { resources: [{ attributes: [{ key: 'service.name', value: { string: 'edge' } }], scopes: [{ name: 'edge', version: '1', spans }] }] }
        let body: Buffer
        if (format === 'protobuf') body = encodeMessage(requestWire(req))
        else {
          const { doc, raw } = requestJsonDoc(req, numericTimes)
          const first = (doc.resourceSpans as Array<{ scopeSpans: Array<{ spans: Array<Record<string, Json>> }> }>)[0]?.scopeSpans[0]?.spans[0]
          if (first && jsonStart !== null) first.startTimeUnixNano = jsonStart
          body = spliceBytes(JSON.stringify(doc), raw)
        }
        const canary = await postCanary(run)
        const a = await send(server.url, {
          method: 'POST',
          path: '/v1/traces',
          headers: { 'content-type': CONTENT_TYPE[format], authorization: `Bearer ${EDGE.key}` },
          body,
          timeoutMs: 10_000,
        })
        const label = `run ${run} ${format}${format === 'json' ? ` numericTimes=${numericTimes} startOverride=${JSON.stringify(jsonStart)}` : ''}`
        expect([200, 400], `${label}: answered ${a.status} ${a.body.toString('utf8').slice(0, 300)}`).toContain(a.status)
        const rejected = a.status === 200 ? Number(rejectedOf(format, a.body)) : spans.length
        const stuck = await server.flushWithin(15_000)
        expect(stuck, `${label}: ${stuck}\n${importantLogs(server.logs).join('\n')}`).toBeUndefined()
        const stored = await server.rows<{ span_id: string; n: string }>(
          'SELECT span_id, count() AS n FROM spans FINAL WHERE project_id = {p:String} AND trace_id = {t:String} GROUP BY span_id',
          { p: EDGE.project, t: traceId.toString('hex') },
        )
        const canaryStored = await server.rows<{ n: string }>('SELECT count() AS n FROM spans FINAL WHERE project_id = {p:String} AND span_id = {s:String}', {
          p: BYSTANDER.project,
          s: canary,
        })
        const why = `${label}: acknowledged ${spans.length - rejected} of ${spans.length}; stored ${JSON.stringify(stored)}; canary stored ${canaryStored[0]?.n}; dead letters ${server.deadLetters().length}; reply ${a.body.toString('utf8').slice(0, 300)}\n${importantLogs(server.logs).join('\n')}`
        expect(stored.every((r) => Number(r.n) === 1), why).toBe(true)
        expect(stored.length, why).toBe(spans.length - rejected)
        expect(Number(canaryStored[0]?.n), why).toBe(1)
        // A total is the one sent, else input + output: never 0 beside tokens (a sum past UInt32 wrapped to 0).
        const noTotal = await server.rows<{ n: string }>(
          'SELECT count() AS n FROM spans FINAL WHERE project_id = {p:String} AND trace_id = {t:String} AND total_tokens = 0 AND input_tokens + output_tokens > 0',
          { p: EDGE.project, t: traceId.toString('hex') },
        )
        expect(Number(noTotal[0]?.n), why).toBe(0)
        if (stored.length > 0) {
          const t = await send(server.url, { method: 'GET', path: `/api/v1/traces/${traceId.toString('hex')}`, headers: { authorization: `Bearer ${EDGE.key}` }, timeoutMs: 10_000 })
          expect(t.status, `${label}: GET /api/v1/traces/:id answered ${t.status} ${t.body.toString('utf8').slice(0, 300)}`).toBe(200)
          expect((JSON.parse(t.body.toString('utf8')) as { totals: { spans: number } }).totals.spans, label).toBe(stored.length)
          // Listed and summed over the whole range ClickHouse can hold, with their content.
          const range = `traceId=${traceId.toString('hex')}&from=1900-01-01T00:00:00Z&to=2262-04-11T00:00:00Z`
          const list = await send(server.url, { method: 'GET', path: `/api/v1/spans?${range}&limit=1000&io=true`, headers: { authorization: `Bearer ${EDGE.key}` }, timeoutMs: 10_000 })
          expect(list.status, `${label}: GET /api/v1/spans answered ${list.status} ${list.body.toString('utf8').slice(0, 300)}`).toBe(200)
          const listed = (JSON.parse(list.body.toString('utf8')) as { items: Array<{ startTime: string }> }).items
          const inRange = await server.rows<{ n: string }>(
            "SELECT count() AS n FROM spans FINAL WHERE project_id = {p:String} AND trace_id = {t:String} AND start_time < toDateTime64('2262-04-11 00:00:00', 9, 'UTC')",
            { p: EDGE.project, t: traceId.toString('hex') },
          )
          expect(listed.length, `${label}: listed ${JSON.stringify(listed.map((i) => i.startTime))}`).toBe(Number(inRange[0]?.n))
          const sum = await send(server.url, { method: 'GET', path: `/api/v1/summary?${range}`, headers: { authorization: `Bearer ${EDGE.key}` }, timeoutMs: 10_000 })
          expect(sum.status, `${label}: GET /api/v1/summary answered ${sum.status} ${sum.body.toString('utf8').slice(0, 300)}`).toBe(200)
        }
      },
    )
    const result = await fc.check(property, { seed: SEED, numRuns: PROPERTY_RUNS, endOnFailure: true })
    if (result.failed) {
      const example = JSON.stringify(result.counterexample, (_k, v: unknown) =>
        typeof v === 'bigint' ? `${v}n` : v && typeof v === 'object' && (v as { type?: string }).type === 'Buffer' ? `bytes:${Buffer.from((v as { data: number[] }).data).toString('hex')}` : typeof v === 'string' && v.length > 200 ? `${v.slice(0, 20)}…(${v.length} chars)` : v,
      )
      failures.push(`fast-check seed ${result.seed}, path ${result.counterexamplePath}: ${String((result.errorInstance as Error)?.message ?? result.errorInstance).slice(0, 3000)}\ncounterexample: ${example.slice(0, 3000)}`)
    }
    expect(failures).toEqual([])
  })
})

const canaryRng = new Rng(SEED ^ 0xca1a_a1e5)

/** One valid span from the bystander project; its span id, once acknowledged. */
async function postCanary(run: number): Promise<string> {
  const req = baseRequest(canaryRng, { service: 'edge-canary', maxSpans: 1 })
  const a = await send(server.url, {
    method: 'POST',
    path: '/v1/traces',
    headers: { 'content-type': CONTENT_TYPE.protobuf, authorization: `Bearer ${BYSTANDER.key}` },
    body: encodeMessage(requestWire(req)),
    timeoutMs: 10_000,
  })
  expect(a.status, `canary before run ${run}: ${a.status} ${a.body.toString('utf8').slice(0, 200)}`).toBe(200)
  return (spansOf(req)[0] as { spanId: Buffer }).spanId.toString('hex')
}

function rejectedOf(format: Format, body: Buffer): number {
  if (format === 'protobuf') {
    const r = otlpTypes().response.toObject(otlpTypes().response.decode(body), { longs: String }) as { partialSuccess?: { rejectedSpans?: string } }
    return Number(r.partialSuccess?.rejectedSpans ?? 0)
  }
  return Number((JSON.parse(body.toString('utf8')) as { partialSuccess?: { rejectedSpans?: string } }).partialSuccess?.rejectedSpans ?? 0)
}
