// Every query route's parameters, walked: a parameter given twice, an empty value and a
// number in another notation are each a 400 naming the parameter, before any store work.
import type { ClickHouseClient } from '@clickhouse/client'
import { describe, expect, it } from 'vitest'
import { routesOver } from './helpers/routes-over.js'

/** A store that answers no rows, and counts how often it was asked. */
function emptyStore(): { client: ClickHouseClient; calls: () => number } {
  let n = 0
  const answer = async () => {
    n++
    return { json: async () => [] }
  }
  return { client: { query: answer, exec: answer, insert: answer } as unknown as ClickHouseClient, calls: () => n }
}

const TRACE = '0af7651916cd43dd8448eb211c80319c'
const encode = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url')
const cursor = encode(['1796505666355000000', 'ab'])

/** A valid value of every span filter in query-string form. */
const FILTERS: Record<string, string> = {
  from: 'now-1h',
  to: 'now',
  service: 'a',
  model: 'm',
  provider: 'p',
  operation: 'chat',
  kind: 'llm',
  name: 'n',
  status: 'ok',
  environment: 'prod',
  release: 'v1',
  userId: 'u',
  sessionId: 's',
  traceId: TRACE,
  'attr.spanlens.metadata.plan': 'free',
  'attrNum.docs': '>1',
  'resource.region': 'eu',
  q: 'refund',
  tag: 'vip',
  refusal: '1',
  minDurationMs: '10',
  maxDurationMs: '20',
  'score.feedback': '<=0',
  durationMs: '>1',
  ttftMs: '>1',
  costUsd: '>0.01',
  inputTokens: '>1',
  outputTokens: '>1',
  totalTokens: '>1',
  'group.language': 'ja',
  'not.service': 'b',
  'not.group.model': 'gpt-4o',
}

/** Every GET route with a valid value of each of its parameters. */
const ROUTES: Record<string, Record<string, string>> = {
  '/api/v1/spans': { ...FILTERS, limit: '5', cursor, io: '1' },
  '/api/v1/traces': { ...FILTERS, limit: '5', cursor, io: '1', total: '1', order: '-costUsd' },
  '/api/v1/traces?order=-durationMs': { limit: '5', cursor: encode(['-durationMs', 5, 'ab']) },
  [`/api/v1/traces/${TRACE}/logs`]: { spanId: '00f067aa0ba902b7', limit: '5' },
  '/api/v1/sessions/s1': { limit: '5' },
  '/api/v1/users/u1': { from: 'now-2d', to: 'now', bucket: '1d' },
  '/api/v1/summary': { ...FILTERS, groupBy: 'model', bucket: '1h' },
  '/api/v1/attributes': FILTERS,
  '/api/v1/metrics': { name: 'gen_ai.client.token.usage', type: 'histogram', from: 'now-1h', to: 'now', bucket: '1m', groupBy: 'k', agg: 'sum', 'attr.k': 'v', 'resource.service.name': 'svc' },
  '/api/v1/slo': { at: 'now' },
  '/api/v1/slo/check': { at: 'now' },
}

const url = (route: string, pairs: Array<[string, string]>) => `${route}${route.includes('?') ? '&' : '?'}${new URLSearchParams(pairs)}`

async function expect400(route: string, pairs: Array<[string, string]>, field: string, why?: RegExp): Promise<void> {
  const store = emptyStore()
  const app = await routesOver(store.client)
  const res = await app.inject({ method: 'GET', url: url(route, pairs) })
  const where = `${url(route, pairs)} -> ${res.body}`
  expect(res.statusCode, where).toBe(400)
  expect(res.json().error.code, where).toBe('SPANLENS_BAD_REQUEST')
  expect(res.json().error.message, where).toMatch(new RegExp(`^${field.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: `))
  if (why) expect(res.json().error.message, where).toMatch(why)
  expect(store.calls(), where).toBe(0)
  await app.close()
}

describe('a parameter given twice is a 400 naming it, on every route (the last one won)', () => {
  for (const [route, params] of Object.entries(ROUTES)) {
    it(`GET ${route}: each parameter twice`, async () => {
      for (const [k, v] of Object.entries(params)) await expect400(route, [[k, v], [k, v]], k, /expected one value/)
    })
  }
})

/** Fields whose empty value is a value: the spans without a user, a session, the attribute or the group's value. */
const EMPTY_IS_A_VALUE = new Set(['userId', 'sessionId', 'attr.spanlens.metadata.plan', 'resource.region', 'group.language', 'not.group.model'])

describe('an empty value is a 400 naming the parameter, unless the field gives empty a meaning', () => {
  for (const [route, params] of Object.entries(ROUTES)) {
    it(`GET ${route}: each parameter empty`, async () => {
      for (const k of Object.keys(params)) {
        // /metrics filters points, where an attribute's empty value is refused as before.
        const metrics = route.startsWith('/api/v1/metrics')
        if (EMPTY_IS_A_VALUE.has(k) && !metrics) continue
        // /metrics names a missing `name` first.
        await expect400(route, [...(metrics && k !== 'name' ? [['name', 'm'] as [string, string]] : []), [k, '']], k)
      }
    })
  }

  it.each([['kind', ','], ['service', ',,,'], ['service', 'a,,b'], ['model', 'a,'], ['tag', ' , '], ['not.service', ','], ['ttftMs', ','], ['groupBy', 'model,']])('GET /api/v1/traces?%s=%s', async (k, v) => {
    await expect400(k === 'groupBy' ? '/api/v1/summary' : '/api/v1/traces', [[k, v]], k)
  })

  it('answers userId=, sessionId=, attr.<key>=, resource.<key>= and group.<key>= as values, not as no condition', async () => {
    for (const k of EMPTY_IS_A_VALUE) {
      const store = emptyStore()
      const app = await routesOver(store.client)
      const res = await app.inject({ method: 'GET', url: url('/api/v1/traces', [[k, '']]) })
      expect(res.statusCode, `${k}= -> ${res.body}`).toBe(200)
      expect(store.calls()).toBeGreaterThan(0)
      await app.close()
    }
  })
})

describe('a parameter the route does not read is a 400 naming it, on every route', () => {
  it('walks every route the plugin registers, with a parameter none takes, before any store work', async () => {
    const routes: Array<{ method: string; url: string }> = []
    await routesOver(emptyStore().client, routes)
    expect(routes.length).toBeGreaterThan(15)
    const path = (url: string) => url.replace(':traceId', TRACE).replace(':sessionId', 's1').replace(':userId', 'u1')
    for (const { method, url } of routes) {
      const store = emptyStore()
      const app = await routesOver(store.client)
      const res = await app.inject({ method: method as 'GET', url: `${path(url)}?bogus=1`, ...(method === 'POST' ? { payload: {} } : {}) })
      expect(res.statusCode, `${method} ${url}`).toBe(400)
      if (method !== 'HEAD') expect(res.json().error.message, `${method} ${url}`).toMatch(new RegExp(`^bogus: not a parameter of ${url.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}, which takes `))
      expect(store.calls(), `${method} ${url}`).toBe(0)
    }
  })

  it.each([
    [`/api/v1/traces/${TRACE}?spanId=00f067aa0ba902b7`, 'spanId'],
    ['/api/v1/project?x=1', 'x'],
    ['/api/v1/traces?servce=checkout', 'servce'],
    ['/api/v1/traces?not.servce=checkout', 'not.servce'],
    ['/api/v1/metrics?name=m&nme=x', 'nme'],
    ['/api/v1/slo?name=checkout', 'name'],
  ])('GET %s', async (url, field) => {
    await expect400(url.split('?')[0] as string, [...new URLSearchParams(url.split('?')[1])], field, /not a parameter of/)
  })
})

describe('an attribute filter names an attribute: an empty key is a 400, not a filter that matches nothing', () => {
  it.each([['attr.', 'x'], ['resource.', 'x'], ['not.attr.', 'x'], ['not.resource.', 'x'], ['attrNum.', '>1']])('GET /api/v1/traces?%s=%s', async (k, v) => {
    await expect400('/api/v1/traces', [[k, v]], k, /the key must not be empty/)
  })

  it('in a body too', async () => {
    const app = await routesOver(emptyStore().client)
    const res = await app.inject({ method: 'POST', url: '/api/v1/drift', payload: { reference: { from: 'now-2d', to: 'now-1d' }, current: { from: 'now-1d', resource: { '': 'eu' } } } })
    expect(res.json().error).toEqual({ code: 'SPANLENS_BAD_REQUEST', message: 'current.resource.: the key must not be empty' })
  })
})

describe('numbers are decimal, in every parameter that takes one', () => {
  it.each([
    ['/api/v1/traces', 'minDurationMs', '0x10'],
    ['/api/v1/traces', 'maxDurationMs', '0b11'],
    ['/api/v1/traces', 'minDurationMs', 'Infinity'],
    ['/api/v1/traces', 'minDurationMs', '-1'],
    ['/api/v1/traces', 'ttftMs', '>0x10'],
    ['/api/v1/traces', 'limit', '0x10'],
    ['/api/v1/traces', 'limit', '1e2'],
    ['/api/v1/traces', 'limit', '5.0'],
    ['/api/v1/spans', 'limit', '0o7'],
    ['/api/v1/sessions/s1', 'limit', '0x10'],
    ['/api/v1/sessions/s1', 'limit', '1e2'],
    [`/api/v1/traces/${TRACE}/logs`, 'limit', '0x10'],
    [`/api/v1/traces/${TRACE}/logs`, 'limit', ' 5'],
    ['/api/v1/traces', 'group.user_prefix:0x3', 'us'],
    ['/api/v1/traces', 'group.user_prefix:1e1', 'us'],
  ])('GET %s?%s=%s is a 400 naming it', async (route, k, v) => {
    await expect400(route, [[k, v]], k)
  })

  it('reads decimal notation, exponents included, where a number may be fractional', async () => {
    for (const [k, v] of [['minDurationMs', '1.5e3'], ['maxDurationMs', '.5'], ['ttftMs', '>=1e-7']]) {
      const store = emptyStore()
      const app = await routesOver(store.client)
      const res = await app.inject({ method: 'GET', url: url('/api/v1/traces', [[k as string, v as string]]) })
      expect(res.statusCode, `${k}=${v} -> ${res.body}`).toBe(200)
      await app.close()
    }
  })
})

/** zod's pretty-printing, and its own categories where the field's reason belongs (`score.: Invalid key in record`). */
const ZOD_WORDING = /✖|→ at|Invalid (key|input|string|number|option)|Too (small|big)|received undefined|Unrecognized/

describe('a bad parameter or body field is named first, without decoration', () => {
  it.each([
    ['GET', '/api/v1/traces?ttftMs=fast', 'ttftMs'],
    ['GET', '/api/v1/traces?refusal=maybe', 'refusal'],
    ['GET', '/api/v1/traces?not.from=now-1h', 'not.from'],
    ['GET', '/api/v1/traces?not.refusal=maybe', 'not.refusal'],
    ['GET', '/api/v1/traces?score.feedback=', 'score.feedback'],
    ['GET', '/api/v1/sessions/s1?limit=0', 'limit'],
    ['GET', '/api/v1/sessions/s1?nope=1', 'nope'],
    ['GET', `/api/v1/traces/${TRACE}/logs?spanId=XYZ`, 'spanId'],
    ['GET', '/api/v1/users/u1?bucket=1d&nope=1', 'nope'],
    ['GET', '/api/v1/traces?score.=1', 'score.'],
    ['GET', '/api/v1/traces?attrNum.=>1', 'attrNum.'],
    ['GET', '/api/v1/traces?not.score.=1', 'not.score.'],
    ['GET', '/api/v1/metrics', 'name'],
    ['GET', '/api/v1/metrics?name=m&type=gauges', 'type'],
  ])('%s %s', async (method, path, field) => {
    const app = await routesOver(emptyStore().client)
    const res = await app.inject({ method: method as 'GET', url: path })
    expect(res.statusCode, res.body).toBe(400)
    expect(res.json().error.message).toMatch(new RegExp(`^${field.replace(/[.[\]]/g, '\\$&')}: `))
    expect(res.json().error.message).not.toMatch(ZOD_WORDING)
  })

  it.each([
    ['/api/v1/bias', { groupBy: 'model', outcome: 'error_rate', filter: { ttftMs: 'fast' } }, 'filter.ttftMs'],
    ['/api/v1/bias', { groupBy: 'model', outcome: 'error_rate', filter: { not: { from: 'now-1h' } } }, 'filter.not.from'],
    ['/api/v1/bias', { groupBy: 'model', outcome: 'error_rate', filter: { refusal: 'maybe' } }, 'filter.refusal'],
    ['/api/v1/bias', { groupBy: 'model', outcome: 'error_rate', filter: { service: [] } }, 'filter.service'],
    ['/api/v1/bias', { groupBy: 'model', outcome: 'error_rate', filter: { text: '' } }, 'filter.q'],
    ['/api/v1/bias', { groupBy: 'model', outcome: 'error_rate', alpha: 2 }, 'alpha'],
    ['/api/v1/bias', { groupBy: 'model', outcome: 'nope' }, 'outcome'],
    ['/api/v1/bias/counterfactual', { filter: { minDurationMs: '0x10' } }, 'filter.minDurationMs'],
    ['/api/v1/drift', { reference: { from: 'now-2d', to: 'now-1d' }, current: { from: 'now-1d', ttftMs: 'fast' } }, 'current.ttftMs'],
    ['/api/v1/drift', { reference: { from: 'yesterday' }, current: { from: 'now-1d' } }, 'reference.from'],
    ['/api/v1/drift', { reference: { from: 'now-2d' }, current: { from: 'now-1d' }, signals: ['latency', 7] }, 'signals[1]'],
    ['/api/v1/scores', { traceId: TRACE, name: '', value: 1 }, 'name'],
    ['/api/v1/scores', { traceId: 'x', name: 'n', value: 1 }, 'traceId'],
    ['/api/v1/scores', { name: 'n', value: 1 }, 'traceId'],
    ['/api/v1/drift', { reference: { from: 'now-2d' }, current: { from: 'now-1d' }, signals: ['latency', 'nope'] }, 'signals[1]'],
    ['/api/v1/drift', { reference: { from: 'now-2d' }, current: { from: 'now-1d', scores: { '': '1' } } }, 'current.score.'],
    ['/api/v1/bias', { groupBy: 'model', outcome: 'error_rate', filter: { scores: { '': 'x' } } }, 'filter.score.'],
    ['/api/v1/bias', { groupBy: 'model', outcome: 'error_rate', minGroupSize: 1.5 }, 'minGroupSize'],
    ['/api/v1/bias/counterfactual', { filter: { attributeNumbers: { '': '>1' } } }, 'filter.attrNum.'],
    ['/api/v1/sql', { query: 1 }, 'query'],
    ['/api/v1/sql', {}, 'query'],
    ['/api/v1/sql', { query: 'SELECT 1', extra: 1 }, 'extra'],
    ['/api/v1/sql', { query: ' -- nothing' }, 'query'],
  ])('POST %s %j', async (path, body, field) => {
    const app = await routesOver(emptyStore().client)
    const res = await app.inject({ method: 'POST', url: path, payload: body })
    expect(res.statusCode, res.body).toBe(400)
    expect(res.json().error.message).toMatch(new RegExp(`^${field.replace(/[.[\]]/g, '\\$&')}: `))
    expect(res.json().error.message).not.toMatch(ZOD_WORDING)
  })

  it('says a missing field or parameter is required', async () => {
    const app = await routesOver(emptyStore().client)
    expect((await app.inject({ method: 'GET', url: '/api/v1/metrics' })).json().error.message).toBe('name: required')
    expect((await app.inject({ method: 'POST', url: '/api/v1/sql', payload: {} })).json().error.message).toBe('query: required')
    expect((await app.inject({ method: 'POST', url: '/api/v1/scores', payload: { traceId: TRACE, value: 1 } })).json().error.message).toBe('name: required')
  })

  it('refuses a query past what ClickHouse parses, in bytes of UTF-8, naming query, before any store work: 90,000 three-byte characters are 270 KB', async () => {
    const store = emptyStore()
    const app = await routesOver(store.client)
    const res = await app.inject({ method: 'POST', url: '/api/v1/sql', payload: { query: `SELECT '${'€'.repeat(90_000)}'` } })
    expect(res.statusCode).toBe(400)
    expect(res.json().error).toMatchObject({ code: 'SPANLENS_BAD_REQUEST', message: expect.stringMatching(/^query: 270009 bytes of UTF-8, over the 261120 /) })
    expect(store.calls()).toBe(0)
  })

  it('refuses a text over 16 KiB in a report body, naming the field, before any store work (a served ClickHouse refuses a query parameter over 128 KiB)', async () => {
    const long = 'x'.repeat(16 * 1024 + 1)
    const window = { reference: { from: 'now-2d', to: 'now-1d' }, current: { from: 'now-1d' } }
    for (const [path, body, field] of [
      ['/api/v1/bias', { groupBy: long, outcome: 'error_rate' }, 'groupBy'],
      ['/api/v1/bias', { groupBy: 'model', outcome: 'negative_feedback_rate', score: long }, 'score'],
      ['/api/v1/bias', { groupBy: 'model', outcome: 'refusal_rate', refusalPhrases: ['no', long] }, 'refusalPhrases[1]'],
      ['/api/v1/bias', { groupBy: 'model', outcome: 'error_rate', filter: { userId: long } }, 'filter.userId'],
      ['/api/v1/bias/counterfactual', { score: long }, 'score'],
      ['/api/v1/drift', { ...window, signals: [long] }, 'signals[0]'],
      ['/api/v1/drift', { reference: 'v1', current: 'v2', dimension: long }, 'dimension'],
      ['/api/v1/drift', { reference: long, current: 'v2', dimension: 'release' }, 'reference'],
      ['/api/v1/drift', { ...window, current: { from: 'now-1d', model: [long] } }, 'current.model[0]'],
    ] as const) {
      const store = emptyStore()
      const app = await routesOver(store.client)
      const res = await app.inject({ method: 'POST', url: path, payload: body })
      expect(res.statusCode, `${path} ${field}: ${res.body.slice(0, 200)}`).toBe(400)
      expect(res.json().error.message).toMatch(new RegExp(`^${field.replace(/[.[\]]/g, '\\$&')}: .*at most 16384 characters`))
      expect(store.calls(), field).toBe(0)
    }
  })
})
