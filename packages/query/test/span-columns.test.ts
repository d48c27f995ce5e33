import Fastify, { type FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Store } from '@spanlens/ingest'
import { queryRoutes, SPAN_KINDS } from '../src/index.js'
import { insertSpans, openStore, span, traceId } from './helpers/store.js'

let store: Store
let close: () => Promise<void>
let app: FastifyInstance
const TRACE = traceId(424_242)
const auth = { authorization: 'Bearer p1' }

beforeAll(async () => {
  ;({ store, close } = await openStore())
  await insertSpans(store, [
    span({
      trace_id: TRACE,
      span_id: '00000000000c0de1',
      input_tokens: 1200,
      output_tokens: 300,
      total_tokens: 1500,
      cache_read_tokens: 1024,
      cache_write_tokens: 96,
      reasoning_tokens: 128,
      input: 'in',
      output: 'out',
    }),
  ])
  app = Fastify()
  app.addHook('onRequest', async (request) => {
    if (request.headers.authorization === auth.authorization) request.spanlensProject = 'p1'
  })
  await app.register(queryRoutes, {
    prefix: '/api/v1',
    client: store.client,
    database: store.database,
    mode: 'embedded',
    sql: { maxExecutionSeconds: 5, maxMemoryBytes: 256 * 1024 * 1024, maxResultRows: 1000, maxResultBytes: 64 * 1024 * 1024 },
    queryLimits: { maxExecutionSeconds: 30, maxMemoryBytes: 1024 * 1024 * 1024 },
  })
})
afterAll(async () => {
  await app.close()
  await close()
})

const TOKENS = { input: 1200, output: 300, total: 1500, cacheRead: 1024, cacheWrite: 96, reasoning: 128 }

describe('span fields in the query API', () => {
  it('a listed span carries every stored token count, cache writes included', async () => {
    const res = await app.inject({ method: 'GET', url: `/api/v1/spans?traceId=${TRACE}&io=1`, headers: auth })
    expect(res.statusCode).toBe(200)
    const [item] = res.json().items
    expect(item.tokens).toEqual(TOKENS)
    expect(item).toMatchObject({ traceId: TRACE, spanId: '00000000000c0de1', kind: 'llm', input: 'in', output: 'out' })
  })

  it("a trace's spans carry them too, and the trace's totals sum each of them", async () => {
    const res = await app.inject({ method: 'GET', url: `/api/v1/traces/${TRACE}`, headers: auth })
    expect(res.statusCode).toBe(200)
    expect(res.json().roots[0].tokens).toEqual(TOKENS)
    expect(res.json().totals.tokens).toEqual(TOKENS)
    const listed = await app.inject({ method: 'GET', url: `/api/v1/traces?traceId=${TRACE}`, headers: auth })
    expect(listed.json().items[0].tokens).toEqual(TOKENS)
  })

  it('filters by any span kind, and refuses a kind that does not exist with 400', async () => {
    const every = await app.inject({ method: 'GET', url: `/api/v1/spans?traceId=${TRACE}&kind=${SPAN_KINDS.join(',')}`, headers: auth })
    expect(every.statusCode).toBe(200)
    expect(every.json().items).toHaveLength(1)
    const bad = await app.inject({ method: 'GET', url: `/api/v1/spans?kind=LLM`, headers: auth })
    expect(bad.statusCode).toBe(400)
    expect(bad.json().error.code).toBe('SPANLENS_BAD_REQUEST')
  })
})
