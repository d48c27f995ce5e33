import type { ClickHouseClient } from '@clickhouse/client'
import Fastify, { type FastifyInstance } from 'fastify'
import { afterEach, describe, expect, it } from 'vitest'
import { clickHouseErrorType, errors, queryRoutes, replyWithError, toSpanlensError } from '../src/index.js'

describe('toSpanlensError, the one mapping of foreign errors', () => {
  it('passes ours through', () => {
    const ours = errors.SQL_FORBIDDEN('no')
    expect(toSpanlensError(ours)).toBe(ours)
  })

  it.each([
    ['FST_ERR_CTP_INVALID_MEDIA_TYPE', 415, 'Unsupported Media Type: application/xml', errors.UNSUPPORTED_MEDIA_TYPE.code],
    ['FST_ERR_CTP_BODY_TOO_LARGE', 413, 'Request body is too large', errors.BODY_TOO_LARGE.code],
    ['FST_ERR_CTP_EMPTY_JSON_BODY', 400, "Body cannot be empty when content-type is set to 'application/json'", errors.BAD_REQUEST.code],
    ['FST_ERR_VALIDATION', 400, 'body must be object', errors.BAD_REQUEST.code],
  ])("gives Fastify's %s (%i) our code %s", (fst, status, message, code) => {
    const err = Object.assign(new Error(message), { code: fst, statusCode: status })
    const e = toSpanlensError(err)
    expect([e.code, e.statusCode]).toEqual([code, status])
    expect(e.cause).toBe(err)
  })

  it('keeps the status of any other client error as SPANLENS_BAD_REQUEST', () => {
    const e = toSpanlensError(Object.assign(new SyntaxError('Unexpected token'), { statusCode: 400 }))
    expect([e.code, e.statusCode]).toEqual([errors.BAD_REQUEST.code, 400])
  })

  it('makes a ClickHouse exception 502 SPANLENS_QUERY_FAILED naming only its type', () => {
    const err = Object.assign(new Error('Code: 241. DB::Exception: Memory limit exceeded: detail'), { code: '241', type: 'MEMORY_LIMIT_EXCEEDED' })
    const e = toSpanlensError(err)
    expect([e.code, e.statusCode]).toEqual([errors.QUERY_FAILED.code, 502])
    expect(e.message).toContain('MEMORY_LIMIT_EXCEEDED')
    expect(e.message).not.toContain('detail')
    expect(e.cause).toBe(err)
  })

  it("makes clickhouse-js's request timeout 503 SPANLENS_STORE_UNREACHABLE naming SPANLENS_CLICKHOUSE_REQUEST_TIMEOUT_MS", () => {
    const e = toSpanlensError(new Error('Timeout error.'))
    expect([e.code, e.statusCode, e.retryAfterSeconds]).toEqual([errors.STORE_UNREACHABLE.code, 503, 5])
    expect(e.message).toContain('SPANLENS_CLICKHOUSE_REQUEST_TIMEOUT_MS')
  })

  it('makes a refused connection 503 SPANLENS_STORE_UNREACHABLE with Retry-After, without the address', () => {
    const e = toSpanlensError(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:8123'), { code: 'ECONNREFUSED' }))
    expect([e.code, e.statusCode, e.retryAfterSeconds]).toEqual([errors.STORE_UNREACHABLE.code, 503, 5])
    expect(e.message).toContain('ECONNREFUSED')
    expect(e.message).not.toContain('127.0.0.1')
  })

  it.each([
    ['a TypeError', new TypeError("Cannot read properties of undefined (reading 'x')")],
    ['a Fastify 500', Object.assign(new Error('Reply was already sent'), { code: 'FST_ERR_REP_ALREADY_SENT', statusCode: 500 })],
    ['a thrown string', 'boom'],
  ])('makes %s a bug: 500 SPANLENS_INTERNAL saying nothing more, cause kept', (_name, err) => {
    const e = toSpanlensError(err)
    expect([e.code, e.statusCode, e.message]).toEqual([errors.INTERNAL.code, 500, 'internal error'])
    expect(e.cause).toBe(err)
  })
})

describe('clickHouseErrorType names a ClickHouse error by its type, not its number', () => {
  it.each([
    ['clickhouse-js type', Object.assign(new Error('Code: 159. DB::Exception: Timeout exceeded'), { code: '159', type: 'TIMEOUT_EXCEEDED' }), 'TIMEOUT_EXCEEDED'],
    ['the end of the message', new Error('Code: 241. DB::Exception: Memory limit exceeded. (MEMORY_LIMIT_EXCEEDED)'), 'MEMORY_LIMIT_EXCEEDED'],
    ["before a server's version", new Error('Code: 252. DB::Exception: Too many parts. (TOO_MANY_PARTS) (version 25.3.1.1 (official build))'), 'TOO_MANY_PARTS'],
    ['a network error', Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), undefined],
  ])('from %s', (_name, err, type) => {
    expect(clickHouseErrorType(err)).toBe(type)
  })
})

/** A reply that records what the handler did. */
function recordingReply() {
  const logged: Array<{ obj: { err?: unknown }; msg: string }> = []
  const headers: Record<string, string> = {}
  const sent: { status?: number; body?: unknown } = {}
  const reply = {
    log: { error: (obj: { err?: unknown }, msg: string) => void logged.push({ obj, msg }), warn: (obj: { err?: unknown }, msg: string) => void logged.push({ obj, msg }) },
    header(name: string, value: string) {
      headers[name] = value
      return reply
    },
    code(status: number) {
      sent.status = status
      return reply
    },
    send(body: unknown) {
      sent.body = body
      return reply
    },
  }
  return { reply, logged, headers, sent }
}

describe('replyWithError, the handler of the root and the query API', () => {
  it('logs a 5xx as { err }, the original with its stack, and replies { error: { code, message } }', () => {
    const { reply, logged, sent } = recordingReply()
    const bug = new TypeError('x is undefined')
    replyWithError(bug, reply)
    expect(logged).toHaveLength(1)
    expect(logged[0]?.obj.err).toBe(bug)
    expect(sent).toEqual({ status: 500, body: { error: { code: errors.INTERNAL.code, message: 'internal error' } } })
  })

  it('does not log a client error', () => {
    const { reply, logged, sent } = recordingReply()
    replyWithError(errors.BAD_REQUEST('limit: expected a number'), reply)
    expect(logged).toEqual([])
    expect(sent.status).toBe(400)
  })

  it('sends Retry-After for an error that has one', () => {
    const { reply, headers, sent } = recordingReply()
    replyWithError(errors.QUERY_BUSY('5 waiting', { retryAfterSeconds: 7 }), reply)
    expect(headers['retry-after']).toBe('7')
    expect(sent.status).toBe(429)
  })
})

describe('query API replies to what Fastify refuses', () => {
  let app: FastifyInstance | undefined
  afterEach(async () => {
    await app?.close()
    app = undefined
  })

  async function routes(bodyLimit?: number): Promise<FastifyInstance> {
    app = Fastify(bodyLimit === undefined ? {} : { bodyLimit })
    app.addHook('onRequest', async (request) => {
      request.spanlensProject = 'p1'
    })
    const never = async () => Promise.reject(new Error('no store in this test'))
    await app.register(queryRoutes, {
      prefix: '/api/v1',
      client: { query: never, exec: never, insert: never } as unknown as ClickHouseClient,
      database: 'spanlens',
      mode: 'remote',
      sql: { maxExecutionSeconds: 1, maxMemoryBytes: 64 * 1024 * 1024, maxResultRows: 10, maxResultBytes: 64 * 1024 * 1024 },
      queryLimits: { maxExecutionSeconds: 30, maxMemoryBytes: 1024 * 1024 * 1024 },
    })
    return app
  }

  it('a body that is not JSON is 415 SPANLENS_UNSUPPORTED_MEDIA_TYPE', async () => {
    const res = await (await routes()).inject({ method: 'POST', url: '/api/v1/sql', headers: { 'content-type': 'application/xml' }, payload: '<q/>' })
    expect([res.statusCode, res.json().error.code]).toEqual([415, errors.UNSUPPORTED_MEDIA_TYPE.code])
  })

  it('a body over the limit is 413 SPANLENS_BODY_TOO_LARGE', async () => {
    const res = await (await routes()).inject({ method: 'POST', url: '/api/v1/sql', payload: { query: `SELECT '${'x'.repeat(2 * 1024 * 1024)}'` } })
    expect([res.statusCode, res.json().error.code]).toEqual([413, errors.BODY_TOO_LARGE.code])
  })

  it('each route reads the body its largest request needs, whatever the server’s own limit', async () => {
    const api = await routes(64 * 1024 * 1024)
    const over: Array<[string, number]> = [
      ['/api/v1/sql', 1024 * 1024],
      ['/api/v1/scores', 1024 * 1024],
      ['/api/v1/drift', 256 * 1024],
      ['/api/v1/bias', 256 * 1024],
      ['/api/v1/bias/counterfactual', 256 * 1024],
    ]
    for (const [url, limit] of over) {
      const res = await api.inject({ method: 'POST', url, headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ pad: 'x'.repeat(limit) }) })
      expect([url, res.statusCode, res.json().error.code]).toEqual([url, 413, errors.BODY_TOO_LARGE.code])
      expect(res.json().error.message).toBe(`request body is over the ${limit} bytes ${url} takes`)
    }
  })

  it('malformed JSON is 400 SPANLENS_BAD_REQUEST', async () => {
    const res = await (await routes()).inject({ method: 'POST', url: '/api/v1/sql', headers: { 'content-type': 'application/json' }, payload: '{"query":' })
    expect([res.statusCode, res.json().error.code]).toEqual([400, errors.BAD_REQUEST.code])
  })
})
