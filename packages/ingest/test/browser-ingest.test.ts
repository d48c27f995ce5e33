import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { grpcCall, listenGrpc } from './helpers/grpc.js'
import { jsonRequest, protobufRequest } from './helpers/otlp.js'
import { API_KEYS, bearer, KEYS, startServer, type TestServer } from './helpers/server.js'

// A web page sends its own spans and its users' feedback: with a key that can only
// send (SPANLENS_INGEST_KEYS, safe to ship in the page) and from an origin the server
// lists (SPANLENS_CORS_ORIGINS), as the Collector's OTLP receiver allows with `cors`.

const PAGE_KEY = 'acme-page-key-0123456789'
const APP = 'https://app.example.com'

let server: TestServer
beforeAll(async () => {
  server = await startServer({
    SPANLENS_API_KEYS: API_KEYS,
    SPANLENS_INGEST_KEYS: `acme:${PAGE_KEY}`,
    SPANLENS_CORS_ORIGINS: `${APP},https://*.example.org,http://localhost:5173`,
    SPANLENS_CORS_HEADERS: 'x-tenant',
    SPANLENS_GRPC_PORT: '0',
  })
})
afterAll(() => server?.close())

const preflight = (path: string, origin: string, headers = 'content-type,authorization') =>
  fetch(`${server.url}${path}`, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': headers } })

const INGEST_PATHS = ['/v1/traces', '/v1/logs', '/v1/metrics', '/api/public/otel/v1/traces', '/api/v1/scores']

describe('a browser on a listed origin', () => {
  it('gets a preflight grant on every route that takes data in', async () => {
    for (const path of INGEST_PATHS) {
      for (const origin of [APP, 'https://shop.eu.example.org', 'http://localhost:5173']) {
        const res = await preflight(path, origin)
        expect(res.status, `${path} ${origin}`).toBe(204)
        expect(res.headers.get('access-control-allow-origin')).toBe(origin)
        expect(res.headers.get('access-control-allow-methods')).toBe('POST')
        expect(res.headers.get('access-control-allow-headers')).toBe('authorization, content-type, content-encoding, x-request-id, x-tenant')
        expect(res.headers.get('access-control-max-age')).toBe('7200')
        expect(res.headers.get('vary')).toBe('Origin')
      }
    }
  })

  it('sends spans with an ingest key, reads the reply, and the spans land in the key’s project', async () => {
    const name = `page-load-${randomUUID()}`
    const json = await fetch(`${server.url}/v1/traces`, {
      method: 'POST',
      headers: { origin: APP, 'content-type': 'application/json', ...bearer(PAGE_KEY) },
      body: JSON.stringify(jsonRequest([{ name }], 'web-page')),
    })
    expect(json.status).toBe(200)
    expect(json.headers.get('access-control-allow-origin')).toBe(APP)
    expect(json.headers.get('access-control-expose-headers')).toBe('retry-after, www-authenticate')
    const proto = await fetch(`${server.url}/v1/traces`, {
      method: 'POST',
      headers: { origin: APP, 'content-type': 'application/x-protobuf', ...bearer(PAGE_KEY) },
      body: protobufRequest(jsonRequest([{ name }], 'web-page')),
    })
    expect(proto.status).toBe(200)
    expect(proto.headers.get('access-control-allow-origin')).toBe(APP)
    await server.app.spanlens.flush()
    expect(await server.rows('SELECT project_id, service_name FROM spans WHERE name = {name:String}', { name })).toEqual([
      { project_id: 'acme', service_name: 'web-page' },
      { project_id: 'acme', service_name: 'web-page' },
    ])
  })

  it('reads a refusal too: a missing key’s 401, with its challenge, and a bad body’s 400 carry the grant', async () => {
    const noKey = await fetch(`${server.url}/v1/traces`, { method: 'POST', headers: { origin: APP, 'content-type': 'application/json' }, body: '{}' })
    expect(noKey.status).toBe(401)
    expect(noKey.headers.get('access-control-allow-origin')).toBe(APP)
    // The challenge is the page's to read: a browser hides a header the grant does not expose.
    expect(noKey.headers.get('www-authenticate')).toBe('Bearer realm="spanlens"')
    expect(noKey.headers.get('access-control-expose-headers')?.split(/,\s*/)).toContain('www-authenticate')
    const bad = await fetch(`${server.url}/api/v1/scores`, { method: 'POST', headers: { origin: APP, 'content-type': 'application/json', ...bearer(PAGE_KEY) }, body: '{"name":1}' })
    expect(bad.status).toBe(400)
    expect(bad.headers.get('access-control-allow-origin')).toBe(APP)
    expect(((await bad.json()) as { error: { code: string } }).error.code).toBe('SPANLENS_BAD_REQUEST')
  })

  it('sends a score with an ingest key', async () => {
    const name = `thumbs-${randomUUID()}`
    const res = await fetch(`${server.url}/api/v1/scores`, {
      method: 'POST',
      headers: { origin: APP, 'content-type': 'application/json', ...bearer(PAGE_KEY) },
      body: JSON.stringify({ traceId: '0102030405060708090a0b0c0d0e0f10', name, value: 1, source: 'user' }),
    })
    expect(res.status).toBe(201)
    expect(res.headers.get('access-control-allow-origin')).toBe(APP)
    const scores = await fetch(`${server.url}/api/v1/sql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...bearer(KEYS.acme) },
      body: JSON.stringify({ query: `SELECT value FROM scores WHERE name = '${name}'` }),
    })
    expect(((await scores.json()) as { data: unknown[] }).data).toEqual([{ value: 1 }])
  })
})

describe('what stays closed', () => {
  it('an ingest key reads nothing: every other data route is a 403 naming what it may do', async () => {
    const readRoutes = server.app.spanlens.routes.filter((r) => r.url.startsWith('/api/v1/') && r.method !== 'OPTIONS' && r.method !== 'HEAD' && r.url !== '/api/v1/scores')
    expect(readRoutes.length).toBeGreaterThan(10)
    for (const route of readRoutes) {
      const res = await fetch(`${server.url}${route.url.replace(/:[A-Za-z]+/g, 'ab'.repeat(16))}`, {
        method: route.method,
        headers: { origin: APP, 'content-type': 'application/json', ...bearer(PAGE_KEY) },
        ...(route.method === 'GET' ? {} : { body: '{"query":"SELECT 1"}' }),
      })
      const body = (await res.json()) as { error: { code: string; message: string } }
      expect(res.status, `${route.method} ${route.url}`).toBe(403)
      expect(body.error.code).toBe('SPANLENS_FORBIDDEN')
      expect(body.error.message).toBe(`an ingest key only sends data (OTLP, POST /api/v1/scores); ${route.method} ${route.url} needs a key from SPANLENS_API_KEYS`)
      // Reading routes never grant a browser: the console is same-origin.
      expect(res.headers.get('access-control-allow-origin')).toBeNull()
    }
  })

  it('a full key still reads, and the ingest key sends over gRPC too', async () => {
    const res = await fetch(`${server.url}/api/v1/project`, { headers: bearer(KEYS.acme) })
    expect(await res.json()).toEqual({ project: 'acme' })
    const name = `grpc-page-${randomUUID()}`
    const reply = await grpcCall(await listenGrpc(server.app), protobufRequest(jsonRequest([{ name }])), { authorization: `Bearer ${PAGE_KEY}` })
    expect(reply.code).toBe(0)
    await server.app.spanlens.flush()
    expect(await server.rows('SELECT project_id FROM spans WHERE name = {name:String}', { name })).toEqual([{ project_id: 'acme' }])
  })

  it('an unlisted origin gets a 403 preflight saying why, and no grant on its requests', async () => {
    for (const origin of ['https://evil.test', 'https://example.org', 'http://app.example.com', 'https://app.example.com.evil.test', 'null']) {
      const res = await preflight('/v1/traces', origin)
      expect(res.status, origin).toBe(403)
      expect(res.headers.get('access-control-allow-origin')).toBeNull()
      expect(await res.json()).toEqual({
        error: { code: 'SPANLENS_ORIGIN_NOT_ALLOWED', message: `origin ${JSON.stringify(origin)} may not send here: it is not in SPANLENS_CORS_ORIGINS` },
      })
      const post = await fetch(`${server.url}/v1/traces`, { method: 'POST', headers: { origin, 'content-type': 'application/json', ...bearer(PAGE_KEY) }, body: '{}' })
      expect(post.status).toBe(200)
      expect(post.headers.get('access-control-allow-origin')).toBeNull()
      expect(post.headers.get('vary')).toBe('Origin')
    }
  })

  it('OPTIONS without an Origin is plain HTTP: the methods the path takes', async () => {
    const res = await fetch(`${server.url}/v1/logs`, { method: 'OPTIONS' })
    expect(res.status).toBe(204)
    expect(res.headers.get('allow')).toBe('OPTIONS, POST')
    // A reading route has no preflight: 405 as for any other method it does not take.
    const read = await fetch(`${server.url}/api/v1/traces`, { method: 'OPTIONS', headers: { origin: APP } })
    expect(read.status).toBe(405)
    expect(read.headers.get('allow')).toBe('GET')
  })
})

describe('a server without SPANLENS_CORS_ORIGINS', () => {
  let closed: TestServer
  beforeAll(async () => {
    // One embedded store per process: the second server shares the first's.
    closed = await startServer({}, { store: server.app.spanlens.store })
  })
  afterAll(() => closed?.close())

  it('refuses every preflight naming the setting, and grants nothing', async () => {
    const res = await fetch(`${closed.url}/v1/traces`, { method: 'OPTIONS', headers: { origin: APP, 'access-control-request-method': 'POST' } })
    expect(res.status).toBe(403)
    expect(((await res.json()) as { error: { message: string } }).error.message).toBe(
      `origin "${APP}" may not send here: SPANLENS_CORS_ORIGINS is not set, so no browser may send here`,
    )
    const post = await fetch(`${closed.url}/v1/traces`, { method: 'POST', headers: { origin: APP, 'content-type': 'application/json', ...bearer(KEYS.acme) }, body: '{}' })
    expect(post.status).toBe(200)
    expect(post.headers.get('access-control-allow-origin')).toBeNull()
    expect(post.headers.get('vary')).toBeNull()
  })
})
