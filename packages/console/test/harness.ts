import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { FastifyInstance } from 'fastify'
import type { BrowserContext, Page } from 'playwright-core'
import { afterAll, beforeAll, expect } from 'vitest'
import { buildServer, loadConfig } from '@spanlens/ingest'
import { launchBrowser } from './browser.js'
import { seed, seedLongStrings } from './seed.js'

export const KEY = 'acme-console-key-0123'
/** A project that never sent a span: the first-run page. */
export const EMPTY_KEY = 'empty-console-key-0123'
/** A project of one LLM call whose name, user, session, model and attribute are long unbroken strings. */
export const WIDE_KEY = 'wide-console-key-0123'
/** An ingest key of acme's: it sends but reads nothing, so it does not sign in. */
export const PAGE_KEY = 'acme-page-key-0123'
/** An ingest key of a project of its own, which a web page on another origin sends with (the counts above stay acme's). */
export const WEB_KEY = 'web-page-key-0123'
// Evaluated through the DevTools protocol: the console's CSP (default-src 'self') refuses an injected <script>.
const require = createRequire(import.meta.url)
const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8')
// Pages fetch from the real server; the SLO burn-down alone makes 12 API calls. vitest's
// default 1 s poll flaked in CI on 2 busy cores, so waits get a realistic budget.
export const poll = <T>(read: () => T | Promise<T>): ReturnType<typeof expect.poll<T | Promise<T>>> => expect.poll(read, { timeout: 15_000 })
const ARTIFACTS = fileURLToPath(new URL('../../../test-artifacts/console/', import.meta.url))

export let app: FastifyInstance
export let url: string
/** A web app's origin, other than the server's: a page there sends spans and scores through CORS. */
let site: Server
export let siteOrigin: string
let dir: string
export let browser: BrowserContext
export let page: Page
export const pageErrors: string[] = []
// Evaluated in the page (a string: this file is type-checked without DOM types).
export const STORED_KEY = `sessionStorage.getItem('spanlens.apiKey')`

export const shot = (name: string) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true })

/**
 * Registers the file's server and browser: a Spanlens server on embedded ClickHouse with the seeded
 * projects, a web app's origin listed for CORS, and headless Chromium with one page. The page must
 * raise no uncaught error in the whole file.
 */
export function useConsole(): void {
  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true })
    dir = mkdtempSync(join(tmpdir(), 'spanlens-console-'))
    const sloFile = join(dir, 'slo.yaml')
    writeFileSync(
      sloFile,
      [
        'slos:',
        '  - name: chat-availability',
        '    objective: 99',
        '    window: 1d',
        '    indicator: { type: success }',
        '  - name: chat-latency',
        '    objective: 90',
        '    window: 1d',
        '    indicator: { type: latency, thresholdMs: 1000 }',
        '  - name: chat-first-token',
        '    objective: 99',
        '    window: 1d',
        '    indicator: { type: ttft, thresholdMs: 200 }',
        '  - name: chat-refusals',
        '    objective: 95',
        '    window: 1d',
        '    indicator: { type: ratio, total: { kind: llm }, good: { refusal: false } }',
        '',
      ].join('\n'),
    )
    site = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>web app</title>'))
    await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve))
    siteOrigin = `http://127.0.0.1:${(site.address() as AddressInfo).port}`
    const config = loadConfig({
      env: {
        SPANLENS_DATA_DIR: join(dir, 'data'),
        SPANLENS_API_KEYS: `acme:${KEY},empty:${EMPTY_KEY},wide:${WIDE_KEY}`,
        SPANLENS_INGEST_KEYS: `acme:${PAGE_KEY},web:${WEB_KEY}`,
        SPANLENS_CORS_ORIGINS: siteOrigin,
        SPANLENS_LOG_LEVEL: 'silent',
        SPANLENS_PORT: '0',
        SPANLENS_SLO_FILE: sloFile,
      },
    })
    app = await buildServer(config)
    url = await app.listen({ host: '127.0.0.1', port: 0 })
    await seed(url, KEY)
    await seedLongStrings(url, WIDE_KEY)
    await app.spanlens.flush()
    browser = await launchBrowser()
    page = await browser.newPage()
    // An action that cannot happen fails on its own, inside the test's time, naming itself.
    page.setDefaultTimeout(10_000)
    page.on('pageerror', (err) => pageErrors.push(err.message))
  })

  afterAll(async () => {
    await browser?.close()
    await app?.close()
    site?.close()
    if (dir) rmSync(dir, { recursive: true, force: true })
    const errors = pageErrors.splice(0)
    if (errors.length > 0) throw new Error(`the console page raised uncaught errors: ${errors.join(' | ')}`)
  })
}

/** axe-core's serious and critical violations on the current page (injected once per document). */
export async function axe(): Promise<string[]> {
  if (!(await page.evaluate(`typeof window.axe !== 'undefined'`))) await page.evaluate(AXE)
  return (await page.evaluate(`axe.run(document, { resultTypes: ['violations'] }).then((r) => r.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => v.id + ': ' + v.help + ' at ' + v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' | ')))`)) as string[]
}

/** Waits for the traces page with these query parameters (a regex for a value that varies), in any order. */
export const atTraces = (want: Record<string, string | RegExp>) =>
  page.waitForURL((u) => u.pathname === '/traces' && Object.entries(want).every(([k, v]) => (typeof v === 'string' ? u.searchParams.get(k) === v : v.test(u.searchParams.get(k) ?? ''))))
export const ISO = /^\d{4}-\d{2}-\d{2}T/
/** A time as the console writes every time (format.ts `time()`): one format, the browser's zone named. */
export const TIME = /\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} (UTC|GMT[+-]\d+(:\d{2})?)/

/** Signs in with the seeded project's key unless this tab already is (each test can run alone with -t). */
export async function signedIn() {
  if (!page.url().startsWith(url)) await page.goto(`${url}/`)
  if ((await page.evaluate(STORED_KEY)) === KEY) return
  // Signed in to another project by an earlier test: sign-in shows only once signed out.
  await page.evaluate(`sessionStorage.clear()`)
  await signIn(KEY)
  await page.waitForURL(/\/traces/)
}

export async function signIn(key: string) {
  await page.goto(`${url}/`)
  await page.getByLabel('API key').fill(key)
  await page.getByRole('button', { name: 'Sign in' }).click()
}

