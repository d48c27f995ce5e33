import { connect } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { jsonRequest } from './helpers/otlp.js'
import { bearer, KEYS, startServer, type TestServer } from './helpers/server.js'

// Authentication is a hook on the scope that holds the data routes, so it runs
// on the route the router found, not on the URL as written: no spelling of a
// path reaches a handler without a key, and a new route is closed by default.

/** Routes that answer without a key, on purpose. Anything else must refuse. */
const PUBLIC = new Set(['GET /healthz', 'GET /readyz', 'GET /metrics', 'GET /', 'GET /*', 'HEAD /', 'HEAD /*', 'HEAD /healthz', 'HEAD /readyz', 'HEAD /metrics'])

const INGEST_KEY = 'acme-ingest-0123456789'

let server: TestServer
beforeAll(async () => {
  // With an admin key, so that its routes are walked too.
  server = await startServer({ SPANLENS_INGEST_KEYS: `acme:${INGEST_KEY}`, SPANLENS_ADMIN_KEY: 'admin-key-0123456789abcdef' })
})
afterAll(() => server?.close())

/** A concrete path for a route pattern (`:traceId` filled in). */
const concrete = (url: string) => url.replace(/:[A-Za-z]+/g, 'ab'.repeat(16))

/**
 * A route's path as the router cannot take it: a parameter longer than it takes, or a
 * percent-escape that does not decode. No route runs, yet the request is one for the
 * route, so it is refused like the route's own without a key.
 */
const unroutable = (url: string) => (url.includes('/:') ? [url.replace(/:[A-Za-z]+/g, 'x'.repeat(1100)), url.replace(/:[A-Za-z]+/g, '%E0%A4%A')] : [])

/** Each character of the path percent-encoded in turn (and all at once, in upper and lower case hex). */
function spellings(path: string): string[] {
  const enc = (c: string, lower: boolean) => {
    const hex = c.charCodeAt(0).toString(16).padStart(2, '0')
    return `%${lower ? hex : hex.toUpperCase()}`
  }
  const out = new Set<string>([path])
  for (let i = 1; i < path.length; i++) {
    if (path[i] === '/') continue
    out.add(`${path.slice(0, i)}${enc(path[i] as string, i % 2 === 0)}${path.slice(i + 1)}`)
  }
  out.add(path.replace(/[^/]/g, (c) => enc(c, false)))
  out.add(path.replace(/[^/]/g, (c) => enc(c, true)))
  return [...out]
}

/** The challenge a 401 of the route starts with: Basic on Langfuse's route, which takes Basic project:key; Bearer on every other. */
const challengeOf = (url: string) => (url === '/api/public/otel/v1/traces' ? 'Basic realm="spanlens"' : 'Bearer realm="spanlens"')

describe('every data route needs a key, however its path is spelled', () => {
  it('the server has the routes this test expects to walk', () => {
    const routes = server.app.spanlens.routes.map((r) => `${r.method} ${r.url}`)
    expect(routes).toContain('POST /v1/traces')
    expect(routes).toContain('GET /api/v1/spans')
    expect(routes).toContain('POST /api/v1/sql')
    expect(routes).toContain('POST /api/v1/admin/spool/set-aside')
  })

  it('refuses every route outside the public allow-list without a key, and with a wrong key, under any percent-encoding', async () => {
    const protectedRoutes = server.app.spanlens.routes.filter((r) => !PUBLIC.has(`${r.method} ${r.url}`) && r.method !== 'OPTIONS')
    expect(protectedRoutes.length).toBeGreaterThan(10)
    const failures: string[] = []
    for (const route of protectedRoutes) {
      for (const path of [...spellings(concrete(route.url)), ...unroutable(route.url)]) {
        for (const headers of [{}, bearer('not-a-key-0123456789')] as Array<Record<string, string>>) {
          const res = await fetch(`${server.url}${path}`, {
            method: route.method,
            headers: { 'content-type': 'application/json', ...headers },
            ...(route.method === 'GET' || route.method === 'HEAD' ? {} : { body: '{}' }),
          })
          await res.arrayBuffer()
          // 404: a spelling the router does not decode to this route never reaches a handler either.
          if (res.status !== 401 && res.status !== 404) failures.push(`${route.method} ${path} → ${res.status}`)
          // RFC 9110: every 401 says how to authenticate.
          const challenge = res.headers.get('www-authenticate') ?? ''
          if (res.status === 401 && !challenge.startsWith(challengeOf(route.url))) failures.push(`${route.method} ${path}: 401 with WWW-Authenticate ${JSON.stringify(challenge)}`)
        }
      }
    }
    expect(failures).toEqual([])
  })

  it('an encoded ingest path with a key stores the span under the key’s project', async () => {
    const body = JSON.stringify(jsonRequest([{ name: 'encoded-path' }]))
    const anonymous = await fetch(`${server.url}/%76%31/%74races`, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
    expect(anonymous.status).toBe(401)
    const keyed = await fetch(`${server.url}/%76%31/%74races`, { method: 'POST', headers: { 'content-type': 'application/json', ...bearer(KEYS.other) }, body })
    expect(keyed.status).toBe(200)
    await server.app.spanlens.flush()
    expect(await server.rows("SELECT project_id FROM spans WHERE name = 'encoded-path'")).toEqual([{ project_id: 'other' }])
  })
})

describe('a 401 says how to authenticate (WWW-Authenticate)', () => {
  const challenge = async (method: string, path: string, headers: Record<string, string> = {}) => {
    const res = await fetch(`${server.url}${path}`, { method, headers: { 'content-type': 'application/json', ...headers }, ...(method === 'POST' ? { body: '{}' } : {}) })
    await res.arrayBuffer()
    expect(res.status).toBe(401)
    return res.headers.get('www-authenticate')
  }

  it('the API the console calls, OTLP and the admin routes offer Bearer, never Basic (a browser would show its own login dialog)', async () => {
    for (const [method, path] of [['GET', '/api/v1/traces'], ['POST', '/api/v1/sql'], ['POST', '/v1/traces'], ['GET', '/api/v1/admin/spool/failing']] as const) {
      expect(await challenge(method, path), `${method} ${path}`).toBe('Bearer realm="spanlens"')
    }
  })

  it('a Bearer key refused is an invalid_token (RFC 6750); another scheme gets the plain challenge', async () => {
    expect(await challenge('GET', '/api/v1/traces', bearer('not-a-key-0123456789'))).toBe('Bearer realm="spanlens", error="invalid_token"')
    expect(await challenge('GET', '/api/v1/traces', { authorization: 'Token abc' })).toBe('Bearer realm="spanlens"')
  })

  it("Langfuse's route, which takes Basic project:key, offers Basic with the realm", async () => {
    expect(await challenge('POST', '/api/public/otel/v1/traces')).toBe('Basic realm="spanlens", charset="UTF-8"')
    const wrongProject = `Basic ${Buffer.from(`other:${KEYS.acme}`).toString('base64')}`
    expect(await challenge('POST', '/api/public/otel/v1/traces', { authorization: wrongProject })).toBe('Basic realm="spanlens", charset="UTF-8"')
  })

  it('a request the router cannot take for a keyed route (a parameter over its length) is refused with the same challenge', async () => {
    expect(await challenge('GET', `/api/v1/traces/${'x'.repeat(1100)}`)).toBe('Bearer realm="spanlens"')
  })
})

describe('a route’s path the router cannot take', () => {
  it('with an ingest key, on a route that reads, is a 403 like the route’s own', async () => {
    const failures: string[] = []
    for (const route of server.app.spanlens.routes.filter((r) => r.url.startsWith('/api/v1/') && r.url.includes('/:') && r.method === 'GET')) {
      for (const path of unroutable(route.url)) {
        const res = await fetch(`${server.url}${path}`, { headers: bearer(INGEST_KEY) })
        const { error } = (await res.json()) as { error: { code: string } }
        if (res.status !== 403 || error.code !== 'SPANLENS_FORBIDDEN') failures.push(`GET ${path.slice(0, 40)} → ${res.status} ${error.code}`)
      }
    }
    expect(failures).toEqual([])
  })
})

describe('a path whose routes take other methods', () => {
  it.each([
    ['GET', '/v1/traces', 'POST'],
    ['PUT', '/v1/metrics', 'POST'],
    ['GET', '/api/v1/drift', 'POST'],
    ['DELETE', `/api/v1/traces/${'ab'.repeat(16)}`, 'GET'],
    ['POST', '/healthz', 'GET'],
  ])('%s %s is a 405 naming the method to use, not a 404', async (method, path, allow) => {
    const res = await fetch(`${server.url}${path}`, { method, headers: bearer(KEYS.acme) })
    expect(res.status).toBe(405)
    expect(res.headers.get('allow')).toBe(allow)
    const body = (await res.json()) as { error: { code: string; message: string } }
    expect(body.error).toEqual({ code: 'SPANLENS_METHOD_NOT_ALLOWED', message: `${path} takes ${allow}, not ${method}` })
  })

  it.each([
    ['GET', `/api/v1/traces/${'x'.repeat(1100)}`, 'traceId'],
    ['GET', `/api/v1/traces/${'x'.repeat(1100)}/logs`, 'traceId'],
    ['GET', `/api/v1/sessions/${'x'.repeat(1100)}`, 'sessionId'],
    ['GET', `/api/v1/users/${'%C3%A9'.repeat(1100)}`, 'userId'],
    ['HEAD', `/api/v1/users/${'x'.repeat(5000)}`, 'userId'],
  ])('%s of a route path with a parameter over the router’s length is a 400 naming it, never a 405 for its own method', async (method, path, param) => {
    const res = await fetch(`${server.url}${path}`, { method, headers: bearer(KEYS.acme) })
    expect(res.status).toBe(400)
    expect(res.headers.get('allow')).toBeNull()
    if (method === 'HEAD') return
    const { error } = (await res.json()) as { error: { code: string; message: string } }
    expect(error.code).toBe('SPANLENS_BAD_REQUEST')
    expect(error.message).toMatch(new RegExp(`^${param}: \\d+ characters, over the \\d+ `))
  })

  it('a parameter over the router’s length on a route of other methods stays a 405', async () => {
    const res = await fetch(`${server.url}/api/v1/traces/${'x'.repeat(1100)}`, { method: 'DELETE', headers: bearer(KEYS.acme) })
    expect(res.status).toBe(405)
    expect(res.headers.get('allow')).toBe('GET')
  })

  it('a path no route has, or a route path with a trailing slash, stays a 404', async () => {
    for (const [method, path] of [['GET', '/v1/nothing'], ['POST', '/v1/traces/'], ['POST', '/api/v1/drift/x']]) {
      const res = await fetch(`${server.url}${path}`, { method, headers: { ...bearer(KEYS.acme), 'content-type': 'application/json' }, ...(method === 'POST' ? { body: '{}' } : {}) })
      expect(res.status, `${method} ${path}`).toBe(404)
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('SPANLENS_NOT_FOUND')
    }
  })
})

describe("requests Node's HTTP parser refuses before any route", () => {
  /** The raw reply to `request` written on a socket of its own. */
  const raw = (request: Buffer | string) =>
    new Promise<string>((resolve, reject) => {
      const { port } = new URL(server.url)
      const socket = connect(Number(port), '127.0.0.1', () => socket.end(request))
      const chunks: Buffer[] = []
      socket.on('data', (c: Buffer) => chunks.push(c))
      socket.on('close', () => resolve(Buffer.concat(chunks).toString('utf8')))
      socket.on('error', reject)
    })
  const bodyOf = (reply: string) => JSON.parse(reply.slice(reply.indexOf('\r\n\r\n') + 4)) as { error: { code: string; message: string } }

  it('headers over the limit are a 431 with the catalogue code, not the HTTP framework shape', async () => {
    const res = await fetch(`${server.url}/api/v1/traces`, { headers: { ...bearer(KEYS.acme), 'x-big': 'a'.repeat(20_000) } })
    expect(res.status).toBe(431)
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('SPANLENS_HEADERS_TOO_LARGE')
  })

  it('a raw non-ASCII byte in the URL is a 400 naming the fault', async () => {
    const reply = await raw(Buffer.concat([Buffer.from('GET /api/v1/traces?text='), Buffer.from('ü'), Buffer.from(' HTTP/1.1\r\nHost: x\r\n\r\n')]))
    expect(reply).toMatch(/^HTTP\/1\.1 400 /)
    const { error } = bodyOf(reply)
    expect(error.code).toBe('SPANLENS_BAD_REQUEST')
    expect(error.message).toMatch(/^malformed HTTP request: .*percent-encoded/)
  })

  it('a header line without a colon is a 400 in the same shape', async () => {
    const reply = await raw('GET /healthz HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n')
    expect(reply).toMatch(/^HTTP\/1\.1 400 /)
    expect(bodyOf(reply).error.code).toBe('SPANLENS_BAD_REQUEST')
  })
})

describe("the router's own refusals", () => {
  it.each(['/api/v1/traces/%E0%A4%A', '/api/v1/sessions/%FF'])('%s, whose percent-encoding does not decode, is a 400 in the catalogue shape', async (path) => {
    const res = await fetch(`${server.url}${path}`, { headers: bearer(KEYS.acme) })
    expect(res.status).toBe(400)
    const { error } = (await res.json()) as { error: { code: string; message: string } }
    expect(error.code).toBe('SPANLENS_BAD_REQUEST')
    expect(error.message).toMatch(/^malformed URL: /)
  })

  it.each(['/traces/%ZZ', '/users/%E0%A4%A'])("%s, a console page whose escape does not decode, gets the console's page, not the API's JSON", async (path) => {
    const page = await fetch(`${server.url}/traces/abc`)
    const res = await fetch(`${server.url}${path}`)
    expect(res.status).toBe(page.status)
    expect(res.headers.get('content-type')).toMatch(/^text\/html/)
    expect(await res.text()).toBe(await page.text())
  })
})
