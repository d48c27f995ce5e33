import { join } from 'node:path'
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import { assetFile, type AssetFile, consoleAssetsDir, contentType, readAsset, resolveAsset } from './assets.js'
import { CompressedFiles, pickEncoding } from './encoding.js'

export interface ConsoleRoutesOptions {
  /** Built app directory (default: this package's dist/web). */
  assetsDir?: string
}

/** Paths the console never answers, even for an unknown route under them: they belong to the API. */
const RESERVED_PREFIXES = ['/v1/', '/api/', '/healthz', '/readyz', '/metrics'] as const

export function isReserved(path: string): boolean {
  return RESERVED_PREFIXES.some((p) => path === p.replace(/\/$/, '') || path.startsWith(p))
}

/**
 * The app shell's policy. default-src does not cover base-uri, form-action or
 * frame-ancestors, which fall back to allowing anything: an injected <base> would
 * re-point the app's relative URLs (its scripts, /api) elsewhere, and a form could post
 * the page's fields to another origin. The app uses no <base> and submits its forms in
 * script, to its own origin.
 */
const SHELL_CSP = "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

/**
 * On every reply the console makes, whatever the URL: the page is served as `/`, as any
 * client route and as `/index.html` (or `/%69ndex.html`), and a browser opened on any of
 * them must get its policy; an SVG opened on its own is a document that runs its scripts
 * under the policy it came with; and a script, a style or an image is never read as
 * another type than it says. On a script or a style the policy changes nothing.
 */
const CONSOLE_HEADERS = { 'content-security-policy': SHELL_CSP, 'x-content-type-options': 'nosniff' } as const

const NOT_BUILT = `<!doctype html><meta charset="utf-8"><title>Spanlens</title>
<h1>Spanlens console not built</h1>
<p>The server is running (OTLP ingest at <code>/v1/traces</code>, queries at <code>/api/v1</code>), but the web console's files are missing.</p>
<p>Build them with <code>npx pnpm@10.34.8 build</code> (or <code>npx pnpm@10.34.8 --filter @spanlens/console build</code>) and reload; <code>npx pnpm@10.34.8 start</code> builds and serves in one step.</p>`

/**
 * Serves the console: hashed files under /assets/ (cached for a year), other files
 * as they are, and index.html for every other GET (client-side routes such as
 * /traces/<id>), except under the API's prefixes, which keep their JSON 404.
 * The directory is checked per request, so a server started before `pnpm build`
 * picks the files up without a restart.
 */
export function consoleHandler(opts: ConsoleRoutesOptions = {}): (request: FastifyRequest, reply: FastifyReply) => Promise<unknown> {
  const dir = opts.assetsDir ?? consoleAssetsDir()
  const compressed = new CompressedFiles()
  /** A file's body for this request: compressed when the client takes it (encoding.ts). */
  const body = (request: FastifyRequest, reply: FastifyReply, file: AssetFile, type: string): Buffer => {
    const sent = compressed.encode(file, type, pickEncoding(request.headers['accept-encoding']), () => readAsset(file.path))
    reply.header('vary', 'accept-encoding')
    if (sent.encoding) reply.header('content-encoding', sent.encoding)
    return sent.body
  }

  return async (request: FastifyRequest, reply: FastifyReply) => {
    const path = request.url.split('?')[0] ?? '/'
    if (isReserved(path)) return reply.callNotFound()
    reply.headers(CONSOLE_HEADERS)
    // The app shell: served for client routes, and its absence says the bundle was never built.
    const shell = assetFile(join(dir, 'index.html'))
    if (!shell) return reply.code(503).type('text/html; charset=utf-8').header('cache-control', 'no-store').send(NOT_BUILT)
    const file = path === '/' ? null : resolveAsset(dir, path)
    if (file) {
      const immutable = path.startsWith('/assets/')
      const type = contentType(file.path)
      return reply
        .type(type)
        .header('cache-control', immutable ? 'public, max-age=31536000, immutable' : 'no-cache')
        .send(body(request, reply, file, type))
    }
    // A missing hashed asset is a real 404, not the app shell.
    if (path.startsWith('/assets/')) return reply.callNotFound()
    return reply
      .type('text/html; charset=utf-8')
      .header('cache-control', 'no-cache')
      .send(body(request, reply, shell, 'text/html; charset=utf-8'))
  }
}

/** The console's routes: GET / and every path the API does not own (consoleHandler). */
export const consoleRoutes: FastifyPluginAsync<ConsoleRoutesOptions> = async (app, opts) => {
  const handler = consoleHandler(opts)
  app.get('/', handler)
  app.get('/*', handler)
}
