import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startServer, type TestServer } from './helpers/server.js'

/**
 * Every payload under fixtures/otlp was captured from the real npm library of
 * its convention (fixtures/otlp/README.md says how). Each is posted unchanged,
 * to the path and with the auth scheme the library used, under a project of
 * its own; the stored rows are checked against what the fake provider actually
 * returned (manifest.json), so the expected values are not ours either.
 */
interface ProviderCall {
  path: string
  requestModel: string
  response: {
    status: number
    model?: string
    finishReason?: string
    // Chat Completions names (prompt/completion) or Responses API names (input/output).
    usage?: { promptTokens?: number; completionTokens?: number; inputTokens?: number; outputTokens?: number }
  }
}
interface FixtureFile {
  file: string
  convention: string
  scenario: string
  signal: string
  request: { path: string; contentType: string }
  spanCount: number
  spans: Array<{ name: string }>
  provider: ProviderCall[]
}
interface Row {
  name: string
  attributes: Record<string, string>
  kind: string
  provider: string
  operation: string
  request_model: string
  response_model: string
  input_tokens: number
  output_tokens: number
  cache_read_tokens: number
  cache_write_tokens: number
  reasoning_tokens: number
  cost_usd: number | null
  ttft_ms: number | null
  finish_reason: string
  input: string
  output: string
  user_id: string
  session_id: string
  status_code: string
  error_type: string
}

const root = new URL('./fixtures/otlp/', import.meta.url)
const manifest = JSON.parse(readFileSync(new URL('manifest.json', root), 'utf8')) as { files: FixtureFile[] }
const fixtures = manifest.files.filter((f) => f.signal === 'traces')
const projectOf = (f: FixtureFile) => `fx${fixtures.indexOf(f)}`
const keyOf = (f: FixtureFile) => `key-${projectOf(f)}-0123456789`

// What each library is known not to report (fixtures/otlp/README.md): token counts
// on streams (OpenInference), exact OpenAI stream usage (OpenLLMetry estimates it with
// tiktoken), stream usage without include_usage, OpenInference embedding usage.
const tokensUnreliable = (f: FixtureFile) =>
  (f.scenario.startsWith('stream') && ['openinference', 'openllmetry', 'openllmetry-legacy'].includes(f.convention)) ||
  f.scenario === 'stream-no-usage' ||
  (f.convention === 'openinference' && f.scenario === 'embeddings')

let server: TestServer
beforeAll(async () => {
  // Recorded payloads keep the times they were recorded at: with the default 90-day
  // retention they would be refused as too old 90 days after recording.
  server = await startServer({ SPANLENS_API_KEYS: fixtures.map((f) => `${projectOf(f)}:${keyOf(f)}`).join(','), SPANLENS_RETENTION_DAYS: '0' })
  for (const f of fixtures) {
    const authorization =
      f.request.path === '/api/public/otel/v1/traces'
        ? `Basic ${Buffer.from(`${projectOf(f)}:${keyOf(f)}`).toString('base64')}`
        : `Bearer ${keyOf(f)}`
    const res = await fetch(`${server.url}${f.request.path}`, {
      method: 'POST',
      headers: { 'content-type': f.request.contentType, authorization },
      body: readFileSync(new URL(f.file, root)),
    })
    const text = f.request.contentType.includes('json') ? await res.text() : ''
    if (res.status !== 200 || text.includes('rejectedSpans')) throw new Error(`${f.file}: HTTP ${res.status} ${text}`)
  }
  await server.app.spanlens.flush()
})
afterAll(() => server.close())

// What each library records as the model that answered, where it is not the provider's answer:
// nothing for embeddings (OpenInference, Vercel), and for OpenInference streams and
// @langfuse/openai streams the model asked for.
const RECORDED_RESPONSE_MODEL: Record<string, (call: ProviderCall) => string> = {
  'openinference/embeddings': () => '',
  'vercel-ai/embed': () => '',
  'vercel-ai-v7/embed': () => '',
  'openinference/stream': (call) => call.requestModel,
  'openinference/stream-no-usage': (call) => call.requestModel,
  'langfuse/openai-stream': (call) => call.requestModel,
}
// Langfuse has one model attribute, holding the model last put there: the one that answered
// (the app's generations, @langfuse/openai without streaming) or the one asked for (its streams).
const recordedRequestModel = (f: FixtureFile, call: ProviderCall): string | undefined =>
  f.convention === 'langfuse' && f.scenario !== 'openai-stream' ? call.response.model : call.requestModel

const rowsOf = (f: FixtureFile, where = '1') =>
  server.rows<Row>(`SELECT * FROM spans FINAL WHERE project_id = {p:String} AND ${where} ORDER BY start_time`, { p: projectOf(f) })
const fixture = (convention: string, scenario: string) =>
  fixtures.find((x) => x.convention === convention && x.scenario === scenario) as FixtureFile

describe.each(fixtures.map((f) => [f.file, f] as const))('fixture %s', (_file, f) => {
  it('stores every span and maps each model call to an llm/embedding row with its usage and cost', async () => {
    const rows = await rowsOf(f)
    expect(rows).toHaveLength(f.spanCount)
    expect(rows.map((r) => r.name).sort()).toEqual(f.spans.map((s) => s.name).sort())
    for (const call of f.provider.filter((p) => p.response.status === 200)) {
      const kind = call.path.includes('embeddings') ? 'embedding' : 'llm'
      // The model asked for and the model that answered (the fake provider answers with a
      // dated name) land in their own columns.
      const requested = recordedRequestModel(f, call)
      const candidates = rows.filter((r) => r.kind === kind && r.request_model === requested)
      expect(candidates.length, `no ${kind} row for ${requested}`).toBeGreaterThan(0)
      const answered = [...new Set(candidates.map((r) => r.response_model))]
      const recorded = RECORDED_RESPONSE_MODEL[`${f.convention}/${f.scenario}`]
      expect(answered, `response_model of ${requested}`).toEqual([recorded ? recorded(call) : call.response.model])
      const usage = call.response.usage
      if (!usage || tokensUnreliable(f)) continue
      const input = usage.promptTokens ?? usage.inputTokens ?? 0
      const output = usage.completionTokens ?? usage.outputTokens ?? 0
      const match = candidates.find((r) => r.input_tokens === input && r.output_tokens === output)
      expect(match, `tokens ${input}/${output}`).toBeDefined()
      // gpt-4o-mini and text-embedding-3-small are in the shipped price table.
      expect(match?.cost_usd).toBeGreaterThan(0)
    }
  })
})

describe('convention specifics', () => {
  it('OTel GenAI (contrib instrumentation): provider, operation, finish reasons, errors', async () => {
    const [chat] = await rowsOf(fixture('otel-genai', 'chat'))
    expect(chat).toMatchObject({ kind: 'llm', provider: 'openai', operation: 'chat', finish_reason: 'stop', input_tokens: 23 })
    const [err] = await rowsOf(fixture('otel-genai', 'error-429'))
    expect(err).toMatchObject({ status_code: 'error', cost_usd: null })
    expect(err?.error_type).not.toBe('')
    const [responses] = await rowsOf(fixture('otel-genai', 'responses'))
    expect(JSON.parse(responses?.input ?? '[]')[0].role).toBe('system')
  })

  it('OpenLLMetry <= 0.22: indexed prompt/completion attributes become messages; "OpenAI" becomes openai', async () => {
    const rows = await rowsOf(fixture('openllmetry-legacy', 'chat'), "kind = 'llm'")
    const r = rows[0] as Row
    expect(r.provider).toBe('openai')
    expect(JSON.parse(r.input)[0]).toMatchObject({ role: 'system' })
    expect(JSON.parse(r.output)[0]).toMatchObject({ role: 'assistant', finish_reason: 'stop' })
    expect(r).toMatchObject({ user_id: 'user-fixture-42', session_id: 'session-fixture-7' })
  })

  it('OpenLLMetry: workflow and task spans are chains carrying entity input/output', async () => {
    const rows = await rowsOf(fixture('openllmetry', 'task'), "kind = 'chain'")
    expect(rows.map((r) => r.name).sort()).toEqual(['summarize_task.task', 'summarize_workflow.workflow'])
    expect(rows.find((r) => r.name === 'summarize_task.task')?.input).toContain('Paris is the capital of France.')
    const tools = await rowsOf(fixture('openllmetry', 'tool-call'), "kind IN ('tool','agent')")
    expect(tools.map((r) => r.kind).sort()).toEqual(['agent', 'tool'])
  })

  it('OpenInference: span kinds, cached and reasoning tokens, messages, user and session', async () => {
    const [r] = await rowsOf(fixture('openinference', 'chat'), "kind = 'llm'")
    expect(r).toMatchObject({ provider: 'openai', input_tokens: 23, output_tokens: 9, cache_read_tokens: 8, reasoning_tokens: 3, finish_reason: 'stop' })
    expect(r).toMatchObject({ user_id: 'user-fixture-42', session_id: 'session-fixture-7' })
    expect(JSON.parse(r?.input ?? '[]')[0].role).toBe('system')
    const rag = await rowsOf(fixture('openinference', 'rag'))
    expect(rag.map((x) => x.kind).sort()).toEqual(['chain', 'llm', 'retrieval'])
    const [failing] = await rowsOf(fixture('openinference', 'error-in-chain'))
    expect(failing?.status_code).toBe('error')
  })

  it('Vercel AI SDK: doStream spans are the model calls with TTFT; the root is a chain; finish reasons share one vocabulary', async () => {
    const rows = await rowsOf(fixture('vercel-ai', 'stream-text-tools'))
    const llm = rows.filter((x) => x.kind === 'llm')
    expect(llm).toHaveLength(2)
    expect(llm.every((x) => (x.ttft_ms ?? 0) > 0)).toBe(true)
    expect(llm.map((x) => x.finish_reason)).toEqual(['tool_calls', 'stop'])
    expect(llm[0]).toMatchObject({ provider: 'openai', user_id: 'user-fixture-42', session_id: 'session-fixture-7' })
    expect(rows.find((x) => x.name === 'ai.streamText')?.kind).toBe('chain')
    expect(rows.find((x) => x.name === 'ai.toolCall')).toMatchObject({ kind: 'tool', input: '{"city":"Paris"}' })
    const embed = await rowsOf(fixture('vercel-ai', 'embed'), "kind = 'embedding'")
    expect(embed[0]).toMatchObject({ input_tokens: 6, request_model: 'text-embedding-3-small' })
  })

  it('Vercel AI SDK: the outer span repeats its steps\' usage, so its tokens are kept in attributes and every sum counts each call once', async () => {
    const rows = await rowsOf(fixture('vercel-ai', 'stream-text-tools'))
    const llm = rows.filter((x) => x.kind === 'llm')
    const outer = rows.find((x) => x.name === 'ai.streamText')
    const sum = (k: 'input_tokens' | 'output_tokens') => llm.reduce((n, x) => n + x[k], 0)
    expect(sum('input_tokens')).toBeGreaterThan(0)
    expect(outer).toMatchObject({ kind: 'chain', input_tokens: 0, output_tokens: 0, total_tokens: 0, cost_usd: null })
    // What it reported is the steps' sum, kept where the trace view shows it.
    expect(outer?.attributes).toMatchObject({ 'spanlens.reported.input_tokens': String(sum('input_tokens')), 'spanlens.reported.output_tokens': String(sum('output_tokens')) })
    const all = rows.reduce((n, x) => n + x.input_tokens, 0)
    expect(all).toBe(sum('input_tokens'))
  })

  it('Vercel AI SDK v7 gen_ai spans: TTFT from gen_ai.client.operation.time_to_first_chunk, steps as chains', async () => {
    const rows = await rowsOf(fixture('vercel-ai-v7', 'stream-text'))
    expect(rows.find((x) => x.kind === 'llm')?.ttft_ms).toBeGreaterThan(100)
    expect(rows.find((x) => x.name === 'step 1')?.kind).toBe('chain')
    expect(rows.find((x) => x.name.startsWith('invoke_agent'))?.kind).toBe('agent')
  })

  it('Langfuse: observation types, usage_details, completion_start_time as TTFT, errors by level', async () => {
    const [gen] = await rowsOf(fixture('langfuse', 'stream-generation'))
    expect(gen).toMatchObject({ kind: 'llm', input_tokens: 19, output_tokens: 12, user_id: 'user-fixture-42', session_id: 'session-fixture-7' })
    expect(gen?.ttft_ms).toBeGreaterThan(0)
    const agent = await rowsOf(fixture('langfuse', 'agent-tool'), "kind != 'llm'")
    expect(agent.map((r) => r.kind).sort()).toEqual(['agent', 'chain', 'tool'])
    const [err] = await rowsOf(fixture('langfuse', 'error'), "kind = 'llm'")
    expect(err?.status_code).toBe('error')
  })

  it('the model asked for and the model that answered, per library', async () => {
    const models = async (convention: string, scenario: string) =>
      (await rowsOf(fixture(convention, scenario), "kind = 'llm'")).map((r) => [r.request_model, r.response_model])
    // OpenInference: asked for in llm.invocation_parameters.model, answered in llm.model_name...
    expect(await models('openinference', 'chat')).toEqual([['gpt-4o-mini', 'gpt-4o-mini-2024-07-18']])
    expect(await models('openinference', 'tool-call')).toEqual([
      ['gpt-4o-mini', 'gpt-4o-mini-2024-07-18'],
      ['gpt-4o-mini', 'gpt-4o-mini-2024-07-18'],
    ])
    // ...except on streams, where llm.model_name is the model asked for.
    expect(await models('openinference', 'stream')).toEqual([['gpt-4o-mini', 'gpt-4o-mini']])
    // Langfuse: one attribute, whatever was put there last.
    expect(await models('langfuse', 'generation')).toEqual([['gpt-4o-mini-2024-07-18', 'gpt-4o-mini-2024-07-18']])
    expect(await models('langfuse', 'openai-chat')).toEqual([['gpt-4o-mini-2024-07-18', 'gpt-4o-mini-2024-07-18']])
    expect(await models('langfuse', 'openai-stream')).toEqual([['gpt-4o-mini', 'gpt-4o-mini']])
    // OpenLLMetry and the Anthropic SDK: gen_ai.request.model and gen_ai.response.model.
    expect(await models('openllmetry-anthropic', 'chat')).toEqual([['claude-haiku-4-5', 'claude-haiku-4-5-20251001']])
    // OpenInference's Anthropic instrumentation also names both, streams included.
    expect(await models('openinference-anthropic', 'chat')).toEqual([['claude-haiku-4-5', 'claude-haiku-4-5-20251001']])
    expect(await models('openinference-anthropic', 'stream')).toEqual([['claude-haiku-4-5', 'claude-haiku-4-5-20251001']])
  })

  it("Langfuse's OpenAI integration: the usage details it splits off are added back, stream TTFT", async () => {
    const [chat] = await rowsOf(fixture('langfuse', 'openai-chat'))
    expect(chat).toMatchObject({ kind: 'llm', input_tokens: 23, output_tokens: 9, cache_read_tokens: 8, reasoning_tokens: 3, user_id: 'user-fixture-42' })
    const [stream] = await rowsOf(fixture('langfuse', 'openai-stream'))
    expect(stream).toMatchObject({ kind: 'llm', input_tokens: 19, output_tokens: 12 })
    expect(stream?.ttft_ms).toBeGreaterThan(0)
  })

  it('OpenLLMetry on the Anthropic SDK: cache reads and writes counted in, the SDK span demoted, errors on both spans', async () => {
    const rows = await rowsOf(fixture('openllmetry-anthropic', 'chat'))
    expect(rows.map((r) => [r.name, r.kind]).sort()).toEqual([
      ['anthropic.messages.create', 'other'],
      ['chat claude-haiku-4-5', 'llm'],
    ])
    const chat = rows.find((r) => r.kind === 'llm')
    expect(chat).toMatchObject({ provider: 'anthropic', input_tokens: 1514, output_tokens: 9, cache_read_tokens: 1200, cache_write_tokens: 300, finish_reason: 'stop' })
    expect(chat).toMatchObject({ user_id: 'user-fixture-42', session_id: 'session-fixture-7' })
    expect(JSON.parse(chat?.input ?? '[]')[0]).toMatchObject({ role: 'system' })
    const failed = await rowsOf(fixture('openllmetry-anthropic', 'error-429'))
    expect(failed.map((r) => r.status_code)).toEqual(['error', 'error'])
    expect(failed.find((r) => r.name === 'anthropic.messages.create')?.error_type).toBe('rate_limit_error')
  })

  it("OpenInference on the Anthropic SDK: cache counted in by the library, the SDK span demoted, a failed call's spans both ended", async () => {
    const rows = await rowsOf(fixture('openinference-anthropic', 'chat'))
    expect(rows.map((r) => [r.name, r.kind]).sort()).toEqual([
      ['Anthropic Messages', 'llm'],
      ['anthropic.messages.create', 'other'],
    ])
    expect(rows.find((r) => r.kind === 'llm')).toMatchObject({ provider: 'anthropic', input_tokens: 1514, output_tokens: 9, cache_read_tokens: 1200, cache_write_tokens: 300, finish_reason: 'stop', user_id: 'user-fixture-42' })
    const failed = await rowsOf(fixture('openinference-anthropic', 'error-429'))
    expect(failed.map((r) => r.status_code)).toEqual(['error', 'error'])
  })

  it('plain OpenTelemetry spans are kept as kind other with their status', async () => {
    for (const scenario of ['proto', 'proto-gzip', 'json', 'json-gzip']) {
      const rows = await rowsOf(fixture('otel-plain', scenario))
      expect(rows.map((r) => r.kind)).toEqual(['other', 'other', 'other'])
      expect(rows.find((r) => r.name === 'SELECT users')?.status_code).toBe('error')
    }
  })

  it('prompt and completion are captured wherever the convention puts them on spans', async () => {
    for (const convention of ['openllmetry', 'openllmetry-legacy', 'openinference', 'vercel-ai', 'vercel-ai-v7', 'langfuse']) {
      const f = fixtures.find((x) => x.convention === convention && /^(chat|generate-text|generation)$/.test(x.scenario)) as FixtureFile
      const rows = await rowsOf(f, "kind = 'llm' AND input != '' AND output != ''")
      expect(rows.length, f.file).toBeGreaterThan(0)
    }
  })
})
