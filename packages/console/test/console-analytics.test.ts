import type { Route } from 'playwright-core'
import { describe, expect, it } from 'vitest'
import { EMPTY_KEY, ISO, KEY, TIME, WIDE_KEY, atTraces, axe, page, poll, shot, signIn, signedIn, url, useConsole } from './harness.js'
import { LONG } from './seed.js'

// console: overview, drift, bias and SLO pages; long strings, an unreachable server, a project without spans (harness.ts: the server, the seeded projects and the browser).
useConsole()

describe('console served by the Spanlens server', () => {
  it('draws the overview charts', async () => {
    await signedIn()
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
    await signedIn()
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
    await signedIn()
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
    await signedIn()
    await page.getByRole('link', { name: 'SLOs' }).click()
    await poll(() => page.locator('[data-slo]').count()).toBe(4)
    expect(await page.locator('[data-slo="chat-latency"]').textContent()).toContain('Budget remaining')
    await poll(() => page.locator('figure[data-chart^="Error budget"] canvas').count()).toBeGreaterThan(0)
    // The time of the evaluation, written as every other time (format.ts: the zone named).
    expect(await page.locator('.verdict').textContent()).toMatch(new RegExp(`evaluated at ${TIME.source}$`))
    await shot('07-slo')
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
      // Every folded table open: the span's attributes, its resource and its scope's.
      for (const summary of await page.locator('details.attributes summary').all()) await summary.click()
      await poll(() => page.locator('details.attributes tbody tr').filter({ hasText: LONG.attrValue }).count()).toBe(1)
      await poll(() => page.locator('.span-events tbody tr').filter({ hasText: LONG.attrValue }).count()).toBe(2)
      await poll(() => page.locator('.span-links tbody tr').filter({ hasText: LONG.attrValue }).count()).toBe(1)
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
})
