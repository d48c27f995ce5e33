import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import OpenAI from 'openai'
import Anthropic from '@anthropic-ai/sdk'
import { buildServer, loadConfig } from '@spanlens/ingest'
import { flush, init, observe, score, shutdown, span, withContext, wrapAnthropic, wrapOpenAI } from '../src/index.js'
import { startLlmServer, type LlmServer } from '@spanlens/fake-llm'
import { captureLogger } from './helpers/logger.js'

// Own file: one embedded ClickHouse data directory per process (vitest forks per file).
const KEY = 'acme-key-0123456789'
let app: Awaited<ReturnType<typeof buildServer>>
let llm: LlmServer
let dir: string

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'spanlens-sdk-e2e-'))
  app = await buildServer(
    loadConfig({ env: { SPANLENS_DATA_DIR: dir, SPANLENS_PORT: '0', SPANLENS_API_KEYS: `acme:${KEY}`, SPANLENS_LOG_LEVEL: 'silent' } }),
  )
  await app.listen({ host: '127.0.0.1', port: 0 })
  llm = await startLlmServer()
})

afterAll(async () => {
  await shutdown()
  await llm?.close()
  await app?.close()
  rmSync(dir, { recursive: true, force: true })
})

describe('SDK → ingest → embedded ClickHouse', () => {
  it('stores chain, tool and LLM spans with kind, provider, models, tokens, content, user/session, ttft and status', async () => {
    const addr = app.server.address() as { port: number }
    init({ endpoint: `http://127.0.0.1:${addr.port}`, apiKey: KEY, serviceName: 'e2e-app', environment: 'staging', release: 'v9', flushOnExit: false, env: {} })
    const openai = wrapOpenAI(new OpenAI({ apiKey: 'sk-test', baseURL: `${llm.url}/v1`, maxRetries: 0 }))
    const anthropic = wrapAnthropic(new Anthropic({ apiKey: 'sk-ant', baseURL: llm.url, maxRetries: 0 }))
    const lookup = observe('lookup', (q: string) => `facts about ${q}`, { kind: 'tool' })
    const chain = observe('support_chain', async (question: string) => {
      const facts = lookup(question)
      const stream = await openai.chat.completions.create({
        model: 'gpt-4o',
        stream: true,
        stream_options: { include_usage: true },
        messages: [{ role: 'user', content: `${question} ${facts}` }],
      })
      let text = ''
      for await (const c of stream) text += c.choices[0]?.delta.content ?? ''
      await anthropic.messages.create({ model: 'claude-x', max_tokens: 20, messages: [{ role: 'user', content: text } ] }).catch(() => undefined)
      await openai.chat.completions.create({ model: 'error-429', messages: [{ role: 'user', content: 'x' }] }).catch(() => undefined)
      return text
    })
    await withContext({ userId: 'user-42', sessionId: 'sess-7', tags: ['e2e'] }, () => chain('refunds'))
    expect(await flush()).toBe(true)
    await app.spanlens.flush()

    const result = await app.spanlens.store.client.query({
      query: `SELECT name, kind, provider, operation, request_model, response_model, input_tokens, output_tokens,
                     cache_read_tokens, cache_write_tokens, input, output, user_id, session_id, ttft_ms, status_code,
                     error_type, trace_id, span_id, parent_span_id, service_name, environment, release, tags
              FROM spans FINAL ORDER BY start_time`,
      format: 'JSONEachRow',
    })
    const rows = (await result.json()) as Record<string, unknown>[]
    const by = (name: string) => {
      const r = rows.find((x) => x.name === name)
      if (!r) throw new Error(`no row ${name}; have ${rows.map((x) => x.name).join(', ')}`)
      return r
    }
    expect(rows).toHaveLength(5)
    const root = by('support_chain')
    expect(root).toMatchObject({ kind: 'chain', parent_span_id: '', user_id: 'user-42', session_id: 'sess-7', service_name: 'e2e-app', environment: 'staging', release: 'v9' })
    expect(String(root.output)).toContain('Hello from the fake model!')
    for (const r of rows) {
      expect(r.trace_id).toBe(root.trace_id)
      if (r !== root) expect(r.parent_span_id).toBe(root.span_id)
      expect(r.user_id).toBe('user-42')
      expect(r.tags).toEqual(['e2e'])
    }
    expect(by('lookup')).toMatchObject({ kind: 'tool' })
    const gpt = by('chat gpt-4o')
    expect(gpt).toMatchObject({
      kind: 'llm',
      provider: 'openai',
      operation: 'chat',
      request_model: 'gpt-4o',
      response_model: 'gpt-4o-2024',
      input_tokens: 12,
      output_tokens: 5,
      cache_read_tokens: 2,
      session_id: 'sess-7',
    })
    expect(Number(gpt.ttft_ms)).toBeGreaterThan(0)
    expect(String(gpt.input)).toContain('refunds')
    expect(String(gpt.output)).toContain('Hello from the fake model!')
    expect(by('chat claude-x')).toMatchObject({ kind: 'llm', provider: 'anthropic', input_tokens: 28, output_tokens: 6, cache_read_tokens: 5, cache_write_tokens: 3 })
    const failed = by('chat error-429')
    expect(String(failed.status_code).toLowerCase()).toContain('error')
    expect(failed.error_type).toBe('RateLimitError')
  })

  it('stores a score against a stored trace, with the time it was given', async () => {
    // init() is still live from the test above.
    const traceId = 'c'.repeat(32)
    // Given 30 days ago, on the hour: inside the server's 90-day retention whatever day the test runs.
    const given = Math.floor(Date.now() / 3_600_000) * 3_600_000 - 30 * 86_400_000
    expect(await score({ traceId, name: 'relevance', value: 0.75, source: 'evaluator', comment: 'ok', timestamp: given })).toBe(true)
    expect(await score({ traceId, name: 'thumbs', value: true })).toBe(true)
    const result = await app.spanlens.store.client.query({
      query: `SELECT name, value, source, comment, toString(timestamp) AS ts FROM scores WHERE trace_id = {t:String} ORDER BY name`,
      query_params: { t: traceId },
      format: 'JSONEachRow',
    })
    const rows = (await result.json()) as Record<string, unknown>[]
    expect(rows).toHaveLength(2)
    expect(rows[0]).toMatchObject({ name: 'relevance', value: 0.75, source: 'evaluator', comment: 'ok', ts: new Date(given).toISOString().replace('T', ' ').replace('Z', '') })
    expect(Math.abs(new Date(`${String(rows[1]!.ts).replace(' ', 'T')}Z`).getTime() - Date.now())).toBeLessThan(60_000)
  })

  it('stores a score whose comment and label are longer than the server takes, cut and marked', async () => {
    // init() is still live from the tests above.
    const traceId = 'd'.repeat(32)
    expect(await score({ traceId, name: 'long', value: 'label, '.repeat(5000), comment: 'a long comment, '.repeat(100_000) })).toBe(true)
    const result = await app.spanlens.store.client.query({
      query: `SELECT string_value, comment FROM scores WHERE trace_id = {t:String}`,
      query_params: { t: traceId },
      format: 'JSONEachRow',
    })
    const [row] = (await result.json()) as { string_value: string; comment: string }[]
    expect(row!.comment).toMatch(/^a long comment, .*…\[truncated \d+ chars\]$/s)
    expect(row!.string_value).toMatch(/^label, .*…\[truncated \d+ chars\]$/s)
  })

  it("warns with the server's reason when it refuses spans or a score, not the status alone", async () => {
    await shutdown()
    const logger = captureLogger()
    const url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`
    init({ endpoint: url, apiKey: 'not-the-key-0123', serviceName: 'e2e-app', flushOnExit: false, maxRetries: 0, logger, env: {} })
    span('refused', () => 1)
    await flush(2000)
    expect(logger.lines.join('\n')).toContain(`export to ${url}/v1/traces failed (HTTP 401: SPANLENS_UNAUTHORIZED: invalid API key)`)
    await shutdown()
    // A misspelt variable beside it: said at init(), as the server says its own.
    init({ endpoint: url, apiKey: KEY, serviceName: 'e2e-app', flushOnExit: false, maxRetries: 0, logger, env: { SPANLENS_RELESE: 'v9' } })
    expect(logger.lines.join('\n')).toContain('SPANLENS_RELESE is not read by the SDK and is ignored; did you mean SPANLENS_RELEASE?')
    expect(await score({ traceId: 'c'.repeat(32), name: 'late', value: 1, timestamp: Date.now() - 100 * 86_400_000 })).toBe(false)
    expect(logger.lines.join('\n')).toMatch(/score rejected by .*: HTTP 400 SPANLENS_BAD_REQUEST: timestamp: .* is older than the 90-day retention/)
  })
})
