import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { send } from './fuzz/http.js'
import { intFromEnv, Rng, seedFromEnv } from './fuzz/rng.js'
import { startFuzzServer, type FuzzServer } from './fuzz/server.js'
import { type LogSpec, logsJson, logsProtobuf, logsResponse } from './helpers/otlp-logs.js'

/**
 * "A 200 is a promise" for /v1/logs, as otlp-fuzz.test.ts checks it for /v1/traces:
 * log records at and beyond the edge of every field are either refused in the
 * partial success or stored exactly once and readable; mutated protobuf bodies get
 * 200 or 400, never a 5xx, and cost no later request anything. Seeded and bounded:
 * rerun with SPANLENS_FUZZ_SEED=<seed>; SPANLENS_FUZZ_CASES / SPANLENS_FUZZ_PROPERTY_RUNS size it.
 */
const SEED = seedFromEnv(process.env, 20261205)
const CASES = intFromEnv(process.env, 'SPANLENS_FUZZ_CASES', 2000)
const PROPERTY_RUNS = intFromEnv(process.env, 'SPANLENS_FUZZ_PROPERTY_RUNS', 80)
const P = { project: 'logfuzz', key: 'logfuzz-key-0123456789' }

let server: FuzzServer
beforeAll(async () => {
  server = await startFuzzServer([P], { SPANLENS_SPOOL_FSYNC: 'never' })
  console.log(`otlp logs fuzz: SPANLENS_FUZZ_SEED=${SEED} SPANLENS_FUZZ_CASES=${CASES} SPANLENS_FUZZ_PROPERTY_RUNS=${PROPERTY_RUNS}`)
})
afterAll(() => server?.close())

const now = BigInt(Date.now()) * 1_000_000n
const timeArb = fc.constantFrom('0', '1', String(now), String(now - 3_600_000_000_000n), String(now + 86_400_000_000_000n * 2n), '9223372036854775807', '9223372036854775808', '18446744073709551615')
const idArb = (bytes: number) =>
  fc.option(fc.oneof(fc.constant('0'.repeat(bytes * 2)), fc.stringMatching(new RegExp(`^[0-9a-f]{${bytes * 2}}$`)), fc.stringMatching(/^[0-9a-f]{1,40}$/)), { nil: undefined })
const text = fc.oneof(fc.string(), fc.constantFrom('\t\n\r\0\\\'"', 'é€😀', '', 'x'.repeat(5000)))
const json: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small', maxDepth: 20 }, text, fc.integer(), fc.double({ noNaN: true }), fc.boolean(), fc.array(tie('value'), { maxLength: 3 }), fc.dictionary(text, tie('value'), { maxKeys: 3 })),
})).value
const recordArb: fc.Arbitrary<LogSpec> = fc.record(
  {
    traceId: idArb(16),
    spanId: idArb(8),
    timeNs: timeArb,
    observedNs: timeArb,
    severityNumber: fc.integer({ min: -3, max: 30 }),
    severityText: text,
    body: json,
    attributes: fc.dictionary(text, json, { maxKeys: 4 }),
    eventName: fc.option(fc.constantFrom('gen_ai.choice', 'gen_ai.user.message', 'gen_ai.tool.message', 'gen_ai.client.inference.operation.details', 'other'), { nil: undefined }),
  },
  { requiredKeys: [] },
) as fc.Arbitrary<LogSpec>

const post = (body: Uint8Array | string, type: string) =>
  send(server.url, { method: 'POST', path: '/v1/logs', headers: { authorization: `Bearer ${P.key}`, 'content-type': type }, body: Buffer.from(body), timeoutMs: 20_000 })

describe('log records at and beyond the edge of every field', () => {
  it(`are refused in the partial success or stored exactly once (fast-check, seed ${SEED})`, { timeout: 300_000 }, async () => {
    let run = 0
    await fc.assert(
      fc.asyncProperty(fc.array(recordArb, { minLength: 1, maxLength: 4 }), fc.constantFrom('protobuf', 'json'), async (records, format) => {
        run++
        // A marker per record, to count what was stored of each.
        const marked = records.map((r, i) => ({ ...r, attributes: { ...(r.attributes as Record<string, never>), 'fuzz.marker': `${SEED}-${run}-${i}` } }))
        const res = format === 'json' ? await post(JSON.stringify(logsJson(marked)), 'application/json') : await post(logsProtobuf(marked), 'application/x-protobuf')
        expect(res.status, res.body.toString().slice(0, 300)).toBe(200)
        const rejected =
          format === 'json'
            ? Number((JSON.parse(res.body.toString()) as { partialSuccess?: { rejectedLogRecords?: string } }).partialSuccess?.rejectedLogRecords ?? 0)
            : logsResponse(res.body).rejected
        expect(await server.flushWithin(20_000)).toBeUndefined()
        const stored = await server.rows<{ m: string; n: string | number }>(
          "SELECT attributes['fuzz.marker'] AS m, count() AS n FROM logs FINAL WHERE project_id = {p:String} AND startsWith(m, {prefix:String}) GROUP BY m",
          { p: P.project, prefix: `${SEED}-${run}-` },
        )
        expect(stored.every((r) => Number(r.n) === 1), JSON.stringify(stored)).toBe(true)
        expect(stored.length).toBe(records.length - rejected)
        expect(server.deadLetters()).toEqual([])
      }),
      { seed: SEED, numRuns: PROPERTY_RUNS },
    )
  })
})

describe('mutated protobuf bodies', () => {
  it(`get 200 or 400, never a 5xx, and cost a later valid request nothing (seed ${SEED})`, { timeout: 120_000 }, async () => {
    const base = logsProtobuf([
      { body: { content: 'hello', tool_calls: [{ id: 'c', function: { name: 'f', arguments: '{}' } }] }, traceId: 'ab'.repeat(16), spanId: 'cd'.repeat(8), attributes: { 'event.name': 'gen_ai.assistant.message' } },
      { body: 'plain', severityNumber: 9, attributes: { a: [1, 2, { b: 'c' }] } },
      { eventName: 'gen_ai.client.inference.operation.details', traceId: 'ab'.repeat(16), spanId: 'cd'.repeat(8), attributes: { 'gen_ai.output.messages': [{ role: 'assistant', parts: [{ type: 'text', content: 'x' }] }] } },
    ])
    const cases = Math.max(50, Math.floor(CASES / 10))
    const statuses = new Map<number, number>()
    for (let i = 0; i < cases; i++) {
      const rng = Rng.forCase(SEED, i)
      const body = Buffer.from(base)
      for (let k = rng.int(1, 6); k > 0; k--) {
        const at = rng.int(0, body.length - 1)
        body[at] = rng.bool(0.5) ? rng.int(0, 255) : (body[at] as number) ^ (1 << rng.int(0, 7))
      }
      const cut = rng.bool(0.2) ? body.subarray(0, rng.int(0, body.length)) : body
      const res = await post(cut, 'application/x-protobuf')
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1)
      expect([200, 400], `case ${i}: ${res.status} ${res.body.toString().slice(0, 200)}`).toContain(res.status)
    }
    console.log(`mutated logs bodies: ${JSON.stringify(Object.fromEntries(statuses))}`)
    const canary = `canary-${SEED}`
    expect((await post(logsProtobuf([{ body: canary }]), 'application/x-protobuf')).status).toBe(200)
    expect(await server.flushWithin(20_000)).toBeUndefined()
    expect(await server.rows('SELECT body FROM logs FINAL WHERE body = {b:String}', { b: canary })).toHaveLength(1)
    expect(server.deadLetters()).toEqual([])
  })
})
