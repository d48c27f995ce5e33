/**
 * What the server's memory of earlier trace requests costs on the path that
 * prepares them, in one process: preparing a request (decode, normalize,
 * encode: prepare-traces.ts), its fingerprint (repeated-requests.ts: sha1 of
 * the whole body; it is part of preparing, measured again alone), and matching its model calls
 * against the recent ones (recent-model-calls.ts: on the event loop, after
 * preparing). The requests are the ingest bench's (payload.ts: 100 LLM spans,
 * each its own trace, fresh ids per request), so every call is remembered and
 * the memory runs full (50,000 calls) after the first 500 requests.
 *
 *   cd bench && node --conditions=@spanlens/source --import tsx ingest/request-memory.ts [requests] [rounds]
 */
import { PriceTable } from '../../packages/ingest/src/normalize/cost.js'
import { prepareTraces } from '../../packages/ingest/src/pipeline/prepare-traces.js'
import { RecentModelCalls } from '../../packages/ingest/src/pipeline/recent-model-calls.js'
import { bodyFingerprint } from '../../packages/ingest/src/pipeline/repeated-requests.js'
import { createPayloadFactory } from './payload.js'

const REQUESTS = Number(process.argv[2] ?? 2000)
const ROUNDS = Number(process.argv[3] ?? 3)
const factory = createPayloadFactory(100)
const bodies = Array.from({ length: REQUESTS }, () => factory.next())
const ctx = { prices: PriceTable.load(undefined) }
const memory = new RecentModelCalls()
const us = (ns: bigint, n: number) => (Number(ns) / n / 1000).toFixed(2)

console.log(`command: cd bench && node --conditions=@spanlens/source --import tsx ingest/request-memory.ts ${REQUESTS} ${ROUNDS}`)
console.log(`requests: ${REQUESTS} of ${factory.spansPerRequest} spans, ${factory.bytes} bytes each`)
console.log('| round | prepare, µs per request | of which the fingerprint | recent model calls | remembered |')
console.log('|---|---:|---:|---:|---:|')
for (let round = 1; round <= ROUNDS; round++) {
  let prepare = 0n
  let fingerprint = 0n
  let reconcile = 0n
  for (let i = 0; i < bodies.length; i++) {
    const body = bodies[i] as Buffer
    const t0 = process.hrtime.bigint()
    const prepared = prepareTraces('protobuf', body, 'bench', ctx)
    const t1 = process.hrtime.bigint()
    memory.reconcile('bench', prepared.modelCalls ?? [])
    const t2 = process.hrtime.bigint()
    bodyFingerprint(body)
    const t3 = process.hrtime.bigint()
    prepare += t1 - t0
    reconcile += t2 - t1
    fingerprint += t3 - t2
  }
  const n = bodies.length
  console.log(`| ${round} | ${us(prepare, n)} | ${us(fingerprint, n)} | ${us(reconcile, n)} | ${memory.size} |`)
}
