import type { Score } from '../web/src/api/types.js'
import { describe, expect, it } from 'vitest'
import { KEY, PAGE_KEY, STORED_KEY, TIME, WEB_KEY, app, axe, browser, page, poll, shot, signIn, signedIn, siteOrigin, url, useConsole } from './harness.js'
import { AGENT_TRACE, EXCEPTION, LINKED, LLM_SPAN, LONG_ANSWER, REFUSAL, sessionOf, TOOL_LOGS, TRACE_LOG } from './seed.js'

// console: sign-in, traces, a trace, scores, sessions, keys; every page passes axe (harness.ts: the server, the seeded projects and the browser).
useConsole()

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

    // The failing tool span's name is shown literally, and so is its exception: type and
    // message as text, the stack trace as sent; its events in time order, its link, its
    // resource and scope.
    expect(await items.nth(2).textContent()).toContain('<b>get_order</b>')
    // Its events are marked on its row at their times (an exception in red); the axis' last label stays on one line.
    expect(await items.nth(2).locator('.wf-event').count()).toBe(2)
    expect(await items.nth(2).locator('.wf-event.exception').count()).toBe(1)
    const mark = await items.nth(2).locator('.wf-event.exception').boundingBox()
    expect((mark!.x + 1 - track!.x) / track!.width).toBeCloseTo(1650 / 3000, 2)
    const lastTick = await page.locator('.wf-tick').last().boundingBox()
    expect(lastTick!.height).toBeLessThan(20)
    await items.nth(2).click()
    const events = detail.locator('.span-events li')
    await poll(() => events.count()).toBe(2)
    expect(await events.locator('strong').allTextContents()).toEqual(['cache.miss', 'exception'])
    expect(await events.nth(0).textContent()).toContain('+20 ms')
    expect(await detail.locator('.event-headline').textContent()).toBe(`${EXCEPTION.type}: ${EXCEPTION.message}`)
    expect(await detail.locator('pre.stacktrace').textContent()).toBe(EXCEPTION.stack)
    expect(await page.locator('.span-detail b').count()).toBe(0)
    const link = detail.locator('.span-links a')
    expect(await link.getAttribute('href')).toBe(`/traces/${LINKED.traceId}?span=${LINKED.spanId}`)
    expect(await detail.locator('.span-links').textContent()).toContain('retry of')
    expect(await detail.locator('dl.fields').textContent()).toContain('console-test 1.2.3')
    await detail.locator('[data-attributes="resource"] summary').click()
    expect(await detail.locator('[data-attributes="resource"]').textContent()).toContain('service.version')
    expect(await detail.locator('[data-attributes="scope"]').textContent()).toContain('Scope attributes (1)')
    // What it logged: oldest first, the severity (named from its number when no text came), bodies as text.
    const logs = detail.locator('.span-logs li')
    await poll(() => logs.count()).toBe(2)
    expect(await detail.locator('.span-logs h4').textContent()).toBe('Logs (2)')
    expect(await logs.locator('.kind').allTextContents()).toEqual(['INFO', 'ERROR'])
    expect(await logs.locator('pre.log-body').allTextContents()).toEqual(TOOL_LOGS.map((l) => l.body))
    expect(await logs.nth(0).textContent()).toContain('+5 ms')
    expect(await logs.nth(0).textContent()).toContain('order.id')
    expect(await page.locator('.span-detail i').count()).toBe(0)
    // The trace's record outside any span, under the trace, offset from its first span's start.
    const outside = page.locator('[data-logs="trace"]')
    await poll(() => outside.locator('li').count()).toBe(1)
    expect(await outside.locator('pre.log-body').textContent()).toBe(TRACE_LOG)
    expect(await outside.locator('li').textContent()).toContain('+3.10 s')
    await shot('03b-span-exception')

    // The long answer is folded.
    await items.nth(3).click()
    const folded = detail.locator('[data-content="output"] .folded')
    await poll(() => folded.getByRole('button').textContent()).toContain('Show all')
    expect(((await folded.locator('pre').textContent()) ?? '').length).toBeLessThan(LONG_ANSWER.length)
    await folded.getByRole('button').click()
    await poll(async () => ((await folded.locator('pre').textContent()) ?? '').length).toBeGreaterThanOrEqual(LONG_ANSWER.length)
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
    // Traces with a recorded exception, through the form's field: the agent trace's failing tool call.
    await page.goto(`${url}/traces?from=now-24h`)
    await page.locator('details.more-filters summary').click()
    await page.getByLabel('Span event').fill('exception')
    await page.getByRole('button', { name: 'Apply' }).click()
    await page.waitForURL(/event=exception/)
    await poll(() => rows.count()).toBe(1)
    expect(await rows.first().textContent()).toContain('support agent')
    await page.goto(`${url}/traces?from=now-24h&scope=console-test&event=cache.miss`)
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
  })
})
