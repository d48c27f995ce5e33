import { describe, expect, it } from 'vitest'
import Anthropic, { RateLimitError } from '@anthropic-ai/sdk'
import { betaTool } from '@anthropic-ai/sdk/helpers/beta/json-schema'
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base'
import { flush, getStats, shutdown, wrapAnthropic } from '../src/index.js'
import { byName, json, useHarness } from './helpers/harness.js'
import { captureLogger } from './helpers/logger.js'
import { cutSseFetch, sseFetch, textPieces } from './helpers/sse-fetch.js'

const h = useHarness()
const client = () => new Anthropic({ apiKey: 'sk-ant-test', baseURL: h.llm.url, maxRetries: 0 })
const tools = [{ name: 'get_weather', description: 'weather', input_schema: { type: 'object' as const, properties: { city: { type: 'string' } } } }]

/** A stream's first event, before it fails. */
const MESSAGE_START = { type: 'message_start', message: { id: 'msg_1', type: 'message', role: 'assistant', model: 'm', content: [], stop_reason: null, usage: { input_tokens: 3, output_tokens: 0 } } }

describe('wrapAnthropic', () => {
  it('records a plain messages call with system instructions, tool use and cache tokens', async () => {
    h.start()
    const ai = wrapAnthropic(client())
    const msg = await ai.messages.create({
      model: 'claude-test',
      max_tokens: 100,
      system: 'You are terse.',
      tools,
      messages: [{ role: 'user', content: 'Weather in Paris?' }],
    })
    expect(msg.content[1]).toMatchObject({ type: 'tool_use', name: 'get_weather' })
    await flush()
    const span = byName(h.receiver.spans, 'chat claude-test')
    expect(span.attributes).toMatchObject({
      'gen_ai.provider.name': 'anthropic',
      'gen_ai.request.max_tokens': 100,
      'gen_ai.response.model': 'claude-test-20250101',
      'gen_ai.response.id': 'msg_1',
      'gen_ai.response.finish_reasons': ['tool_use'],
      // 20 uncached + 5 read + 3 written: semconv input_tokens counts all input
      'gen_ai.usage.input_tokens': 28,
      'gen_ai.usage.output_tokens': 6,
      'gen_ai.usage.cache_read.input_tokens': 5,
      'gen_ai.usage.cache_creation.input_tokens': 3,
    })
    expect(json(span.attributes['gen_ai.system_instructions'])).toEqual([{ type: 'text', content: 'You are terse.' }])
    expect(json(span.attributes['gen_ai.output.messages'])).toEqual([
      {
        role: 'assistant',
        parts: [
          { type: 'text', content: 'Hello from Claude' },
          { type: 'tool_call', id: 'toolu_1', name: 'get_weather', arguments: { city: 'Paris' } },
        ],
        finish_reason: 'tool_use',
      },
    ])
  })

  it('records a call read with .asResponse(), plain and streamed: request, HTTP status and time, without the body', async () => {
    h.start()
    const ai = wrapAnthropic(client())
    const response = await ai.messages.create({ model: 'claude-raw', max_tokens: 10, messages: [{ role: 'user', content: 'Hi' }] }).asResponse()
    expect(((await response.json()) as { id: string }).id).toBe('msg_1')
    const streamed = await ai.messages.create({ model: 'claude-raw-stream', max_tokens: 10, stream: true, messages: [{ role: 'user', content: 'Hi' }] }).asResponse()
    expect(await streamed.text()).toContain('message_stop')
    await flush()
    for (const name of ['chat claude-raw', 'chat claude-raw-stream']) {
      const span = byName(h.receiver.spans, name)
      expect(span.status.code).toBe(0)
      expect(span.attributes).toMatchObject({ 'gen_ai.provider.name': 'anthropic', 'http.response.status_code': 200 })
      expect(span.attributes['gen_ai.output.messages']).toBeUndefined()
    }
    expect(h.receiver.spans).toHaveLength(2)
  })

  it('records a streamed create(stream: true) and the messages.stream() helper', async () => {
    h.start()
    const ai = wrapAnthropic(client())
    const stream = await ai.messages.create({ model: 'claude-stream', max_tokens: 50, stream: true, tools, messages: [{ role: 'user', content: 'hi' }] })
    expect(stream.controller).toBeInstanceOf(AbortController)
    let text = ''
    for await (const e of stream) if (e.type === 'content_block_delta' && e.delta.type === 'text_delta') text += e.delta.text
    expect(text).toBe('Hello from Claude')

    const final = await ai.messages.stream({ model: 'claude-helper', max_tokens: 50, messages: [{ role: 'user', content: 'hi' }] }).finalMessage()
    expect(final.content[0]).toMatchObject({ type: 'text', text: 'Hello from Claude' })
    await flush()
    const s = byName(h.receiver.spans, 'chat claude-stream')
    expect(s.attributes).toMatchObject({ 'gen_ai.usage.input_tokens': 28, 'gen_ai.usage.output_tokens': 6, 'gen_ai.response.finish_reasons': ['tool_use'] })
    expect(s.attributes['gen_ai.response.time_to_first_chunk']).toBeGreaterThan(0)
    expect(json(s.attributes['gen_ai.output.messages'])).toEqual([
      {
        role: 'assistant',
        parts: [
          { type: 'text', content: 'Hello from Claude' },
          { type: 'tool_call', id: 'toolu_1', name: 'get_weather', arguments: { city: 'Paris' } },
        ],
        finish_reason: 'tool_use',
      },
    ])
    const helper = byName(h.receiver.spans, 'chat claude-helper')
    expect(helper.attributes['gen_ai.usage.output_tokens']).toBe(6)
    expect(helper.status.code).toBe(0)
  })

  it('keeps of a long streamed message only what the content cut reads, and records its usage, stop reason and ttft', async () => {
    h.start({ maxContentLength: 1000 })
    // 60,000 characters of text and 20,000 of tool input: past 2 × (1,000 + 16,384).
    const pieces = textPieces(600, 100)
    const events = [
      { type: 'message_start', message: { id: 'msg_long', type: 'message', role: 'assistant', model: 'claude-long', content: [], stop_reason: null, usage: { input_tokens: 9, output_tokens: 1 } } },
      { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
      ...pieces.map((text) => ({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text } })),
      { type: 'content_block_stop', index: 0 },
      { type: 'content_block_start', index: 1, content_block: { type: 'tool_use', id: 'toolu_long', name: 'save', input: {} } },
      ...Array.from({ length: 20 }, () => ({ type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: 'a'.repeat(1000) } })),
      { type: 'content_block_stop', index: 1 },
      { type: 'message_delta', delta: { stop_reason: 'tool_use' }, usage: { output_tokens: 20_000 } },
      { type: 'message_stop' },
    ]
    const ai = wrapAnthropic(new Anthropic({ apiKey: 'sk-ant', baseURL: 'http://in-process', maxRetries: 0, fetch: sseFetch(events, { eventNames: true }) }))
    const stream = await ai.messages.create({ model: 'claude-long', max_tokens: 50_000, stream: true, messages: [{ role: 'user', content: 'go' }] })
    let received = 0
    for await (const e of stream) if (e.type === 'content_block_delta' && e.delta.type === 'text_delta') received += e.delta.text.length
    expect(received).toBe(60_000)
    await flush()
    const s = byName(h.receiver.spans, 'chat claude-long')
    expect(s.status.code).toBe(0)
    expect(s.attributes).toMatchObject({ 'gen_ai.usage.input_tokens': 9, 'gen_ai.usage.output_tokens': 20_000, 'gen_ai.response.finish_reasons': ['tool_use'], 'gen_ai.response.id': 'msg_long' })
    expect(s.attributes['gen_ai.response.time_to_first_chunk']).toBeGreaterThan(0)
    const output = String(s.attributes['gen_ai.output.messages'])
    expect(output.startsWith(`[{"role":"assistant","parts":[{"type":"text","content":"${pieces[0]!.slice(0, 50)}`)).toBe(true)
    expect(output).toMatch(/…\[truncated more than \d+ chars\]$/)
    expect(output.length).toBeLessThanOrEqual(1050)
  })

  it('traces calls through a client withOptions() made, the stream() helper and beta included, and leaves the wrapped client as it was', async () => {
    h.start()
    const ai = wrapAnthropic(client())
    const copy = ai.withOptions({ maxRetries: 1 })
    expect(copy).toBeInstanceOf(Anthropic)
    expect(copy.maxRetries).toBe(1)
    expect(ai.maxRetries).toBe(0)
    await copy.messages.create({ model: 'claude-copy', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] })
    await copy.withOptions({ timeout: 5000 }).messages.stream({ model: 'claude-copy-helper', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] }).finalMessage()
    await copy.beta.messages.create({ model: 'claude-copy-beta', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] })
    await flush()
    expect(h.receiver.spans.map((s) => s.name).sort()).toEqual(['chat claude-copy', 'chat claude-copy-beta', 'chat claude-copy-helper'])
  })

  it('traces the parse() helper, plain and beta, as one chat span per request, as create()', async () => {
    h.start()
    const ai = wrapAnthropic(client())
    const parsed = await ai.messages.parse({ model: 'claude-parse', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] })
    expect(parsed.content[0]).toMatchObject({ type: 'text', text: 'Hello from Claude' })
    await ai.beta.messages.parse({ model: 'claude-beta-parse', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] })
    await flush()
    expect(h.receiver.spans.map((s) => s.name).sort()).toEqual(['chat claude-beta-parse', 'chat claude-parse'])
    expect(byName(h.receiver.spans, 'chat claude-parse').attributes).toMatchObject({ 'gen_ai.provider.name': 'anthropic', 'gen_ai.response.finish_reasons': ['end_turn'] })
  })

  it('records beta.messages.create and beta.messages.stream() with the same attributes', async () => {
    h.start()
    const ai = wrapAnthropic(client())
    const msg = await ai.beta.messages.create({ model: 'claude-beta', max_tokens: 100, tools, messages: [{ role: 'user', content: 'Weather in Paris?' }] })
    expect(msg.content[1]).toMatchObject({ type: 'tool_use', name: 'get_weather' })
    const final = await ai.beta.messages.stream({ model: 'claude-beta-stream', max_tokens: 50, messages: [{ role: 'user', content: 'hi' }] }).finalMessage()
    expect(final.content[0]).toMatchObject({ type: 'text', text: 'Hello from Claude' })
    await flush()
    for (const name of ['chat claude-beta', 'chat claude-beta-stream']) {
      const span = byName(h.receiver.spans, name)
      expect(span.attributes).toMatchObject({
        'gen_ai.provider.name': 'anthropic',
        'gen_ai.response.id': name === 'chat claude-beta' ? 'msg_1' : 'msg_s1',
        'gen_ai.usage.input_tokens': 28,
        'gen_ai.usage.output_tokens': 6,
        'spanlens.span.kind': 'llm',
      })
      expect(json(span.attributes['gen_ai.input.messages'])).toEqual([
        { role: 'user', parts: [{ type: 'text', content: name === 'chat claude-beta' ? 'Weather in Paris?' : 'hi' }] },
      ])
    }
    expect(byName(h.receiver.spans, 'chat claude-beta-stream').attributes['gen_ai.response.time_to_first_chunk']).toBeGreaterThan(0)
    expect(h.receiver.spans).toHaveLength(2)
  })

  it("traces each turn of beta.messages.toolRunner(), threaded or not, and of a message thread, as one chat span", async () => {
    h.start()
    const ai = wrapAnthropic(client())
    const ran: unknown[] = []
    const weather = betaTool({
      name: 'get_weather',
      description: 'weather',
      inputSchema: { type: 'object', properties: { city: { type: 'string' } } },
      run: (input) => {
        ran.push(input)
        return 'sunny'
      },
    })
    const params = { max_tokens: 50, tools: [weather], messages: [{ role: 'user' as const, content: 'Weather in Paris?' }] }
    // Threaded (the default on this client) and with the whole history each turn.
    expect((await ai.beta.messages.toolRunner({ ...params, model: 'claude-runner-true' })).stop_reason).toBe('end_turn')
    expect((await ai.beta.messages.toolRunner({ ...params, model: 'claude-runner-false', thread: false })).stop_reason).toBe('end_turn')
    expect(ran).toHaveLength(2)
    const thread = ai.beta.messages.thread({ model: 'claude-thread', max_tokens: 20 })
    await thread.send({ role: 'user', content: 'Hello' })
    await thread.send({ role: 'user', content: 'Again' })
    await flush()
    // Each runner asks twice: the tool call, then the answer once the tool's result is in.
    expect(h.receiver.spans.map((s) => s.name).sort()).toEqual(['chat claude-runner-false', 'chat claude-runner-false', 'chat claude-runner-true', 'chat claude-runner-true', 'chat claude-thread', 'chat claude-thread'])
    const turns = h.receiver.spans.filter((s) => s.name === 'chat claude-runner-false')
    expect(turns.map((s) => s.attributes['gen_ai.response.finish_reasons'])).toEqual(expect.arrayContaining([['tool_use'], ['end_turn']]))
  })

  it('re-throws API errors unchanged and marks aborted streams as errors', async () => {
    h.start()
    const ai = wrapAnthropic(client())
    const err = await ai.messages.create({ model: 'error-429', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(RateLimitError)
    const stream = await ai.messages.create({ model: 'slow', max_tokens: 5, stream: true, messages: [{ role: 'user', content: 'x' }] })
    let n = 0
    for await (const _ of stream) if (++n === 4) break
    await flush()
    expect(byName(h.receiver.spans, 'chat error-429').attributes['error.type']).toBe('RateLimitError')
    const aborted = byName(h.receiver.spans, 'chat slow')
    expect(aborted.status.code).toBe(2)
    expect(aborted.attributes['error.type']).toBe('aborted')
  })

  it.each([
    ['an error event', sseFetch([MESSAGE_START, { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }], { eventNames: true }), 'APIError'],
    ['a connection cut', cutSseFetch([MESSAGE_START]), 'TypeError'],
  ])("records %s in the middle of a stream as the client's error it re-throws, not as the app stopping the stream", async (_case, fetch, type) => {
    h.start()
    const ai = wrapAnthropic(new Anthropic({ apiKey: 'sk-ant-test', baseURL: 'http://in-process', maxRetries: 0, fetch }))
    const stream = await ai.messages.create({ model: 'mid-stream', max_tokens: 5, stream: true, messages: [{ role: 'user', content: 'x' }] })
    const err = await (async () => {
      for await (const _ of stream);
    })().catch((e: unknown) => e)
    expect((err as Error).constructor.name).toBe(type)
    await flush()
    const span = byName(h.receiver.spans, 'chat mid-stream')
    expect(span.status).toEqual({ code: 2, message: (err as Error).message })
    expect(span.attributes['error.type']).toBe(type)
  })

  it.each([
    ['without a reason', undefined],
    ['with a reason of its own, which the client re-throws', new Error('user left')],
  ])('records a stream the app aborts through its controller %s as aborted', async (_case, reason) => {
    h.start()
    const ai = wrapAnthropic(client())
    const stream = await ai.messages.create({ model: 'slow', max_tokens: 5, stream: true, messages: [{ role: 'user', content: 'x' }] })
    let n = 0
    const err = await (async () => {
      for await (const _ of stream) if (++n === 4) stream.controller.abort(reason)
    })().catch((e: unknown) => e)
    expect(err).toBe(reason)
    await flush()
    const span = byName(h.receiver.spans, 'chat slow')
    expect(span.status).toEqual({ code: 2, message: 'stream aborted' })
    expect(span.attributes['error.type']).toBe('aborted')
  })

  it('names anthropic in the diagnostic when it cannot read a request, and the call still answers', async () => {
    // The client sends this block's toJSON(); reading its text, as the SDK does, throws.
    const block = { type: 'text' as const, text: 'hi', toJSON: () => ({ type: 'text', text: 'hi' }) }
    Object.defineProperty(block, 'text', {
      enumerable: true,
      get: () => {
        throw new Error('text getter broke')
      },
    })
    // Own provider: the request is described after the call starts. Attached: as it starts.
    for (const tracerProvider of [undefined, new BasicTracerProvider()]) {
      const logger = captureLogger()
      const lines = logger.lines
      h.start({ logger, tracerProvider })
      const ai = wrapAnthropic(client())
      const msg = await ai.messages.create({ model: 'claude-test', max_tokens: 10, messages: [{ role: 'user', content: [block] }] })
      expect(msg.id).toBe('msg_1')
      await flush()
      expect(getStats().instrumentationErrors).toBe(1)
      expect(lines).toHaveLength(1)
      expect(lines[0]).toContain('in anthropic request')
      expect(lines[0]).toContain('text getter broke')
      expect(lines[0]).not.toContain('openai')
      await shutdown()
    }
  })
})
