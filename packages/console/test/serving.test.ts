import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { brotliDecompressSync, gunzipSync } from 'node:zlib'
import Fastify from 'fastify'
import { afterAll, describe, expect, it } from 'vitest'
import { consoleRoutes, isReserved } from '../src/index.js'
import { pickEncoding } from '../src/encoding.js'

const dirs: string[] = []
const temp = () => {
  const d = mkdtempSync(join(tmpdir(), 'spanlens-console-assets-'))
  dirs.push(d)
  return d
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

async function serve(assetsDir: string) {
  const app = Fastify()
  app.setNotFoundHandler((_req, reply) => reply.code(404).send({ error: { code: 'SPANLENS_NOT_FOUND', message: 'no route' } }))
  await app.register(consoleRoutes, { assetsDir })
  return app
}

describe('console routes', () => {
  it('still answers when the bundle was never built, saying how to build it', async () => {
    const app = await serve(temp())
    const res = await app.inject({ method: 'GET', url: '/' })
    expect(res.statusCode).toBe(503)
    expect(res.headers['content-type']).toMatch(/text\/html/)
    expect(res.body).toContain('pnpm@10.34.8 build')
    expect((await app.inject({ method: 'GET', url: '/traces' })).statusCode).toBe(503)
    expect((await app.inject({ method: 'GET', url: '/api/v1/traces' })).json().error.code).toBe('SPANLENS_NOT_FOUND')
  })

  it('serves files, falls back to index.html for client routes, and never leaves its directory', async () => {
    const root = temp()
    const dir = join(root, 'web')
    mkdirSync(join(dir, 'assets'), { recursive: true })
    writeFileSync(join(dir, 'index.html'), '<!doctype html><div id="app"></div>')
    writeFileSync(join(dir, 'assets', 'app-1234.js'), 'console.log(1)')
    writeFileSync(join(root, 'secret.txt'), 'secret')
    const app = await serve(dir)
    const js = await app.inject({ method: 'GET', url: '/assets/app-1234.js' })
    expect(js.headers['content-type']).toMatch(/javascript/)
    expect(js.headers['cache-control']).toContain('immutable')
    expect((await app.inject({ method: 'GET', url: '/traces/abc?x=1' })).body).toContain('id="app"')
    expect((await app.inject({ method: 'GET', url: '/assets/gone.js' })).statusCode).toBe(404)
    for (const url of ['/../secret.txt', '/..%2fsecret.txt', '/%2e%2e/secret.txt', '/assets/..%2f..%2fsecret.txt']) {
      expect((await app.inject({ method: 'GET', url })).body).not.toContain('secret')
    }
    for (const url of ['/v1/traces', '/api/v1/nope', '/healthz', '/readyz', '/metrics']) {
      expect((await app.inject({ method: 'GET', url })).statusCode).toBe(404)
    }
  })

  it("the app shell's CSP also locks what default-src leaves open: <base>, form targets and framing", async () => {
    const dir = join(temp(), 'web')
    mkdirSync(dir, { recursive: true })
    writeFileSync(join(dir, 'index.html'), '<!doctype html><div id="app"></div>')
    const app = await serve(dir)
    for (const url of ['/', '/traces/abc']) {
      const header = String((await app.inject({ method: 'GET', url })).headers['content-security-policy'])
      const directives = Object.fromEntries(header.split(';').map((d) => d.trim().split(/\s+/)).map(([name, ...values]) => [name, values.join(' ')]))
      expect(directives).toEqual({
        'default-src': "'self'",
        'style-src': "'self' 'unsafe-inline'",
        'img-src': "'self' data:",
        'base-uri': "'none'",
        'form-action': "'self'",
        'frame-ancestors': "'none'",
      })
    }
  })

  it('every reply carries the page’s CSP and nosniff, whatever URL names the file', async () => {
    const root = temp()
    const dir = join(root, 'web')
    mkdirSync(join(dir, 'assets'), { recursive: true })
    writeFileSync(join(dir, 'index.html'), '<!doctype html><div id="app"></div>')
    writeFileSync(join(dir, 'assets', 'app-1.js'), 'x()')
    writeFileSync(join(dir, 'assets', 'app-1.css'), 'a{}')
    writeFileSync(join(dir, 'logo.svg'), '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>')
    writeFileSync(join(dir, 'robots.txt'), 'User-agent: *')
    const app = await serve(dir)
    const page = await app.inject({ method: 'GET', url: '/' })
    const csp = page.headers['content-security-policy']
    expect(csp).toContain("frame-ancestors 'none'")
    for (const url of ['/', '/traces/abc', '/index.html', '/%69ndex.html', '/index.html?x=1', '/assets/app-1.js', '/assets/app-1.css', '/logo.svg', '/robots.txt']) {
      const res = await app.inject({ method: 'GET', url })
      expect([url, res.statusCode]).toEqual([url, 200])
      expect([url, res.headers['content-security-policy']]).toEqual([url, csp])
      expect([url, res.headers['x-content-type-options']]).toEqual([url, 'nosniff'])
    }
    const notBuilt = await (await serve(temp())).inject({ method: 'GET', url: '/' })
    expect(notBuilt.statusCode).toBe(503)
    expect(notBuilt.headers['content-security-policy']).toBe(csp)
    expect(notBuilt.headers['x-content-type-options']).toBe('nosniff')
  })

  it('compresses text files for clients that take it, brotli first, once per file version', async () => {
    const dir = join(temp(), 'web')
    mkdirSync(join(dir, 'assets'), { recursive: true })
    const js = `export const rows = [${Array.from({ length: 400 }, (_, i) => `"row ${i}"`).join(',')}]\n`
    writeFileSync(join(dir, 'index.html'), `<!doctype html><div id="app"></div>${'<!-- pad -->'.repeat(100)}`)
    writeFileSync(join(dir, 'assets', 'app-1.js'), js)
    writeFileSync(join(dir, 'assets', 'tiny-1.js'), 'x()')
    writeFileSync(join(dir, 'assets', 'logo-1.png'), Buffer.alloc(4096, 7))
    const app = await serve(dir)
    const get = (url: string, accept?: string) => app.inject({ method: 'GET', url, headers: accept === undefined ? {} : { 'accept-encoding': accept } })

    const br = await get('/assets/app-1.js', 'gzip, deflate, br')
    expect(br.headers['content-encoding']).toBe('br')
    expect(br.headers.vary).toBe('accept-encoding')
    expect(brotliDecompressSync(br.rawPayload).toString()).toBe(js)
    expect(br.rawPayload.length).toBeLessThan(js.length / 3)
    const gz = await get('/assets/app-1.js', 'gzip, deflate')
    expect(gz.headers['content-encoding']).toBe('gzip')
    expect(gunzipSync(gz.rawPayload).toString()).toBe(js)
    // Refused, not offered, too small, or already compressed: as it is.
    for (const [url, accept] of [['/assets/app-1.js', 'br;q=0, gzip;q=0'], ['/assets/app-1.js', undefined], ['/assets/app-1.js', 'identity'], ['/assets/tiny-1.js', 'br'], ['/assets/logo-1.png', 'br']] as const) {
      const res = await get(url, accept)
      expect(res.headers['content-encoding'], `${url} ${accept}`).toBeUndefined()
    }
    expect((await get('/assets/app-1.js', undefined)).body).toBe(js)
    // The app shell for a client route, compressed too.
    const shell = await get('/traces/abc', 'gzip')
    expect(gunzipSync(shell.rawPayload).toString()).toContain('id="app"')
    // A rebuilt file of the same name is compressed again, not served from the cache.
    const changed = js.replace('row 1"', 'row one"')
    writeFileSync(join(dir, 'assets', 'app-1.js'), changed)
    expect(brotliDecompressSync((await get('/assets/app-1.js', 'br')).rawPayload).toString()).toBe(changed)
  })

  it.each([
    ['gzip, deflate, br', 'br'],
    ['gzip', 'gzip'],
    ['*', 'gzip'],
    ['br;q=0, gzip', 'gzip'],
    ['BR', 'br'],
    ['deflate', undefined],
    ['', undefined],
    [undefined, undefined],
  ])('accept-encoding %j is answered with %j', (accept, want) => {
    expect(pickEncoding(accept)).toBe(want)
  })

  it('names the API prefixes it never answers', () => {
    expect(['/v1', '/v1/traces', '/api', '/api/v1/x', '/healthz', '/readyz', '/metrics'].every(isReserved)).toBe(true)
    expect(['/', '/traces', '/traces/abc', '/overview', '/assets/a.js', '/apiary'].some(isReserved)).toBe(false)
  })

  it('web sources type-check (strict, DOM)', () => {
    const pkg = fileURLToPath(new URL('..', import.meta.url))
    const tsc = join(dirname(createRequire(join(pkg, 'package.json')).resolve('typescript/package.json')), 'bin/tsc')
    const res = spawnSync(process.execPath, [tsc, '-p', join(pkg, 'web/tsconfig.json')], { encoding: 'utf8' })
    expect(res.stdout + res.stderr).toBe('')
    expect(res.status).toBe(0)
  })
})
