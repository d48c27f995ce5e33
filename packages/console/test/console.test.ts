import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { FastifyInstance } from 'fastify'
import type { BrowserContext, Page, Route } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildServer, loadConfig } from '@spanlens/ingest'
import type { Score } from '../web/src/api/types.js'
import { launchBrowser } from './browser.js'
import { AGENT_TRACE, LLM_SPAN, LONG, LONG_ANSWER, REFUSAL, seed, seedLongStrings, sessionOf } from './seed.js'

const KEY = 'acme-console-key-0123'
/** A project that never sent a span: the first-run page. */
const EMPTY_KEY = 'empty-console-key-0123'
/** A project of one LLM call whose name, user, session, model and attribute are long unbroken strings. */
const WIDE_KEY = 'wide-console-key-0123'
/** An ingest key of acme's: it sends but reads nothing, so it does not sign in. */
const PAGE_KEY = 'acme-page-key-0123'
/** An ingest key of a project of its own, which a web page on another origin sends with (the counts above stay acme's). */
const WEB_KEY = 'web-page-key-0123'
// Evaluated through the DevTools protocol: the console's CSP (default-src 'self') refuses an injected <script>.
const require = createRequire(import.meta.url)
const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8')
// Pages fetch from the real server; the SLO burn-down alone makes 12 API calls. vitest's
// default 1 s poll flaked in CI on 2 busy cores, so waits get a realistic budget.
const poll = <T>(read: () => T | Promise<T>) => expect.poll(read, { timeout: 15_000 })
const ARTIFACTS = fileURLToPath(new URL('../../../test-artifacts/console/', import.meta.url))

let app: FastifyInstance
let url: string
/** A web app's origin, other than the server's: a page there sends spans and scores through CORS. */
let site: Server
let siteOrigin: string
let dir: string
let browser: BrowserContext
let page: Page
const pageErrors: string[] = []
// Evaluated in the page (a string: this file is type-checked without DOM types).
const STORED_KEY = `sessionStorage.getItem('spanlens.apiKey')`

const shot = (name: string) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true })

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
})

/** axe-core's serious and critical violations on the current page (injected once per document). */
async function axe(): Promise<string[]> {
  if (!(await page.evaluate(`typeof window.axe !== 'undefined'`))) await page.evaluate(AXE)
  return (await page.evaluate(`axe.run(document, { resultTypes: ['violations'] }).then((r) => r.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => v.id + ': ' + v.help + ' at ' + v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' | ')))`)) as string[]
}

/** Waits for the traces page with these query parameters (a regex for a value that varies), in any order. */
const atTraces = (want: Record<string, string | RegExp>) =>
  page.waitForURL((u) => u.pathname === '/traces' && Object.entries(want).every(([k, v]) => (typeof v === 'string' ? u.searchParams.get(k) === v : v.test(u.searchParams.get(k) ?? ''))))
const ISO = /^\d{4}-\d{2}-\d{2}T/
/** A time as the console writes every time (format.ts `time()`): one format, the browser's zone named. */
const TIME = /\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} (UTC|GMT[+-]\d+(:\d{2})?)/

/** Signs in with the seeded project's key unless this tab already is (each test can run alone with -t). */
async function signedIn() {
  if (!page.url().startsWith(url)) await page.goto(`${url}/`)
  if ((await page.evaluate(STORED_KEY)) === KEY) return
  // Signed in to another project by an earlier test: sign-in shows only once signed out.
  await page.evaluate(`sessionStorage.clear()`)
  await signIn(KEY)
  await page.waitForURL(/\/traces/)
}

async function signIn(key: string) {
  await page.goto(`${url}/`)
  await page.getByLabel('API key').fill(key)
  await page.getByRole('button', { name: 'Sign in' }).click()
}

describe('console served by the Spanlens server', () => {
  it('serves the app at / and client routes, and leaves the API prefixes to the API', async () => {
    const index = await fetch(`${url}/`)
    expect(index.status).toBe(200)
    expect(index.headers.get('content-type')).toMatch(/text\/html/)
    expect(await index.text()).toContain('<div id="app">')
    expect((await fetch(`${url}/traces/${AGENT_TRACE}`)).headers.get('content-type')).toMatch(/text\/html/)
    const api = await fetch(`${url}/api/v1/nothing-here`, { headers: { authorization: `Bearer ${KEY}` } })
    expect(api.status).toBe(404)
    expect(((await api.json()) as { error: { code: string } }).error.code).toBe('SPANLENS_NOT_FOUND')
    expect((await fetch(`${url}/api/v1/traces`)).status).toBe(401)
    expect((await fetch(`${url}/v1/nothing`, { headers: { authorization: `Bearer ${KEY}` } })).headers.get('content-type')).not.toMatch(/html/)
    expect((await fetch(`${url}/healthz`)).headers.get('content-type')).toMatch(/json/)
    expect((await fetch(`${url}/assets/missing-0000.js`)).status).toBe(404)
    expect((await fetch(`${url}/..%2f..%2fpackage.json`)).headers.get('content-type')).toMatch(/text\/html/)
  })

  it('the page ignores a <base> that content would inject, and posts no form to another origin', async () => {
    await page.goto(`${url}/`)
    const refused = (await page.evaluate(`new Promise((resolve) => {
      const seen = []
      document.addEventListener('securitypolicyviolation', (e) => { seen.push(e.effectiveDirective); if (seen.length === 2) resolve({ seen, base: document.baseURI }) })
      const base = document.createElement('base')
      base.href = 'https://evil.example/'
      document.head.prepend(base)
      const form = document.createElement('form')
      form.method = 'post'
      form.action = 'https://evil.example/collect'
      document.body.append(form)
      form.submit()
      setTimeout(() => resolve({ seen, base: document.baseURI }), 2000)
    })`)) as { seen: string[]; base: string }
    expect(refused.seen.sort()).toEqual(['base-uri', 'form-action'])
    expect(refused.base).toBe(`${url}/`)
  })

  it('refuses a bad key with a clear error and shows no data', async () => {
    await signIn('not-a-real-key-123')
    await poll(() => page.getByRole('alert').textContent()).toContain('SPANLENS_UNAUTHORIZED')
    expect(await page.locator('table').count()).toBe(0)
    expect(await page.evaluate(STORED_KEY)).toBeNull()
    await shot('01-bad-key')
  })

  it('signs in and lists traces, paginated by the server', async () => {
    await signIn(KEY)
    await page.waitForURL(/\/traces/)
    const rows = page.locator('table.traces tbody tr')
    await poll(() => rows.count()).toBe(50)
    expect(await page.locator('table.traces').textContent()).toContain('support agent')
    expect(await page.evaluate(STORED_KEY)).toBe(KEY)
    await shot('02-traces')
    expect(await page.title()).toBe('Traces · Spanlens')
    // A healthy span reads ok (OTLP's `unset`), money is dollars without exponents, times name their zone.
    const table = (await page.locator('table.traces').textContent()) ?? ''
    expect(table).not.toContain('unset')
    expect(table).not.toMatch(/\de-\d/)
    expect(await page.locator('table.traces tbody tr td .badge').first().textContent()).toMatch(/^(ok|error)$/)
    expect(await page.locator('table.traces tbody tr').first().textContent()).toMatch(TIME)
    await page.getByRole('button', { name: 'Next →' }).click()
    await poll(() => rows.count()).toBe(15)
    await page.getByRole('button', { name: '← Previous' }).click()
    await poll(() => rows.count()).toBe(50)
  })

  it('filters the list by model, user and text', async () => {
    await page.goto(`${url}/traces?from=now-24h&model=claude-sonnet-4`)
    const rows = page.locator('table.traces tbody tr')
    await poll(() => rows.count()).toBe(21)
    await page.getByLabel('Model').fill('')
    await page.getByLabel('User', { exact: true }).fill('user-42')
    await page.getByRole('button', { name: 'Apply' }).click()
    await poll(() => rows.count()).toBe(1)
    await page.getByLabel('User', { exact: true }).fill('')
    await page.getByLabel('Search').fill('question 7')
    await page.getByRole('button', { name: 'Apply' }).click()
    await poll(() => page.locator('table.traces').textContent()).toContain('chat ')
    expect(page.url()).toContain('q=question+7')
  })

  it('opens a trace: waterfall to scale, span details, messages and scores, all escaped', async () => {
    await page.goto(`${url}/traces?from=now-24h`)
    await page.getByRole('link', { name: 'support agent' }).click()
    await page.waitForURL(new RegExp(`/traces/${AGENT_TRACE}`))
    const items = page.getByRole('treeitem')
    await poll(() => items.count()).toBe(4)
    // Bars to scale: the 3 s root spans the track; the 1.2 s call starts at 100 ms.
    const track = await items.nth(0).locator('.wf-track').boundingBox()
    const root = await items.nth(0).locator('.wf-bar').boundingBox()
    const call = await items.nth(1).locator('.wf-bar').boundingBox()
    expect(track && root && call).toBeTruthy()
    expect(root!.width / track!.width).toBeCloseTo(1, 2)
    expect(call!.width / track!.width).toBeCloseTo(1200 / 3000, 2)
    expect((call!.x - track!.x) / track!.width).toBeCloseTo(100 / 3000, 2)

    const detail = page.locator('.span-detail')
    await poll(() => detail.textContent()).toContain('gpt-4o → gpt-4o-2024-08-06')
    const text = (await detail.textContent()) ?? ''
    expect(text).toContain('120 in · 45 out')
    expect(text).toContain('64 cache reads · 32 cache writes')
    expect(await page.locator('.stat').filter({ hasText: 'Tokens' }).textContent()).toContain('64 cache reads · 32 cache writes')
    expect(text).toContain('350 ms') // TTFT
    expect(text).toContain('relevance')
    expect(await detail.locator('.message .role').allTextContents()).toEqual(expect.arrayContaining(['system', 'user', expect.stringContaining('assistant')]))
    expect(text).toContain('get_order')
    expect(await detail.locator('.tool-call pre').first().textContent()).toContain('"order_id": "A-17"')
    // Span content is text, never markup.
    expect(text).toContain('<img src=x onerror="window.__xss=1">')
    expect(await page.locator('.span-detail img').count()).toBe(0)
    expect(await page.evaluate('window.__xss')).toBeUndefined()
    expect(await page.locator('.trace-page').textContent()).toContain('feedback')
    expect(await page.title()).toBe(`Trace ${AGENT_TRACE.slice(0, 8)} · Spanlens`)
    await shot('03-trace')

    // The failing tool span's name is shown literally; the long answer is folded.
    expect(await items.nth(2).textContent()).toContain('<b>get_order</b>')
    await items.nth(3).click()
    const folded = detail.locator('[data-content="output"] .folded')
    await poll(() => folded.getByRole('button').textContent()).toContain('Show all')
    expect(((await folded.locator('pre').textContent()) ?? '').length).toBeLessThan(LONG_ANSWER.length)
    await folded.getByRole('button').click()
    await poll(async () => ((await folded.locator('pre').textContent()) ?? '').length).toBeGreaterThanOrEqual(LONG_ANSWER.length)
  })

  it('draws the overview charts', async () => {
    await page.getByRole('link', { name: 'Overview' }).click()
    await page.waitForURL(/\/overview/)
    await poll(() => page.locator('figure[data-chart="Calls"] canvas').count()).toBeGreaterThan(0)
    await poll(() => page.locator('.card').filter({ hasText: 'By model' }).textContent()).toContain('claude-sonnet-4')
    expect(await page.locator('figure[data-chart="Latency p50 / p95 / p99"] canvas').count()).toBeGreaterThan(0)
    // The legend's time at the cursor is written as every other time.
    await page.locator('figure[data-chart="Calls"] .u-over').hover({ position: { x: 5, y: 20 } })
    await poll(() => page.locator('figure[data-chart="Calls"] .u-legend .u-series').first().locator('.u-value').textContent()).toMatch(new RegExp(`^${TIME.source}$`))
    // The rollup's token details, under the total, and on the model's row.
    expect(await page.locator('.stat').filter({ hasText: 'Tokens' }).textContent()).toContain('64 cache reads · 32 cache writes')
    // The totals say from when they count: the rollup's whole minutes, written as every other time.
    expect(await page.locator('.counted').textContent()).toMatch(new RegExp(`^Counted from ${TIME.source} to now, in whole minutes\\.$`))
    const gpt4o = page.locator('.card[data-by="model"] tr').filter({ has: page.getByRole('link', { name: 'gpt-4o', exact: true }) })
    expect(await gpt4o.locator('td').nth(3).getAttribute('title')).toBe('64 cache reads · 32 cache writes')
    // OTLP metrics: the seeded gen_ai.client.token.usage, by model.
    await poll(() => page.locator('figure[data-chart="Token usage by model (OTLP metrics)"] canvas').count()).toBeGreaterThan(0)
    expect(await page.locator('figure[data-chart="Token usage by model (OTLP metrics)"]').textContent()).toContain('claude-sonnet-4')
    await shot('04-overview')
  })

  it('compares two releases for drift', async () => {
    await page.getByRole('link', { name: 'Drift' }).click()
    await page.getByLabel('two releases').check()
    await page.getByLabel('Reference', { exact: true }).fill('v1')
    await page.getByLabel('Current', { exact: true }).fill('v2')
    await page.getByLabel('Min samples').fill('10')
    await page.getByRole('button', { name: 'Compare' }).click()
    await poll(() => page.locator('.verdict').textContent()).toContain('Drift detected')
    const latency = page.locator('[data-signal="latency"]')
    expect(await latency.textContent()).toContain('drifted')
    // The badge and the row it comes from agree; the other rows say they only support it.
    expect(await latency.locator('tr.decisive').textContent()).toMatch(/decides.*over/)
    expect(await latency.locator('tr:not(.decisive)').filter({ hasText: 'decides' }).count()).toBe(0)
    expect(await latency.locator('svg rect').count()).toBeGreaterThan(2)
    await shot('05-drift')
  })

  it('shows bias per group against the four-fifths line', async () => {
    await page.getByRole('link', { name: 'Bias' }).click()
    await page.getByLabel('Min group size').fill('5')
    await page.getByRole('button', { name: 'Analyse' }).click()
    await poll(() => page.locator('table.bias-groups tbody tr').count()).toBeGreaterThanOrEqual(3)
    expect(await page.locator('.bias-result').textContent()).toContain('four-fifths')
    // Each judged group's p-value says which test found it (the best group has none).
    expect(await page.locator('table.bias-groups tbody td:nth-child(8)[title]').first().getAttribute('title')).toBe('pooled two-proportion z-test against the best group')
    await shot('06-bias')
    // One service only: the seeded 'chat' service sent 32 of the 64 background calls.
    const total = async () => (await page.locator('table.bias-groups tbody td:nth-child(2)').allTextContents()).reduce((n, t) => n + Number(t.replace(/\D/g, '')), 0)
    const all = await total()
    await page.getByLabel('Service').fill('chat')
    await page.getByRole('button', { name: 'Analyse' }).click()
    await poll(total).toBe(32)
    expect(all).toBeGreaterThan(32)
  })

  it('shows SLOs with budgets, burn rates and a burn-down chart', async () => {
    await page.getByRole('link', { name: 'SLOs' }).click()
    await poll(() => page.locator('[data-slo]').count()).toBe(4)
    expect(await page.locator('[data-slo="chat-latency"]').textContent()).toContain('Budget remaining')
    await poll(() => page.locator('figure[data-chart^="Error budget"] canvas').count()).toBeGreaterThan(0)
    // The time of the evaluation, written as every other time (format.ts: the zone named).
    expect(await page.locator('.verdict').textContent()).toMatch(new RegExp(`evaluated at ${TIME.source}$`))
    await shot('07-slo')
  })

  it('sorts on the server, counts, chooses columns and keeps them across a reload', async () => {
    await signedIn()
    await page.goto(`${url}/traces?from=now-24h`)
    await poll(() => page.getByRole('status').filter({ hasText: 'traces' }).textContent()).toBe('65 traces')
    // The count (the listing's costliest read) is asked once per filter set, not again for another order.
    const counts: string[] = []
    const onRequest = (r: { url(): string }) => void (/\/api\/v1\/traces\?.*total=1/.test(r.url()) && counts.push(r.url()))
    page.on('request', onRequest)
    await page.getByRole('button', { name: 'Duration' }).click()
    await page.waitForURL(/order=-durationMs/)
    const durations = async () => (await page.locator('table.traces tbody tr td:nth-child(5)').allTextContents()).slice(0, 3)
    await poll(durations).toEqual(['3.00 s', '1.70 s', '1.70 s'])
    page.off('request', onRequest)
    expect(counts).toEqual([])
    expect(await page.getByRole('status').filter({ hasText: 'traces' }).textContent()).toBe('65 traces')
    expect(await page.locator('th[aria-sort="descending"]').textContent()).toContain('Duration')
    await page.getByRole('button', { name: /^Duration/ }).click()
    await page.waitForURL(/order=durationMs/)
    await poll(async () => (await durations())[0]).toBe('400 ms')
    // Columns: drop User, add Session; the choice outlives a reload.
    await page.locator('details.columns summary').click()
    await page.getByLabel('User column').uncheck()
    await page.getByLabel('Session column').check()
    await page.reload()
    await poll(() => page.locator('table.traces thead').textContent()).toContain('Session')
    expect(await page.locator('table.traces thead').textContent()).not.toContain('User')
    // Back returns to the newest-first order.
    await page.goBack()
    await page.waitForURL(/order=-durationMs/)
    await page.locator('details.columns summary').click()
    await page.getByLabel('User column').check()
    await page.getByLabel('Session column').uncheck()
  })

  it('filters on refusal, tag, release, kind, attribute and score, and saves the view for the project', async () => {
    await signedIn()
    const rows = page.locator('table.traces tbody tr')
    await page.goto(`${url}/traces?from=now-24h&refusal=1`)
    await poll(() => rows.count()).toBe(6)
    await page.goto(`${url}/traces?from=now-24h&tag=vip&release=v1`)
    await poll(() => rows.count()).toBe(7)
    await page.goto(`${url}/traces?from=now-24h&kind=tool`)
    await poll(() => rows.count()).toBe(1)
    // Through the form: a score condition and an attribute.
    await page.goto(`${url}/traces?from=now-24h`)
    await page.locator('details.more-filters summary').click()
    await page.getByRole('button', { name: 'Add a condition' }).click()
    await page.getByRole('combobox', { name: /^Condition 1/ }).selectOption('score')
    await page.getByLabel('Score name').fill('feedback')
    await page.getByLabel('Condition', { exact: true }).fill('>=1')
    await page.getByRole('button', { name: 'Apply' }).click()
    await page.waitForURL(/score\.feedback=%3E%3D1/)
    await poll(() => rows.count()).toBe(1)
    await page.getByRole('button', { name: 'Add a condition' }).click()
    await page.getByRole('combobox', { name: /^Condition 2/ }).selectOption('attr')
    await page.getByLabel('Key', { exact: true }).fill('gen_ai.operation.name')
    await page.getByLabel('Value', { exact: true }).fill('invoke_agent')
    await page.getByRole('button', { name: 'Apply' }).click()
    await page.waitForURL(/attr\.gen_ai\.operation\.name=invoke_agent/)
    await poll(() => rows.count()).toBe(1)
    // Save it, leave, come back through the view menu.
    await page.getByPlaceholder('name this view').fill('good agent runs')
    await page.getByRole('button', { name: 'Save view' }).click()
    await poll(() => page.getByRole('button', { name: /Delete view/ }).count()).toBe(1)
    const saved = page.url()
    await page.goto(`${url}/traces?from=now-24h&status=error`)
    await page.getByRole('combobox', { name: /^View/ }).selectOption('good agent runs')
    await poll(() => page.url()).toBe(saved)
    await poll(() => rows.count()).toBe(1)
    expect(await page.evaluate(`Object.keys(localStorage).filter((k) => k.startsWith('spanlens.views.'))`)).toEqual(['spanlens.views.acme'])
    await shot('08-traces-filters-view')
  })

  it('keeps the selected span in the URL, moves through the tree with the keyboard', async () => {
    await signedIn()
    await page.goto(`${url}/traces/${AGENT_TRACE}`)
    const items = page.getByRole('treeitem')
    await poll(() => items.count()).toBe(4)
    await items.nth(2).click()
    await page.waitForURL(/span=c0ffee0000000003/)
    await page.reload()
    await poll(() => page.locator('[role=treeitem][aria-selected=true]').getAttribute('data-span-id')).toBe('c0ffee0000000003')
    expect(await page.locator('.span-detail').getAttribute('data-span-detail')).toBe('c0ffee0000000003')
    // One tab stop, on the selection; arrows move it and the URL follows.
    expect(await page.locator('[role=treeitem][tabindex="0"]').count()).toBe(1)
    await page.locator('[role=treeitem][aria-selected=true]').focus()
    // Each key moves the selection, the URL and the focus (the next key goes where the focus is).
    const press = async (key: string, spanId: string) => {
      await page.keyboard.press(key)
      await page.waitForURL(new RegExp(`span=${spanId}`))
      await poll(() => page.evaluate('document.activeElement.dataset.spanId')).toBe(spanId)
    }
    await press('ArrowDown', 'c0ffee0000000004')
    await press('ArrowLeft', 'c0ffee0000000001')
    await press('ArrowRight', LLM_SPAN)
    await press('End', 'c0ffee0000000004')
    await press('Home', 'c0ffee0000000001')
    expect(await page.evaluate('document.activeElement.getAttribute("aria-level")')).toBe('1')
  })

  it('adds and edits scores on a trace and a span, shown wherever scores are', async () => {
    await signedIn()
    await page.goto(`${url}/traces/${AGENT_TRACE}?span=${LLM_SPAN}`)
    const traceScores = page.locator('[data-scores="trace"]')
    await poll(() => traceScores.textContent()).toContain('feedback')
    await traceScores.getByRole('button', { name: 'Add a score to this trace' }).click()
    await traceScores.getByLabel('Score', { exact: true }).fill('correctness')
    await traceScores.getByLabel('Value', { exact: true }).fill('0.5')
    await traceScores.getByLabel('Comment', { exact: true }).fill('half right')
    await traceScores.getByRole('button', { name: 'Add to trace' }).click()
    await poll(() => traceScores.locator('tbody tr').filter({ hasText: 'correctness' }).textContent()).toContain('0.5')
    // Edit: the same score id, a new value.
    await traceScores.getByRole('button', { name: 'Edit score correctness' }).click()
    await traceScores.getByLabel('Value', { exact: true }).fill('1')
    await traceScores.getByRole('button', { name: 'Save' }).click()
    await poll(() => traceScores.locator('tbody tr').filter({ hasText: 'correctness' }).locator('td.mono').textContent()).toBe('1')
    expect(await traceScores.locator('tbody tr').filter({ hasText: 'correctness' }).count()).toBe(1)
    // A label on the span.
    const spanScores = page.locator(`[data-scores="${LLM_SPAN}"]`)
    await spanScores.getByRole('button', { name: 'Add a score to this span' }).click()
    await spanScores.getByLabel('Score', { exact: true }).fill('tone')
    await spanScores.getByLabel('Value', { exact: true }).fill('friendly')
    await spanScores.getByRole('button', { name: 'Add to span' }).click()
    await poll(() => spanScores.textContent()).toContain('friendly')
    await shot('09-annotate')
    // The listing shows the trace's scores, the edited one once.
    await page.goto(`${url}/traces?from=now-24h&traceId=${AGENT_TRACE}`)
    await poll(() => page.locator('table.traces tbody tr').first().textContent()).toContain('correctness: 1')
    expect(await page.locator('table.traces tbody tr').first().textContent()).not.toContain('correctness: 0.5')
  })

  it('an edited score keeps its type, and its source unless its value changed', async () => {
    await signedIn()
    const headers = { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' }
    // A yes/no score from the app's users, and an eval's label that reads as a number.
    for (const score of [
      { traceId: AGENT_TRACE, name: 'resolved', value: true, source: 'user' },
      { traceId: AGENT_TRACE, name: 'intent', value: '42', source: 'eval' },
    ]) {
      expect((await fetch(`${url}/api/v1/scores`, { method: 'POST', headers, body: JSON.stringify(score) })).status).toBe(201)
    }
    const stored = async (name: string) => ((await (await fetch(`${url}/api/v1/traces/${AGENT_TRACE}`, { headers })).json()) as { scores: Score[] }).scores.find((s) => s.name === name)
    await page.goto(`${url}/traces/${AGENT_TRACE}`)
    const traceScores = page.locator('[data-scores="trace"]')
    const shown = (name: string) => traceScores.locator('tbody tr').filter({ has: page.locator('td:first-child', { hasText: new RegExp(`^${name}$`) }) }).locator('td.mono').textContent()
    const save = async (name: string, value?: string) => {
      await traceScores.getByRole('button', { name: `Edit score ${name}` }).click()
      if (value !== undefined) await traceScores.getByLabel('Value', { exact: true }).fill(value)
      await traceScores.getByRole('button', { name: 'Save' }).click()
    }
    await poll(() => shown('resolved')).toBe('true')
    await traceScores.getByRole('button', { name: 'Edit score resolved' }).click()
    expect(await traceScores.getByLabel('Value', { exact: true }).inputValue()).toBe('true')
    await traceScores.getByRole('button', { name: 'Cancel' }).click()
    // Save on nothing changed: the same score, as the user gave it.
    await save('resolved')
    await poll(() => traceScores.getByRole('button', { name: 'Edit score resolved' }).count()).toBe(1)
    expect(await stored('resolved')).toMatchObject({ dataType: 'BOOLEAN', value: 1, source: 'user' })
    // A new value: still yes/no, now set in the console.
    await save('resolved', 'false')
    await poll(() => shown('resolved')).toBe('false')
    expect(await stored('resolved')).toMatchObject({ dataType: 'BOOLEAN', value: 0, source: 'console' })
    await save('intent')
    await poll(() => traceScores.getByRole('button', { name: 'Edit score intent' }).count()).toBe(1)
    expect(await stored('intent')).toMatchObject({ dataType: 'CATEGORICAL', stringValue: '42', source: 'eval' })
    // A yes/no score takes nothing else, and says so before posting.
    await save('resolved', 'maybe')
    await poll(() => traceScores.getByRole('alert').textContent()).toContain('true or false')
    await traceScores.getByRole('button', { name: 'Cancel' }).click()
    expect(await stored('resolved')).toMatchObject({ dataType: 'BOOLEAN', value: 0 })
    // The listing shows each as it was given: false, not 0; the label 42 as a label.
    await page.goto(`${url}/traces?from=now-24h&traceId=${AGENT_TRACE}`)
    await poll(() => page.locator('table.traces tbody tr').first().textContent()).toContain('resolved: false')
    expect(await page.locator('table.traces tbody tr').first().textContent()).toContain('intent: 42')
  })

  it('overview: range and split live in the URL; a row, a point and a table row lead to their traces', async () => {
    await signedIn()
    // A range the page does not offer (a stale or hand-edited link) is the default 24 hours, not the first option.
    await page.goto(`${url}/overview?range=now-2h`)
    await poll(() => page.locator('figure[data-chart="Calls"] canvas').count()).toBeGreaterThan(0)
    expect(await page.getByRole('combobox', { name: /^Time/ }).inputValue()).toBe('now-24h')
    await page.goto(`${url}/overview`)
    await poll(() => page.locator('figure[data-chart="Calls"] canvas').count()).toBeGreaterThan(0)
    await page.getByRole('combobox', { name: /^Time/ }).selectOption('now-7d')
    await page.waitForURL(/range=now-7d/)
    await page.getByLabel('Split charts by').selectOption('model')
    await page.waitForURL(/split=model/)
    await page.reload()
    await poll(() => page.getByLabel('Split charts by').inputValue()).toBe('model')
    expect(await page.getByRole('combobox', { name: /^Time/ }).inputValue()).toBe('now-7d')
    await page.goBack()
    await page.waitForURL((u) => !u.search.includes('split=model'))
    await poll(() => page.getByLabel('Split charts by').inputValue()).toBe('')
    // A model row → its traces.
    await page.locator('[data-by="model"]').getByRole('link', { name: 'claude-sonnet-4', exact: true }).click()
    await atTraces({ from: 'now-7d', model: 'claude-sonnet-4', kind: 'llm' })
    await poll(() => page.locator('table.traces tbody tr').count()).toBe(21)
    await page.goBack()
    // The calls chart as a table, each bucket linked; a click on the plot opens a bucket.
    const calls = page.locator('figure[data-chart="Calls"]')
    await poll(() => calls.locator('canvas').count()).toBeGreaterThan(0)
    await calls.getByRole('button', { name: 'Show as table' }).click()
    const busy = calls.locator('tbody tr').filter({ hasNot: page.locator('td.num', { hasText: /^0$/ }) }).first()
    await busy.getByRole('link', { name: 'traces' }).click()
    await atTraces({ from: ISO, to: ISO, kind: 'llm' })
    await poll(() => page.locator('table.traces tbody tr').count()).toBeGreaterThan(0)
    await page.goBack()
    await page.locator('figure[data-chart="Cost (USD)"] .u-over').click({ position: { x: 5, y: 20 } })
    await atTraces({ from: ISO, to: ISO })
  })

  it('drift: default windows fit young data; the form and result live in the URL; signals and bins lead to traces', { timeout: 120_000 }, async () => {
    await signedIn()
    await page.goto(`${url}/drift`)
    // The seeded data is 20 hours old: the default windows split it in two. Its age is read from
    // hourly buckets (drift/windows.ts), up to an hour before the oldest span, plus the minutes since
    // seeding: 20, 21 or, seeded just before the hour, 22 hours.
    await poll(() => page.getByLabel('Reference from').inputValue()).toMatch(/^now-2[0-2]h$/)
    expect(await page.locator('.drift-form').textContent()).toContain('younger than two weeks')
    await page.getByLabel('Min samples').fill('10')
    await page.getByRole('button', { name: 'Compare' }).click()
    await page.waitForURL(/mode=windows.*minSamples=10/)
    await poll(() => page.locator('.verdict').textContent()).toContain('Drift detected')
    await page.getByLabel('two releases').check()
    await page.getByLabel('Reference', { exact: true }).fill('v1')
    await page.getByLabel('Current', { exact: true }).fill('v2')
    await page.getByLabel('Min samples').fill('10')
    await page.getByRole('button', { name: 'Compare' }).click()
    await page.waitForURL(/mode=values.*reference=v1/)
    await poll(() => page.locator('[data-signal="latency"]').textContent()).toContain('drifted')
    await page.reload()
    await poll(() => page.locator('[data-signal="latency"]').textContent()).toContain('drifted')
    expect(await page.getByLabel('Current', { exact: true }).inputValue()).toBe('v2')
    await page.goBack()
    await page.waitForURL(/mode=windows/)
    await poll(() => page.getByLabel('Reference from').isVisible()).toBe(true)
    await page.goForward()
    const latency = page.locator('[data-signal="latency"]')
    await poll(() => latency.textContent()).toContain('drifted')
    // The current set's example traces: release v2, LLM calls.
    await latency.getByRole('link', { name: 'current' }).click()
    await atTraces({ from: '', release: 'v2', kind: 'llm' })
    await poll(() => page.locator('table.traces tbody tr').count()).toBe(33)
    await page.goBack()
    // A latency bin of the reference set, from its table.
    await poll(() => latency.textContent()).toContain('drifted')
    await latency.getByRole('button', { name: 'Show as table' }).click()
    await latency.locator('tbody tr').last().getByRole('link').first().click()
    await atTraces({ release: 'v1', durationMs: /^>\d[^,]*$/ })
    await poll(() => page.locator('table.traces tbody tr').count()).toBeGreaterThan(0)
    await page.goBack()
    // A token bin: (e1, e2] as conditions on the span's output tokens, shown as a chip.
    const tokens = page.locator('[data-signal="output_tokens"]')
    await poll(() => tokens.locator('figure').count()).toBe(1)
    await tokens.getByRole('button', { name: 'Show as table' }).click()
    await tokens.locator('figure tbody tr').nth(1).getByRole('link').last().click()
    await atTraces({ release: 'v2', kind: 'llm', outputTokens: /^>\d+(\.\d+)?,<=\d+(\.\d+)?$/ })
    await poll(() => page.locator('.linked-filters').textContent()).toMatch(/output tokens >\S+ and <=\S+/)
    await page.goBack()
    await poll(() => page.locator('[data-signal="model"]').count()).toBe(1)
    await page.locator('[data-signal="model"] rect.linked').first().click()
    await atTraces({ release: 'v1', 'group.model': /./ })
  })

  it('drift: a bin of a numeric attribute leads to the spans whose attribute is in it', async () => {
    await signedIn()
    // The seeded calls keep their gen_ai.usage.output_tokens attribute as text: attr_num reads it as a number.
    const signal = 'attr_num:gen_ai.usage.output_tokens'
    await page.goto(`${url}/drift?mode=values&dimension=release&reference=v1&current=v2&signals=${signal}&minSamples=10`)
    const bins = page.locator(`[data-signal="${signal}"]`)
    await poll(() => bins.locator('figure').count()).toBe(1)
    await bins.getByRole('button', { name: 'Show as table' }).click()
    // The reference set's second bin: (e1, e2] as conditions on the attribute, shown as a chip.
    await bins.locator('figure tbody tr').nth(1).getByRole('link').first().click()
    await atTraces({ release: 'v1', 'attrNum.gen_ai.usage.output_tokens': /^>\d+(\.\d+)?,<=\d+(\.\d+)?$/ })
    await poll(() => page.locator('.linked-filters').textContent()).toMatch(/attribute gen_ai\.usage\.output_tokens >\S+ and <=\S+/)
    await poll(() => page.locator('table.traces tbody tr').count()).toBeGreaterThan(0)
  })

  it('bias: the form lives in the URL, existing attribute keys are offered, a group leads to its traces with the outcome', async () => {
    await signedIn()
    await page.goto(`${url}/bias?groupBy=model&outcome=error_rate&from=now-7d&minGroupSize=5&alpha=0.05`)
    await poll(() => page.locator('table.bias-groups tbody tr').count()).toBe(3)
    // Offered: the keys the spans carry, not a made-up one.
    await poll(() => page.locator('#bias-keys option[value="attr:gen_ai.operation.name"]').count()).toBe(1)
    expect(await page.locator('#bias-keys option[value="attr:tenant"]').count()).toBe(0)
    // gpt-4o's errors (every 9th call of the background traffic).
    const row = page.locator('table.bias-groups tbody tr').filter({ has: page.locator('td:first-child', { hasText: /^gpt-4o(best)?$/ }) })
    await row.getByRole('link', { name: 'errors of gpt-4o' }).click()
    await atTraces({ from: 'now-7d', kind: 'llm', 'group.model': 'gpt-4o', status: 'error' })
    await poll(() => page.locator('table.traces tbody tr').count()).toBeGreaterThan(0)
    for (const status of await page.locator('table.traces tbody td .badge').allTextContents()) expect(status).toBe('error')
    await page.goBack()
    await poll(() => page.locator('table.bias-groups tbody tr').count()).toBe(3)
    // An unknown attribute: the API's 400 names the keys that exist.
    await page.getByLabel('Group by').fill('attr:tenant')
    await page.getByRole('button', { name: 'Analyse' }).click()
    await page.waitForURL(/groupBy=attr%3Atenant/)
    await poll(() => page.getByRole('alert').textContent()).toContain('keys that exist: attr:')
    // Refusals by user: each group's refusals are a traces filter.
    await page.goto(`${url}/bias?groupBy=user&outcome=refusal_rate&from=now-7d&minGroupSize=5&alpha=0.05`)
    await poll(() => page.locator('table.bias-groups tbody tr').count()).toBeGreaterThanOrEqual(4)
    await page.locator('table.bias-groups tbody tr').filter({ hasText: 'user-1' }).getByRole('link', { name: 'refusals of user-1' }).click()
    await atTraces({ userId: 'user-1', refusal: '1' })
    await poll(() => page.locator('table.traces tbody tr').count()).toBeGreaterThan(0)
    // Groups no plain filter selects: a language, a user prefix (group.<key>, the group's own expression).
    await page.goto(`${url}/bias?groupBy=language&outcome=refusal_rate&from=now-7d&minGroupSize=5&alpha=0.05`)
    await poll(() => page.locator('table.bias-groups tbody tr').count()).toBeGreaterThanOrEqual(1)
    await page.locator('table.bias-groups tbody tr').filter({ hasText: 'latin' }).getByRole('link', { name: 'refusals of latin' }).click()
    await atTraces({ 'group.language': 'latin', refusal: '1', kind: 'llm' })
    await poll(() => page.locator('table.traces tbody tr').count()).toBe(6)
    expect(await page.locator('.linked-filters').textContent()).toContain('language = latin')
    await page.goto(`${url}/bias?groupBy=user_prefix:5&outcome=error_rate&from=now-7d&minGroupSize=5&alpha=0.05`)
    // user-0…user-3 share a prefix; the agent trace's second call has no user: the empty group.
    await poll(() => page.locator('table.bias-groups tbody tr').count()).toBe(2)
    // The empty group is named in the table and the charts, not a blank row or bar.
    expect((await page.locator('table.bias-groups tbody td:first-child').allTextContents()).filter((t) => t.startsWith('(none)'))).toHaveLength(1)
    expect(await page.locator('.bias-result').textContent()).toMatch(/\(none\) \(n=\d+\)/)
    await page.getByRole('link', { name: 'all traces of user-', exact: true }).click()
    await atTraces({ 'group.user_prefix:5': 'user-', kind: 'llm' })
    await poll(() => page.locator('table.traces tbody tr').count()).toBeGreaterThan(0)
    // A chip removes its filter.
    await page.getByRole('button', { name: 'Remove the filter user_prefix:5 = user-' }).click()
    await page.waitForURL((u) => u.pathname === '/traces' && !u.searchParams.has('group.user_prefix:5') && u.searchParams.get('kind') === 'llm')
  })

  it('SLOs: an alert leads to the bad events of its window', async () => {
    await signedIn()
    await page.goto(`${url}/slo`)
    const availability = page.locator('[data-slo="chat-availability"]')
    await poll(() => availability.locator('table.alerts tbody tr').count()).toBe(4)
    await availability.getByRole('link', { name: 'bad events of chat-availability in the last 1d', exact: true }).click()
    await atTraces({ from: ISO, to: ISO, status: 'error' })
    await poll(() => page.locator('table.traces tbody tr').count()).toBeGreaterThan(0)
    for (const status of await page.locator('table.traces tbody td .badge').allTextContents()) expect(status).toBe('error')
    await page.goBack()
    await page.locator('[data-slo="chat-latency"]').getByRole('link', { name: 'Bad events of chat-latency in its 1d window', exact: true }).click()
    await atTraces({ durationMs: '>1000', from: ISO, to: ISO })
    await poll(() => page.locator('table.traces tbody tr').count()).toBeGreaterThan(0)
    for (const d of await page.locator('table.traces tbody tr td:nth-child(5)').allTextContents()) expect(d).toMatch(/ s$/)
    // A TTFT SLO: the one call slower to its first token than 200 ms, in the agent trace.
    await page.goBack()
    await page.locator('[data-slo="chat-first-token"]').getByRole('link', { name: 'Bad events of chat-first-token in its 1d window', exact: true }).click()
    await atTraces({ ttftMs: '>200', from: ISO, to: ISO })
    await poll(() => page.locator('table.traces tbody tr').count()).toBe(1)
    expect(await page.locator('table.traces tbody tr').first().textContent()).toContain('support agent')
    // A ratio SLO: its total (LLM calls) that is not good (a refusal), as not. conditions.
    await page.goBack()
    await page.locator('[data-slo="chat-refusals"]').getByRole('link', { name: 'bad events of chat-refusals in the last 1d', exact: true }).click()
    await atTraces({ kind: 'llm', 'not.refusal': '0', from: ISO, to: ISO })
    await poll(() => page.locator('table.traces tbody tr').count()).toBe(6)
    expect(await page.locator('.linked-filters').textContent()).toContain('not: refusal = 0')
  })

  it('a session replays as a conversation; a user shows their calls, cost, feedback and sessions', async () => {
    await signedIn()
    await page.goto(`${url}/traces?from=now-24h&userId=user-1`)
    await page.locator('table.traces tbody tr').first().getByRole('link', { name: 'user-1' }).click()
    await page.waitForURL(/\/users\/user-1/)
    await poll(() => page.locator('.stats').textContent()).toContain('16')
    expect(await page.title()).toBe('User user-1 · Spanlens')
    expect(await page.locator('figure[data-chart="LLM calls and errors"] canvas').count()).toBeGreaterThan(0)
    const sessions = page.locator('table.sessions tbody tr')
    await poll(() => sessions.count()).toBe(2)
    await shot('10-user')
    await sessions.getByRole('link', { name: sessionOf(1) }).click()
    await page.waitForURL(new RegExp(`/sessions/${sessionOf(1)}`))
    const turns = page.locator('ol.conversation > li')
    await poll(() => turns.count()).toBe(8)
    // In order, what each turn asked and answered.
    expect(await turns.first().textContent()).toContain('question 1')
    expect(await turns.first().textContent()).toContain('answer 1')
    expect(await turns.nth(1).textContent()).toContain('question 5')
    expect(await turns.nth(1).textContent()).toContain(REFUSAL)
    expect(await page.locator('.stats').textContent()).toContain('Turns8')
    await shot('11-session')
    await turns.first().getByRole('link', { name: 'chat gpt-4o-mini' }).click()
    await page.waitForURL(/\/traces\/0+a001/)
  })

  it('every page passes axe (no serious or critical violations) and fits 800 px without scrolling sideways', { timeout: 120_000 }, async () => {
    await signedIn()
    await page.setViewportSize({ width: 800, height: 900 })
    const pages: Array<[string, string, () => Promise<unknown>]> = [
      ['traces', '/traces?from=now-24h', () => poll(() => page.locator('table.traces tbody tr').count()).toBe(50)],
      ['traces-more', '/traces?from=now-24h&score.feedback=*&refusal=0', () => poll(() => page.locator('table.traces tbody tr').count()).toBeGreaterThan(0)],
      ['trace', `/traces/${AGENT_TRACE}`, () => poll(() => page.locator('.span-detail').count()).toBe(1)],
      ['overview', '/overview?range=now-24h&split=model', () => poll(() => page.locator('figure[data-chart="Calls"] canvas').count()).toBeGreaterThan(0)],
      ['drift', '/drift?mode=values&dimension=release&reference=v1&current=v2&signals=latency,model,output_tokens&minSamples=10', () => poll(() => page.locator('[data-signal]').count()).toBe(3)],
      ['bias', '/bias?groupBy=model&outcome=error_rate&from=now-7d&minGroupSize=5&alpha=0.05', () => poll(() => page.locator('table.bias-groups tbody tr').count()).toBe(3)],
      ['slo', '/slo', () => poll(() => page.locator('figure[data-chart^="Error budget"] canvas').count()).toBeGreaterThan(0)],
      ['session', `/sessions/${sessionOf(2)}`, () => poll(() => page.locator('ol.conversation > li').count()).toBe(8)],
      ['user', '/users/user-2', () => poll(() => page.locator('table.sessions tbody tr').count()).toBe(2)],
    ]
    const failures: string[] = []
    for (const [name, path, ready] of pages) {
      await page.goto(`${url}${path}`)
      await ready()
      failures.push(...(await axe()).map((v) => `${name}: ${v}`))
      const wide = (await page.evaluate('document.documentElement.scrollWidth')) as number
      if (wide > 800) failures.push(`${name}: ${wide}px wide at 800px`)
      await shot(`12-800px-${name}`)
    }
    // A chart's table alternative, opened.
    await page.goto(`${url}/overview`)
    await poll(() => page.locator('figure[data-chart="Calls"] canvas').count()).toBeGreaterThan(0)
    await page.locator('figure[data-chart="Calls"]').getByRole('button', { name: 'Show as table' }).click()
    failures.push(...(await axe()).map((v) => `overview table: ${v}`))
    await page.setViewportSize({ width: 1400, height: 900 })
    expect(failures).toEqual([])
  })

  it('long unbroken names, ids, models and attributes wrap: every page still fits 800 px', { timeout: 60_000 }, async () => {
    if (!page.url().startsWith(url)) await page.goto(`${url}/`)
    await page.evaluate(`sessionStorage.clear()`)
    await signIn(WIDE_KEY)
    await page.waitForURL(/\/traces/)
    await page.setViewportSize({ width: 800, height: 900 })
    const wide = async (name: string) => {
      const px = (await page.evaluate('document.documentElement.scrollWidth')) as number
      await shot(`14-800px-long-${name}`)
      return px > 800 ? [`${name}: ${px}px wide at 800px`] : []
    }
    const failures: string[] = []
    try {
      await page.goto(`${url}/traces?from=now-24h`)
      await poll(() => page.locator('table.traces tbody tr').count()).toBe(1)
      failures.push(...(await wide('traces')))
      // The list scrolls sideways in its own box when its columns need it; the name wraps in its column instead of making it thousands of px.
      for (const cell of ['.trace-link', `a[href^="/users/"]`]) {
        const box = await page.locator(`table.traces tbody ${cell}`).boundingBox()
        if (!box || box.width > 400) failures.push(`traces: ${cell} is ${box?.width}px wide`)
      }
      await page.goto(`${url}/traces/${LONG.traceId}`)
      await poll(() => page.locator('.span-detail').count()).toBe(1)
      await page.locator('details.attributes summary').click()
      await poll(() => page.locator('details.attributes tbody tr').filter({ hasText: LONG.attrValue }).count()).toBe(1)
      failures.push(...(await wide('trace')))
      await page.goto(`${url}/users/${encodeURIComponent(LONG.userId)}`)
      await poll(() => page.locator('table.sessions tbody tr').count()).toBe(1)
      failures.push(...(await wide('user')))
      await page.goto(`${url}/sessions/${encodeURIComponent(LONG.sessionId)}`)
      await poll(() => page.locator('ol.conversation > li').count()).toBe(1)
      failures.push(...(await wide('session')))
      // Split by model: the model names the charts' legends as well as the table's rows.
      await page.goto(`${url}/overview?split=model`)
      const byModel = page.locator('[data-by="model"] .table-scroll')
      await poll(() => byModel.count()).toBe(1)
      await poll(() => page.locator('figure[data-chart="Calls"] canvas').count()).toBeGreaterThan(0)
      failures.push(...(await wide('overview')))
      // The long model does not push the figures out of sight.
      const [scroll, client] = (await page.evaluate(`((e) => [e.scrollWidth, e.clientWidth])(document.querySelector('[data-by="model"] .table-scroll'))`)) as [number, number]
      if (scroll > client) failures.push(`overview: the by-model table scrolls (${scroll}px in ${client}px)`)
      await page.goto(`${url}/bias?groupBy=model&outcome=error_rate&from=now-7d&minGroupSize=1&alpha=0.05`)
      await poll(() => page.locator('table.bias-groups tbody tr').count()).toBe(1)
      failures.push(...(await wide('bias')))
    } finally {
      await page.setViewportSize({ width: 1400, height: 900 })
    }
    expect(failures).toEqual([])
  })

  it('a page whose code cannot be fetched says the server is unreachable, and Retry loads it once the server answers', async () => {
    await signedIn()
    await page.goto(`${url}/traces?from=now-24h`)
    await poll(() => page.locator('table.traces tbody tr').count()).toBe(50)
    // The server stops answering: every request is refused, as when it is down (routing also bypasses the HTTP cache).
    const down = (route: Route) => route.abort('connectionrefused')
    await page.route('**/*', down)
    try {
      await page.getByRole('link', { name: 'Overview' }).click()
      await poll(() => page.getByRole('alert').textContent()).toContain('Cannot reach the Spanlens server')
      // The traces page's words for the same outage, not the bundler's.
      expect(await page.getByRole('alert').textContent()).toMatch(/^NETWORK /)
      // A retry while it is still down stays on the message.
      await page.getByRole('button', { name: 'Retry' }).click()
      await poll(() => page.getByRole('alert').textContent()).toContain('still does not answer')
      expect(await page.getByRole('button', { name: 'Retry' }).isEnabled()).toBe(true)
    } finally {
      await page.unroute('**/*', down)
    }
    await page.getByRole('button', { name: 'Retry' }).click()
    await poll(() => page.locator('figure[data-chart="Calls"] canvas').count()).toBeGreaterThan(0)
    expect(page.url()).toBe(`${url}/overview`)
    // Every stylesheet loaded, the charts' own included.
    expect(await page.evaluate(`[...document.styleSheets].filter((s) => { try { return s.cssRules.length === 0 } catch { return true } }).map((s) => s.href)`)).toEqual([])
  })

  it('a project without spans shows where and how to send the first one, on traces and overview', async () => {
    await page.evaluate(`sessionStorage.clear()`)
    await signIn(EMPTY_KEY)
    await page.waitForURL(/\/traces/)
    const guide = page.locator('[data-first-run]')
    await poll(() => guide.count()).toBe(1)
    expect(await guide.textContent()).toContain(`${url}/v1/traces`)
    expect(await guide.locator('pre').first().textContent()).toContain(`init({ endpoint: '${url}'`)
    expect(await guide.getByRole('button', { name: /^Copy/ }).count()).toBe(3)
    expect(await axe()).toEqual([])
    await shot('13-first-run')
    await page.getByRole('link', { name: 'Overview' }).click()
    await poll(() => page.locator('[data-first-run]').count()).toBe(1)
    expect(await page.locator('figure canvas').count()).toBe(0)
    // With data but none in the filters: a hint, not the guide.
    await page.evaluate(`sessionStorage.clear()`)
    await signIn(KEY)
    await page.waitForURL(/\/traces/)
    await page.goto(`${url}/traces?from=now-24h&userId=nobody`)
    await poll(() => page.locator('.empty').textContent()).toContain('No traces match these filters')
    expect(await page.locator('[data-first-run]').count()).toBe(0)
  })

  it('a page on a listed origin sends spans and a score with an ingest key, and a real browser keeps it from reading', async () => {
    const web = await browser.newPage()
    try {
      await web.goto(`${siteOrigin}/`)
      const traceId = 'ab02030405060708090a0b0c0d0e0f10'
      const got = (await web.evaluate(
        `(async () => {
          const t = BigInt(Date.now()) * 1000000n
          const span = { traceId: '${traceId}', spanId: 'ab02030405060708', name: 'page load', kind: 1, startTimeUnixNano: String(t), endTimeUnixNano: String(t + 5000000n) }
          const headers = { authorization: 'Bearer ${WEB_KEY}', 'content-type': 'application/json' }
          const body = { resourceSpans: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'web-page' } }] }, scopeSpans: [{ spans: [span] }] }] }
          const sent = await fetch('${url}/v1/traces', { method: 'POST', headers, body: JSON.stringify(body) })
          const scored = await fetch('${url}/api/v1/scores', { method: 'POST', headers, body: JSON.stringify({ traceId: '${traceId}', name: 'thumbs', value: 1, source: 'user' }) })
          let read
          try { read = (await fetch('${url}/api/v1/traces', { headers })).status } catch (e) { read = e.name }
          return { sent: [sent.status, await sent.text()], scored: scored.status, read }
        })()`,
      )) as { sent: [number, string]; scored: number; read: number | string }
      // The page reads both replies (the grant is on them); a read of the data is refused by the browser itself.
      expect(got).toEqual({ sent: [200, '{}'], scored: 201, read: 'TypeError' })
      await app.spanlens.flush()
      const rs = await app.spanlens.store.client.query({ query: "SELECT name, service_name FROM spans FINAL WHERE project_id = 'web'", format: 'JSONEachRow' })
      expect(await rs.json()).toEqual([{ name: 'page load', service_name: 'web-page' }])
    } finally {
      await web.close()
    }
  })

  it('tells an ingest key apart from a wrong one at sign-in', async () => {
    await page.evaluate(`sessionStorage.clear()`)
    await page.goto(`${url}/overview`)
    await page.locator('input[name=apiKey]').fill(PAGE_KEY)
    await page.getByRole('button', { name: 'Sign in' }).click()
    await poll(() => page.locator('.signin [role=alert]').textContent()).toContain('This is an ingest key (SPANLENS_INGEST_KEYS)')
    expect(await page.evaluate(STORED_KEY)).toBeNull()
  })

  it('returns to sign-in when the session key stops working, and signs out', async () => {
    await page.evaluate(`sessionStorage.setItem('spanlens.apiKey', 'revoked-key-000000')`)
    await page.goto(`${url}/overview`)
    await poll(() => page.locator('.signin').textContent()).toContain('no longer accepted')
    await signIn(KEY)
    await page.getByRole('button', { name: 'Sign out' }).click()
    await poll(() => page.locator('.signin').count()).toBe(1)
    expect(await page.evaluate(STORED_KEY)).toBeNull()
    expect(pageErrors).toEqual([])
  })
})
