import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { FastifyInstance } from 'fastify'
import type { BrowserContext, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildServer, loadConfig } from '@spanlens/ingest'
import { launchBrowser } from './browser.js'
import { AGENT_TRACE, LONG_ANSWER, seed } from './seed.js'

const KEY = 'acme-console-key-0123'
// Pages fetch from the real server; the SLO burn-down alone makes 12 API calls. vitest's
// default 1 s poll flaked in CI on 2 busy cores, so waits get a realistic budget.
const poll = <T>(read: () => T | Promise<T>) => expect.poll(read, { timeout: 15_000 })
const ARTIFACTS = fileURLToPath(new URL('../../../test-artifacts/console/', import.meta.url))

let app: FastifyInstance
let url: string
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
      '',
    ].join('\n'),
  )
  const config = loadConfig({
    env: { SPANLENS_DATA_DIR: join(dir, 'data'), SPANLENS_API_KEYS: `acme:${KEY}`, SPANLENS_LOG_LEVEL: 'silent', SPANLENS_PORT: '0', SPANLENS_SLO_FILE: sloFile },
  })
  app = await buildServer(config)
  url = await app.listen({ host: '127.0.0.1', port: 0 })
  await seed(url, KEY)
  await app.spanlens.flush()
  browser = await launchBrowser()
  page = await browser.newPage()
  page.on('pageerror', (err) => pageErrors.push(err.message))
})

afterAll(async () => {
  await browser?.close()
  await app?.close()
  if (dir) rmSync(dir, { recursive: true, force: true })
})

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
    expect(await page.locator('table.traces tbody tr').first().textContent()).toMatch(/\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} (UTC|GMT[+-]\d+)/)
    await page.getByRole('button', { name: 'Older →' }).click()
    await poll(() => rows.count()).toBe(15)
    await page.getByRole('button', { name: '← Newer' }).click()
    await poll(() => rows.count()).toBe(50)
  })

  it('filters the list by model, user and text', async () => {
    await page.goto(`${url}/traces?from=now-24h&model=claude-sonnet-4`)
    const rows = page.locator('table.traces tbody tr')
    await poll(() => rows.count()).toBe(21)
    await page.getByLabel('Model').fill('')
    await page.getByLabel('User').fill('user-42')
    await page.getByRole('button', { name: 'Apply' }).click()
    await poll(() => rows.count()).toBe(1)
    await page.getByLabel('User').fill('')
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
    await poll(() => page.locator('[data-slo]').count()).toBe(2)
    expect(await page.locator('[data-slo="chat-latency"]').textContent()).toContain('Budget remaining')
    await poll(() => page.locator('figure[data-chart^="Error budget"] canvas').count()).toBeGreaterThan(0)
    await shot('07-slo')
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
