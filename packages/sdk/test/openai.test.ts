import { describe, expect, it } from 'vitest'
import OpenAI, { RateLimitError, InternalServerError } from 'openai'
import { Stream } from 'openai/core/streaming'
import { ChatCompletionRunner } from 'openai/lib/ChatCompletionRunner'
import { ChatCompletionStream } from 'openai/lib/ChatCompletionStream'
import { parseChatCompletion } from 'openai/lib/parser'
import type { FinishedSpan } from '../src/index.js'
import { context, ROOT_CONTEXT, trace } from '@opentelemetry/api'
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base'
import { flush, getStats, observe, shutdown, withContext, wrapOpenAI } from '../src/index.js'
import { byName, json, useHarness } from './helpers/harness.js'
import { inProcessOpenAI } from './helpers/in-process-openai.js'
import { captureLogger } from './helpers/logger.js'
import { cutSseFetch, sseFetch, textPieces } from './helpers/sse-fetch.js'

const h = useHarness()
const client = () => new OpenAI({ apiKey: 'sk-test', baseURL: `${h.llm.url}/v1`, maxRetries: 0 })

/** A streamed chat call the fake model answers with a get_weather tool call, arguments {"city":"Paris"}, and usage. */
const WEATHER_STREAM: OpenAI.Chat.ChatCompletionCreateParamsStreaming = {
  model: 'gpt-4o',
  stream: true,
  stream_options: { include_usage: true },
  messages: [{ role: 'user', content: 'Weather in Paris?' }],
  tools: [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }],
}

/** A stream's first chunk, before it fails. */
const PARTIAL_CHUNK = { id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: { role: 'assistant', content: 'partial' }, finish_reason: null }] }

describe('wrapOpenAI: chat completions', () => {
  it('records a plain chat call with semconv attributes and returns the bare client result unchanged', async () => {
    h.start({ environment: 'test', release: '1.2.3' })
    const bare = client()
    const ai = wrapOpenAI(bare)
    const params = {
      model: 'gpt-4o-mini',
      temperature: 0.2,
      max_tokens: 50,
      messages: [
        { role: 'system' as const, content: 'Be brief.' },
        { role: 'user' as const, content: 'Say hello' },
      ],
    }
    const promise = ai.chat.completions.create(params)
    expect(promise.constructor.name).toBe('APIPromise')
    const { data, response, request_id } = await promise.withResponse()
    expect(response.status).toBe(200)
    expect(request_id).toBe('req_test')
    const plain = await bare.chat.completions.create(params)
    // Same body, field for field (`created` is the fake server's clock and may tick between the calls).
    const sameClock = (v: object) => JSON.stringify({ ...v, created: 0 })
    expect(sameClock(data)).toBe(sameClock(plain))
    expect((data as { _request_id?: string })._request_id).toBe('req_test')

    await flush()
    const span = byName(h.receiver.spans, 'chat gpt-4o-mini')
    expect(h.receiver.spans).toHaveLength(1) // the bare call made no span
    expect(span.kind).toBe(3) // CLIENT
    expect(span.attributes).toMatchObject({
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'gpt-4o-mini',
      'gen_ai.request.temperature': 0.2,
      'gen_ai.request.max_tokens': 50,
      'gen_ai.response.model': 'gpt-4o-mini-2024',
      'gen_ai.response.id': 'chatcmpl-1',
      'gen_ai.response.finish_reasons': ['stop'],
      'gen_ai.usage.input_tokens': 12,
      'gen_ai.usage.output_tokens': 5,
      'gen_ai.usage.cache_read.input_tokens': 2,
      'gen_ai.usage.reasoning.output_tokens': 1,
      'spanlens.span.kind': 'llm',
    })
    expect(json(span.attributes['gen_ai.input.messages'])).toEqual([
      { role: 'system', parts: [{ type: 'text', content: 'Be brief.' }] },
      { role: 'user', parts: [{ type: 'text', content: 'Say hello' }] },
    ])
    expect(json(span.attributes['gen_ai.output.messages'])).toEqual([
      { role: 'assistant', parts: [{ type: 'text', content: 'Hello from the fake model!' }], finish_reason: 'stop' },
    ])
    expect(span.resource).toMatchObject({ 'service.name': 'sdk-tests', 'deployment.environment.name': 'test', 'service.version': '1.2.3' })
    expect(h.receiver.requests[0]?.headers).toMatchObject({ authorization: 'Bearer sl_test_key', 'content-type': 'application/x-protobuf' })
  })

  it('streams with include_usage and tool calls: same Stream object, assembled completion, ttft', async () => {
    h.start()
    const ai = wrapOpenAI(client())
    const stream = await ai.chat.completions.create(WEATHER_STREAM)
    expect(stream).toBeInstanceOf(Stream)
    expect(stream.controller).toBeInstanceOf(AbortController)
    let args = ''
    let sawUsage = false
    for await (const chunk of stream) {
      args += chunk.choices[0]?.delta.tool_calls?.[0]?.function?.arguments ?? ''
      if (chunk.usage) sawUsage = true
    }
    expect(args).toBe('{"city":"Paris"}')
    expect(sawUsage).toBe(true)
    await flush()
    const span = byName(h.receiver.spans, 'chat gpt-4o')
    expect(span.status.code).toBe(0)
    expect(span.attributes).toMatchObject({
      'spanlens.request.stream': true,
      'gen_ai.response.finish_reasons': ['tool_calls'],
      'gen_ai.usage.input_tokens': 12,
      'gen_ai.usage.output_tokens': 5,
      'gen_ai.response.id': 'chatcmpl-s1',
    })
    expect(span.attributes['gen_ai.response.time_to_first_chunk']).toBeGreaterThan(0)
    expect(span.attributes['gen_ai.response.time_to_first_chunk']).toBeLessThan(5)
    expect(json(span.attributes['gen_ai.output.messages'])).toEqual([
      { role: 'assistant', parts: [{ type: 'tool_call', id: 'call_1', name: 'get_weather', arguments: { city: 'Paris' } }], finish_reason: 'tool_calls' },
    ])
    expect(json(span.attributes['gen_ai.tool.definitions'])).toHaveLength(1)
  })

  it('keeps of a long streamed completion only what the content cut reads, and records its usage, finish reason and ttft', async () => {
    const maxContentLength = 1000
    h.start({ maxContentLength })
    // 60,000 characters of text, then a tool call with 20,000 of arguments: past 2 × (1,000 + 16,384).
    const pieces = textPieces(600, 100)
    const base = { id: 'chatcmpl-long', object: 'chat.completion.chunk', created: 1, model: 'gpt-long' }
    const chunk = (delta: object, finish: string | null = null) => ({ ...base, choices: [{ index: 0, delta, finish_reason: finish }] })
    // An email across the cut: what the stream keeps must still let redaction see it whole.
    const prefix = JSON.stringify([{ role: 'assistant', parts: [{ type: 'text', content: '' }] }]).indexOf('""') + 1
    const at = maxContentLength - prefix - 10
    const first = pieces[0]!.repeat(10)
    pieces.splice(0, 10, `${first.slice(0, at)} robert.smith@example.com ${first.slice(at + 26)}`)
    const events = [
      chunk({ role: 'assistant', content: '' }),
      ...pieces.map((content) => chunk({ content })),
      chunk({ tool_calls: [{ index: 0, id: 'call_long', type: 'function', function: { name: 'save', arguments: '' } }] }),
      ...Array.from({ length: 20 }, () => chunk({ tool_calls: [{ index: 0, function: { arguments: 'a'.repeat(1000) } }] })),
      chunk({}, 'tool_calls'),
      { ...base, choices: [], usage: { prompt_tokens: 7, completion_tokens: 20_000, total_tokens: 20_007 } },
    ]
    const ai = wrapOpenAI(new OpenAI({ apiKey: 'sk-test', baseURL: 'http://in-process/v1', maxRetries: 0, fetch: sseFetch(events, { done: true }) }))
    const stream = await ai.chat.completions.create({ model: 'gpt-long', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'go' }] })
    let received = 0
    for await (const c of stream) received += c.choices[0]?.delta.content?.length ?? 0
    expect(received).toBe(pieces.join('').length)
    await flush()
    const s = byName(h.receiver.spans, 'chat gpt-long')
    expect(s.status.code).toBe(0)
    expect(s.attributes).toMatchObject({ 'gen_ai.response.finish_reasons': ['tool_calls'], 'gen_ai.usage.input_tokens': 7, 'gen_ai.usage.output_tokens': 20_000, 'gen_ai.response.id': 'chatcmpl-long' })
    expect(s.attributes['gen_ai.response.time_to_first_chunk']).toBeGreaterThan(0)
    const output = String(s.attributes['gen_ai.output.messages'])
    expect(output.startsWith(`${JSON.stringify([{ role: 'assistant', parts: [{ type: 'text', content: '' }] }]).slice(0, prefix)}${pieces[0]!.slice(0, 50)}`)).toBe(true)
    // The stream kept less than it was sent, and says so.
    expect(output).toMatch(/…\[truncated more than \d+ chars\]$/)
    expect(output.length).toBeLessThanOrEqual(maxContentLength + 50)
    expect(output).not.toContain('robert')
  })

  it('records each chunk as the client gave it, though the consumer changes the chunk as soon as it has it', async () => {
    // The SDK observes each chunk beside the consumer's await, not in its chain: it must still see the chunk first.
    h.start()
    const ai = wrapOpenAI(client())
    const stream = await ai.chat.completions.create(WEATHER_STREAM)
    for await (const chunk of stream) {
      const call = chunk.choices[0]?.delta.tool_calls?.[0]
      if (call?.function) call.function.arguments = 'changed'
      if (chunk.choices[0]) chunk.choices[0].finish_reason = null
      if (chunk.usage) chunk.usage.completion_tokens = 999
    }
    await flush()
    const span = byName(h.receiver.spans, 'chat gpt-4o')
    expect(span.attributes).toMatchObject({ 'gen_ai.response.finish_reasons': ['tool_calls'], 'gen_ai.usage.output_tokens': 5 })
    expect(json(span.attributes['gen_ai.output.messages'])).toEqual([
      { role: 'assistant', parts: [{ type: 'tool_call', id: 'call_1', name: 'get_weather', arguments: { city: 'Paris' } }], finish_reason: 'tool_calls' },
    ])
  })

  it('keeps tee() and toReadableStream() working and records the stream once', async () => {
    h.start()
    const ai = wrapOpenAI(client())
    const stream = await ai.chat.completions.create({ model: 'tee-model', stream: true, messages: [{ role: 'user', content: 'hi' }] })
    const [a, b] = stream.tee()
    const read = async (s: AsyncIterable<{ choices: { delta: { content?: string | null } }[] }>) => {
      let t = ''
      for await (const c of s) t += c.choices[0]?.delta.content ?? ''
      return t
    }
    const [ta, tb] = await Promise.all([read(a), read(b)])
    expect(ta).toBe('Hello from the fake model!')
    expect(tb).toBe(ta)

    const s2 = await ai.chat.completions.create({ model: 'readable-model', stream: true, messages: [{ role: 'user', content: 'hi' }] })
    const reader = s2.toReadableStream().getReader()
    while (!(await reader.read()).done) {
      // drain
    }
    await flush()
    expect(h.receiver.spans.filter((s) => s.name === 'chat tee-model')).toHaveLength(1)
    const text = json(byName(h.receiver.spans, 'chat tee-model').attributes['gen_ai.output.messages']) as { parts: { content: string }[] }[]
    expect(text[0]?.parts[0]?.content).toBe('Hello from the fake model!')
    expect(byName(h.receiver.spans, 'chat readable-model').status.code).toBe(0)
  })

  it('ends the span with error status when the consumer breaks out of a stream', async () => {
    h.start()
    const ai = wrapOpenAI(client())
    const stream = await ai.chat.completions.create({ model: 'slow', stream: true, messages: [{ role: 'user', content: 'long' }] })
    let n = 0
    for await (const _ of stream) if (++n === 3) break
    await flush()
    const span = byName(h.receiver.spans, 'chat slow')
    expect(span.status.code).toBe(2)
    expect(span.attributes['error.type']).toBe('aborted')
    const out = json(span.attributes['gen_ai.output.messages']) as { parts: { content: string }[] }[]
    expect(out[0]?.parts[0]?.content).toBe('tok0 tok1 ')
  })

  it('ends the span with error status when the stream is aborted through its controller', async () => {
    h.start()
    const ai = wrapOpenAI(client())
    const stream = await ai.chat.completions.create({ model: 'slow', stream: true, messages: [{ role: 'user', content: 'long' }] })
    let n = 0
    for await (const _ of stream) if (++n === 3) stream.controller.abort()
    await flush()
    const span = byName(h.receiver.spans, 'chat slow')
    expect(span.status.code).toBe(2)
    expect(span.attributes['error.type']).toBe('aborted')
  })

  it('re-throws provider errors unchanged and records them', async () => {
    h.start()
    const ai = wrapOpenAI(client())
    const err = await ai.chat.completions.create({ model: 'error-429', messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(RateLimitError)
    expect((err as RateLimitError).status).toBe(429)
    const err2 = await ai.chat.completions
      .create({ model: 'error-500', stream: true, messages: [{ role: 'user', content: 'x' }] })
      .catch((e: unknown) => e)
    expect(err2).toBeInstanceOf(InternalServerError)
    await flush()
    const span = byName(h.receiver.spans, 'chat error-429')
    expect(span.status).toMatchObject({ code: 2 })
    expect(span.attributes).toMatchObject({ 'error.type': 'RateLimitError', 'http.response.status_code': 429 })
    expect(span.events.map((e) => e.name)).toContain('exception')
    expect(byName(h.receiver.spans, 'chat error-500').attributes['error.type']).toBe('InternalServerError')
  })

  it.each([
    ['an error event', sseFetch([PARTIAL_CHUNK, { error: { message: 'The server had an error while processing your request', type: 'server_error' } }]), 'APIError'],
    ['a connection cut', cutSseFetch([PARTIAL_CHUNK]), 'TypeError'],
  ])("records %s in the middle of a stream as the client's error it re-throws, not as the app stopping the stream", async (_case, fetch, type) => {
    h.start()
    const ai = wrapOpenAI(new OpenAI({ apiKey: 'sk-test', baseURL: 'http://in-process/v1', maxRetries: 0, fetch }))
    const stream = await ai.chat.completions.create({ model: 'mid-stream', stream: true, messages: [{ role: 'user', content: 'x' }] })
    const err = await (async () => {
      for await (const _ of stream);
    })().catch((e: unknown) => e)
    expect((err as Error).constructor.name).toBe(type)
    await flush()
    const span = byName(h.receiver.spans, 'chat mid-stream')
    expect(span.status).toEqual({ code: 2, message: (err as Error).message })
    expect(span.attributes['error.type']).toBe(type)
  })

  it('records a stream the app aborts with a reason of its own as aborted', async () => {
    h.start()
    const ai = wrapOpenAI(client())
    const stream = await ai.chat.completions.create({ model: 'slow', stream: true, messages: [{ role: 'user', content: 'long' }] })
    let n = 0
    await (async () => {
      for await (const _ of stream) if (++n === 3) stream.controller.abort(new Error('user left'))
    })().catch(() => undefined)
    await flush()
    const span = byName(h.receiver.spans, 'chat slow')
    expect(span.status).toEqual({ code: 2, message: 'stream aborted' })
    expect(span.attributes['error.type']).toBe('aborted')
  })

  it('times the span by the call, though it is built after the app has moved on', async () => {
    // On the SDK's own provider the span object is created after the call returns
    // (off the call path); its times must still be the call's, not that later moment.
    h.start()
    const ai = wrapOpenAI(client())
    const busy = (ms: number) => {
      for (const until = Date.now() + ms; Date.now() < until; );
    }
    const t0 = Date.now()
    await ai.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] })
    const t1 = Date.now()
    busy(40) // the app's own work before it next yields: the span is built after this
    const t2 = Date.now()
    await ai.chat.completions.create({ model: 'error-429', messages: [{ role: 'user', content: 'x' }] }).catch(() => undefined)
    const t3 = Date.now()
    busy(40)
    await flush()
    // Within 10 ms of the app's own readings, against the 40 ms a span timed when it is built would be off
    // by: the SDK's clock is the monotonic one, which follows Date.now() within 1 ms plus what it has not
    // slewed yet since the last reading (time.ts), and the two read 2.3 ms apart on a loaded CI host.
    const near = 10
    const ok = byName(h.receiver.spans, 'chat gpt-4o')
    expect(ok.startMs).toBeGreaterThanOrEqual(t0 - near)
    expect(ok.endMs).toBeGreaterThanOrEqual(ok.startMs)
    expect(ok.endMs).toBeLessThanOrEqual(t1 + near)
    const failed = byName(h.receiver.spans, 'chat error-429')
    expect(failed.startMs).toBeGreaterThanOrEqual(t2 - near)
    expect(failed.endMs).toBeLessThanOrEqual(t3 + near)
    expect(failed.events.find((e) => e.name === 'exception')?.timeMs).toBe(failed.endMs)
  })

  it('builds spans after the call in bounded batches, even when the app never yields to the event loop', async () => {
    h.start({ flushIntervalMs: 60_000 })
    // Answers without I/O: a loop of these calls never leaves the microtask queue,
    // so the batch that builds spans after the call (a setImmediate) cannot run.
    const inProcess = wrapOpenAI(inProcessOpenAI())
    const last: OpenAI.Chat.ChatCompletionMessageParam[] = [{ role: 'user', content: 'q299' }]
    for (let i = 0; i < 300; i++) {
      await inProcess.chat.completions.create({ model: 'm', messages: i === 299 ? last : [{ role: 'user', content: `q${i}` }] })
    }
    // A call is queued when it ends; at 256 entries the batch is built at once, by the call that filled it.
    expect(getStats().spansQueued).toBe(256)
    // The last call is described later, from the copy of its request made when it started.
    last[0]!.content = 'edited'
    await flush()
    expect(getStats().spansQueued).toBe(300)
    const lastSpan = h.receiver.spans.find((s) => String(s.attributes['gen_ai.input.messages']).includes('q299'))
    expect(json(lastSpan?.attributes['gen_ai.input.messages'])).toEqual([{ role: 'user', parts: [{ type: 'text', content: 'q299' }] }])
    expect(h.receiver.spans.filter((s) => s.name === 'chat m')).toHaveLength(300)
  })

  it('passes a malformed response through untouched and still exports the span', async () => {
    h.start()
    const bare = client()
    const ai = wrapOpenAI(bare)
    const got = await ai.chat.completions.create({ model: 'malformed', messages: [{ role: 'user', content: 'x' }] })
    const want = await bare.chat.completions.create({ model: 'malformed', messages: [{ role: 'user', content: 'x' }] })
    expect(JSON.stringify(got)).toBe(JSON.stringify(want))
    await flush()
    expect(byName(h.receiver.spans, 'chat malformed').status.code).toBe(0)
  })

  it('leaves content out when captureContent is false', async () => {
    h.start({ captureContent: false })
    const ai = wrapOpenAI(client())
    await ai.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'secret' }] })
    await flush()
    const span = byName(h.receiver.spans, 'chat gpt-4o')
    expect(span.attributes['gen_ai.usage.input_tokens']).toBe(12)
    expect(Object.keys(span.attributes).filter((k) => k.includes('messages') || k.includes('value'))).toEqual([])
  })

  it('records the conversation as it was sent, though the app changes it before the span is exported', async () => {
    // Content JSON is written at export, off the call; what the app does to its
    // objects in between must not show up in the span.
    h.start({ flushIntervalMs: 60_000 })
    const ai = wrapOpenAI(client())
    const messages: OpenAI.Chat.ChatCompletionMessageParam[] = [{ role: 'user', content: 'first question' }]
    const r = await ai.chat.completions.create({ model: 'gpt-4o', messages })
    messages.push(r.choices[0]!.message, { role: 'user', content: 'second question' })
    messages[0]!.content = 'edited'
    r.choices[0]!.message.content = 'edited reply'
    await flush()
    const span = byName(h.receiver.spans, 'chat gpt-4o')
    expect(json(span.attributes['gen_ai.input.messages'])).toEqual([{ role: 'user', parts: [{ type: 'text', content: 'first question' }] }])
    expect(json(span.attributes['gen_ai.output.messages'])).toEqual([
      { role: 'assistant', parts: [{ type: 'text', content: 'Hello from the fake model!' }], finish_reason: 'stop' },
    ])
  })

  it('records the request as it was when the call started, though the app reuses the same objects for the next call', async () => {
    h.start({ flushIntervalMs: 60_000 })
    const ai = wrapOpenAI(client())
    const tool = { type: 'function' as const, function: { name: 'lookup', description: 'Finds an order.', parameters: { type: 'object', properties: {} } } }
    const params: OpenAI.Chat.ChatCompletionCreateParamsNonStreaming = {
      model: 'gpt-4o',
      temperature: 0.2,
      tools: [tool],
      messages: [{ role: 'user', content: [{ type: 'text', text: 'first question' }] }],
    }
    await ai.chat.completions.create(params)
    // What an app building its next request from the last one does, before the span is built.
    params.model = 'gpt-4o-mini'
    params.temperature = 1
    tool.function.description = 'changed'
    const part = (params.messages[0]!.content as OpenAI.Chat.ChatCompletionContentPartText[])[0]!
    part.text = 'edited'
    params.messages.push({ role: 'user', content: 'second question' })
    await flush()
    expect(h.receiver.spans).toHaveLength(1)
    const span = byName(h.receiver.spans, 'chat gpt-4o')
    expect(span.attributes).toMatchObject({ 'gen_ai.request.model': 'gpt-4o', 'gen_ai.request.temperature': 0.2 })
    expect(json(span.attributes['gen_ai.input.messages'])).toEqual([{ role: 'user', parts: [{ type: 'text', content: 'first question' }] }])
    expect(json(span.attributes['gen_ai.tool.definitions'])).toEqual([
      { type: 'function', function: { name: 'lookup', description: 'Finds an order.', parameters: { type: 'object', properties: {} } } },
    ])
  })

  it('gives a chat span its request, kind, provider, input, response and output attributes in that order, as the tracer would', async () => {
    const seen: FinishedSpan[] = []
    h.start({ spanFilter: (s) => (seen.push(s), true) })
    const ai = wrapOpenAI(client())
    await ai.chat.completions.create({ model: 'gpt-4o-mini', temperature: 0.2, max_tokens: 50, messages: [{ role: 'user', content: 'Say hello' }] })
    await flush()
    const attrs = seen[0]!.attributes
    // The OTLP encoder writes attributes in this order: exported bytes change if it does.
    expect(Object.keys(attrs)).toEqual([
      'gen_ai.operation.name',
      'gen_ai.request.model',
      'gen_ai.request.temperature',
      'gen_ai.request.max_tokens',
      'spanlens.span.kind',
      'gen_ai.provider.name',
      'gen_ai.input.messages',
      'gen_ai.response.model',
      'gen_ai.response.id',
      'gen_ai.response.finish_reasons',
      'gen_ai.usage.input_tokens',
      'gen_ai.usage.output_tokens',
      'gen_ai.usage.cache_read.input_tokens',
      'gen_ai.usage.reasoning.output_tokens',
      'gen_ai.output.messages',
    ])
    expect(attrs['gen_ai.response.finish_reasons']).toEqual(['stop'])
    expect([attrs['gen_ai.usage.cache_read.input_tokens'], attrs['gen_ai.usage.reasoning.output_tokens']]).toEqual([2, 1])
  })

  it('hands span filters and the exporter an LLM span shaped as the tracer builds one: ids, parent, times, resource, scope, context', async () => {
    const seen: FinishedSpan[] = []
    h.start({ spanFilter: (s) => (seen.push(s), true) })
    const ai = wrapOpenAI(client())
    const before = Date.now()
    await withContext({ userId: 'u-1', metadata: { plan: 'pro' } }, () =>
      observe('answer', () => ai.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }))(),
    )
    await flush()
    const llm = seen.find((s) => s.name === 'chat gpt-4o')!
    const chain = seen.find((s) => s.name === 'answer')!
    expect(llm.spanContext().traceId).toBe(chain.spanContext().traceId)
    expect(llm.parentSpanContext?.spanId).toBe(chain.spanContext().spanId)
    expect(llm.spanContext().traceFlags).toBe(1)
    expect(llm.kind).toBe(2) // CLIENT
    expect(llm.ended).toBe(true)
    expect(llm.resource).toBe(chain.resource)
    expect(llm.instrumentationScope).toEqual(chain.instrumentationScope)
    expect(llm.attributes).toMatchObject({ 'user.id': 'u-1', 'spanlens.metadata.plan': 'pro', 'gen_ai.request.model': 'gpt-4o', 'spanlens.span.kind': 'llm' })
    const ms = (t: [number, number]) => t[0] * 1000 + t[1] / 1e6
    expect(ms(llm.startTime)).toBeGreaterThanOrEqual(ms(chain.startTime) - 1)
    expect(ms(llm.endTime)).toBeLessThanOrEqual(ms(chain.endTime) + 1)
    expect(ms(llm.startTime)).toBeGreaterThanOrEqual(before - 5)
    expect(ms(llm.duration)).toBeCloseTo(ms(llm.endTime) - ms(llm.startTime), 3)
    const sent = byName(h.receiver.spans, 'chat gpt-4o')
    expect(sent.parentSpanId).toBe(chain.spanContext().spanId)
    expect(sent.resource['service.name']).toBe('sdk-tests')
    expect(sent.scope).toBe('@spanlens/sdk')
  })

  it('shows a spanFilter the captured content, and truncates long content at maxContentLength', async () => {
    const seen: unknown[] = []
    h.start({
      maxContentLength: 80,
      spanFilter: (s) => {
        seen.push(s.attributes['gen_ai.input.messages'])
        return true
      },
    })
    const ai = wrapOpenAI(client())
    await ai.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'short' }] })
    await ai.chat.completions.create({ model: 'gpt-4o-long', messages: [{ role: 'user', content: 'x'.repeat(100) }] })
    await flush()
    const short = byName(h.receiver.spans, 'chat gpt-4o').attributes['gen_ai.input.messages']
    expect(json(short)).toEqual([{ role: 'user', parts: [{ type: 'text', content: 'short' }] }])
    const long = byName(h.receiver.spans, 'chat gpt-4o-long').attributes['gen_ai.input.messages']
    const full = JSON.stringify([{ role: 'user', parts: [{ type: 'text', content: 'x'.repeat(100) }] }])
    expect(long).toBe(`${full.slice(0, 80)}…[truncated ${full.length - 80} chars]`)
    expect(seen).toEqual([short, long])
  })

  it('traces the parse() and stream() helpers as one chat span per request', async () => {
    h.start()
    const ai = wrapOpenAI(client())
    const parsed = await ai.chat.completions.parse({ model: 'gpt-4o-parse', messages: [{ role: 'user', content: 'Say hello' }] })
    expect(parsed.choices[0]?.message.content).toBe('Hello from the fake model!')
    expect(parsed.choices[0]?.message.parsed).toBeNull()
    const runner = ai.chat.completions.stream({ model: 'gpt-4o-helper', stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'Say hello' }] })
    let text = ''
    for await (const chunk of runner) text += chunk.choices[0]?.delta.content ?? ''
    const final = await runner.finalChatCompletion()
    expect(final.choices[0]?.message.content).toBe(text)
    await flush()
    expect(h.receiver.spans.map((s) => s.name).sort()).toEqual(['chat gpt-4o-helper', 'chat gpt-4o-parse'])
    const p = byName(h.receiver.spans, 'chat gpt-4o-parse')
    expect(p.attributes).toMatchObject({ 'gen_ai.response.id': 'chatcmpl-1', 'gen_ai.usage.input_tokens': 12, 'gen_ai.response.finish_reasons': ['stop'] })
    expect(json(p.attributes['gen_ai.output.messages'])).toEqual([
      { role: 'assistant', parts: [{ type: 'text', content: 'Hello from the fake model!' }], finish_reason: 'stop' },
    ])
    const s = byName(h.receiver.spans, 'chat gpt-4o-helper')
    expect(s.attributes).toMatchObject({ 'spanlens.request.stream': true, 'gen_ai.response.finish_reasons': ['stop'] })
    expect(s.attributes['gen_ai.response.time_to_first_chunk']).toBeGreaterThan(0)
    expect(json(s.attributes['gen_ai.output.messages'])).toEqual([
      { role: 'assistant', parts: [{ type: 'text', content: text }], finish_reason: 'stop' },
    ])
  })

  it('traces runTools() as one chat span per request of its tool loop', async () => {
    h.start()
    const ai = wrapOpenAI(client())
    const runner = ai.chat.completions.runTools({
      model: 'gpt-4o-tools',
      messages: [{ role: 'user', content: 'Weather in Paris?' }],
      tools: [{ type: 'function', function: { name: 'get_weather', description: 'weather', parameters: { type: 'object', properties: { city: { type: 'string' } } }, function: (a: unknown) => ({ a, temp: 21 }), parse: JSON.parse } }],
    })
    expect(await runner.finalContent()).toBe('Hello from the fake model!')
    await flush()
    const spans = h.receiver.spans.filter((s) => s.name === 'chat gpt-4o-tools')
    expect(spans.map((s) => s.attributes['gen_ai.response.finish_reasons'])).toEqual([['tool_calls'], ['stop']])
  })

  it("traces openai 4's beta.chat.completions helpers (parse, stream, runTools) as one chat span per request", async () => {
    h.start()
    const bare = client()
    // openai 4's beta chat resource (openai@4.104.0 resources/beta/chat/completions.js) over this client's runners:
    // its helpers send through this._client.chat.completions.create, the unwrapped client.
    class Beta4Completions {
      constructor(readonly _client: OpenAI) {}
      parse(body: OpenAI.Chat.ChatCompletionCreateParamsNonStreaming) {
        return (this._client.chat.completions.create(body) as unknown as { _thenUnwrap: (f: (c: unknown) => unknown) => Promise<unknown> })._thenUnwrap((c) => parseChatCompletion(c as never, body))
      }
      runTools(body: Parameters<typeof ChatCompletionRunner.runTools>[1]) {
        return ChatCompletionRunner.runTools(this._client, body)
      }
      stream(body: OpenAI.Chat.ChatCompletionCreateParamsStreaming) {
        return ChatCompletionStream.createChatCompletion(this._client, body)
      }
    }
    Object.assign(bare, { beta: { chat: { completions: new Beta4Completions(bare) } } })
    const beta = (wrapOpenAI(bare) as unknown as { beta: { chat: { completions: Beta4Completions } } }).beta.chat.completions
    await beta.parse({ model: 'gpt-4-parse', messages: [{ role: 'user', content: 'Say hello' }] })
    const stream = beta.stream({ model: 'gpt-4-stream', stream: true, messages: [{ role: 'user', content: 'Say hello' }] })
    expect((await stream.finalChatCompletion()).choices[0]?.message.content).toBe('Hello from the fake model!')
    await beta
      .runTools({
        model: 'gpt-4-tools',
        messages: [{ role: 'user', content: 'Weather?' }],
        tools: [{ type: 'function', function: { name: 'get_weather', description: 'weather', parameters: { type: 'object', properties: {} }, function: () => 'sunny', parse: JSON.parse } }],
      })
      .finalContent()
    await flush()
    expect(h.receiver.spans.map((s) => s.name).sort()).toEqual(['chat gpt-4-parse', 'chat gpt-4-stream', 'chat gpt-4-tools', 'chat gpt-4-tools'])
    expect(byName(h.receiver.spans, 'chat gpt-4-stream').attributes['spanlens.request.stream']).toBe(true)
  })

  it('traces the responses.parse() and responses.stream() helpers as one span per request', async () => {
    h.start()
    const ai = wrapOpenAI(client())
    const parsed = await ai.responses.parse({ model: 'gpt-5-parse', input: 'Hi' })
    const stream = ai.responses.stream({ model: 'gpt-5-stream', input: 'Hi' })
    expect((await stream.finalResponse()).output_text).toBe(parsed.output_text)
    await flush()
    expect(h.receiver.spans.map((s) => s.name).sort()).toEqual(['chat gpt-5-parse', 'chat gpt-5-stream'])
  })

  it('records a call once, from the response as parsed, when the app awaits a promise derived from it with _thenUnwrap', async () => {
    h.start()
    const ai = wrapOpenAI(client())
    const traced = ai.chat.completions.create({ model: 'gpt-4o-derived', messages: [{ role: 'user', content: 'Say hello' }] })
    // What the clients' helpers do with an APIPromise; the app awaits only the derived one. openai 7 sets
    // `_thenUnwrap` on each promise, over the parser it was made with, not the promise's `parseResponse`.
    type Derivable = { _thenUnwrap: (f: (v: { choices: unknown[] }) => unknown) => Promise<{ derived: boolean; choices: unknown[] }> }
    const derived = await (traced as unknown as Derivable)._thenUnwrap((v) => ({ ...v, derived: true }))
    expect(derived.derived).toBe(true)
    await flush()
    expect(h.receiver.spans).toHaveLength(1)
    const span = byName(h.receiver.spans, 'chat gpt-4o-derived')
    expect(span.attributes).toMatchObject({ 'gen_ai.response.id': 'chatcmpl-1', 'gen_ai.response.finish_reasons': ['stop'] })
    expect(json(span.attributes['gen_ai.output.messages'])).toEqual([
      { role: 'assistant', parts: [{ type: 'text', content: 'Hello from the fake model!' }], finish_reason: 'stop' },
    ])
  })

  it('records a call read with .asResponse(): request, HTTP status and time, without the body the app reads', async () => {
    h.start()
    const ai = wrapOpenAI(client())
    const response = await ai.chat.completions.create({ model: 'gpt-4o-raw', messages: [{ role: 'user', content: 'Say hello' }] }).asResponse()
    expect(response.status).toBe(200)
    expect(((await response.json()) as { id: string }).id).toBe('chatcmpl-1')
    // Read once, as a parse: withResponse() parses first, and that records the body.
    const { data } = await ai.chat.completions.create({ model: 'gpt-4o-both', messages: [{ role: 'user', content: 'Say hello' }] }).withResponse()
    expect(data.id).toBe('chatcmpl-1')
    await flush()
    expect(h.receiver.spans.map((s) => s.name).sort()).toEqual(['chat gpt-4o-both', 'chat gpt-4o-raw'])
    const raw = byName(h.receiver.spans, 'chat gpt-4o-raw')
    expect(raw.status.code).toBe(0)
    expect(raw.attributes).toMatchObject({ 'gen_ai.request.model': 'gpt-4o-raw', 'http.response.status_code': 200 })
    expect(json(raw.attributes['gen_ai.input.messages'])).toEqual([{ role: 'user', parts: [{ type: 'text', content: 'Say hello' }] }])
    expect(raw.attributes['gen_ai.response.id']).toBeUndefined()
    expect(raw.attributes['gen_ai.output.messages']).toBeUndefined()
    expect(raw.endMs).toBeGreaterThanOrEqual(raw.startMs)
    expect(byName(h.receiver.spans, 'chat gpt-4o-both').attributes['gen_ai.response.id']).toBe('chatcmpl-1')
  })

  it('records from the parsed body a call awaited after its response arrived, and fails an .asResponse() call the server refused', async () => {
    h.start()
    const ai = wrapOpenAI(client())
    const late = ai.chat.completions.create({ model: 'gpt-4o-late', messages: [{ role: 'user', content: 'Say hello' }] })
    await new Promise((r) => setTimeout(r, 100))
    expect((await late).id).toBe('chatcmpl-1')
    await expect(ai.chat.completions.create({ model: 'error-400', messages: [{ role: 'user', content: 'x' }] }).asResponse()).rejects.toThrow()
    await flush()
    expect(byName(h.receiver.spans, 'chat gpt-4o-late').attributes['gen_ai.response.id']).toBe('chatcmpl-1')
    const refused = byName(h.receiver.spans, 'chat error-400')
    expect(refused.status.code).toBe(2)
    expect(refused.attributes['http.response.status_code']).toBe(400)
  })

  it('traces calls through a client withOptions() made, helpers included, and leaves the wrapped client as it was', async () => {
    h.start()
    const ai = wrapOpenAI(client())
    const copy = ai.withOptions({ timeout: 5000 })
    expect(copy).toBeInstanceOf(OpenAI)
    expect(copy.timeout).toBe(5000)
    expect(ai.timeout).not.toBe(5000)
    const r = await copy.chat.completions.create({ model: 'gpt-4o-copy', messages: [{ role: 'user', content: 'x' }] })
    expect(r.choices[0]?.message.content).toBe('Hello from the fake model!')
    await copy.withOptions({ maxRetries: 1 }).chat.completions.parse({ model: 'gpt-4o-copy-parse', messages: [{ role: 'user', content: 'x' }] })
    await copy.embeddings.create({ model: 'embed-copy', input: 'x' })
    await flush()
    expect(h.receiver.spans.map((s) => s.name).sort()).toEqual(['chat gpt-4o-copy', 'chat gpt-4o-copy-parse', 'embeddings embed-copy'])
  })

  it('passes through without spans before init', async () => {
    const ai = wrapOpenAI(client())
    const before = getStats().spansQueued
    const r = await ai.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] })
    expect(r.choices[0]?.message.content).toBe('Hello from the fake model!')
    expect(getStats().spansQueued).toBe(before)
  })
})

describe('wrapOpenAI: responses and embeddings', () => {
  it('records a Responses API call, plain and streamed', async () => {
    h.start()
    const ai = wrapOpenAI(client())
    const r = await ai.responses.create({ model: 'gpt-5', instructions: 'Be nice', input: 'Hi' })
    expect(r.output_text).toBe('Responses hello')
    const stream = await ai.responses.create({ model: 'gpt-5-stream', input: [{ role: 'user', content: 'Hi' }], stream: true })
    const types: string[] = []
    for await (const e of stream) {
      types.push(e.type)
      // What the consumer does to the final event must not reach the span, recorded after the stream ends.
      if (e.type === 'response.completed') {
        e.response.usage!.output_tokens = 999
        e.response.output.length = 0
      }
    }
    expect(types.at(-1)).toBe('response.completed')
    await flush()
    const plain = byName(h.receiver.spans, 'chat gpt-5')
    expect(plain.attributes).toMatchObject({
      'gen_ai.response.id': 'resp_1',
      'gen_ai.usage.input_tokens': 10,
      'gen_ai.usage.output_tokens': 3,
      'gen_ai.usage.cache_read.input_tokens': 4,
      'gen_ai.usage.reasoning.output_tokens': 2,
      'gen_ai.response.finish_reasons': ['stop'],
    })
    expect(json(plain.attributes['gen_ai.system_instructions'])).toEqual([{ type: 'text', content: 'Be nice' }])
    expect(json(plain.attributes['gen_ai.output.messages'])).toEqual([
      { role: 'assistant', parts: [{ type: 'text', content: 'Responses hello' }], finish_reason: 'stop' },
    ])
    const streamed = byName(h.receiver.spans, 'chat gpt-5-stream')
    expect(streamed.attributes['gen_ai.usage.output_tokens']).toBe(3)
    expect(streamed.attributes['gen_ai.response.time_to_first_chunk']).toBeGreaterThan(0)
  })

  it('records embeddings as an embedding span', async () => {
    h.start()
    const ai = wrapOpenAI(client())
    const r = await ai.embeddings.create({ model: 'text-embedding-3-small', input: 'hello world' })
    expect(r.data[0]?.embedding).toHaveLength(4)
    await flush()
    const span = byName(h.receiver.spans, 'embeddings text-embedding-3-small')
    expect(span.attributes).toMatchObject({
      'gen_ai.operation.name': 'embeddings',
      'spanlens.span.kind': 'embedding',
      'gen_ai.usage.input_tokens': 4,
      'gen_ai.embeddings.dimension.count': 4,
      'input.value': 'hello world',
    })
  })
})

describe("the SDK's own provider and OpenTelemetry's environment variables", () => {
  const chat = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: 'Say hello, at some length' }] }

  it('cuts attribute values at OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT, as the tracing SDK does', async () => {
    h.start({ env: { OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT: '12' } })
    await wrapOpenAI(client()).chat.completions.create(chat)
    await flush()
    const span = byName(h.receiver.spans, 'chat gpt-4o-mini')
    expect(span.attributes['gen_ai.input.messages']).toHaveLength(12)
    expect(span.attributes['gen_ai.request.model']).toBe('gpt-4o-mini')
  })

  it('records nothing under OTEL_TRACES_SAMPLER=always_off, and only what a sampled parent starts under the default', async () => {
    h.start({ env: { OTEL_TRACES_SAMPLER: 'always_off' } })
    await wrapOpenAI(client()).chat.completions.create(chat)
    await observe('step', async () => 1)()
    await flush()
    expect(h.receiver.spans).toHaveLength(0)
    await shutdown()

    h.start()
    const ai = wrapOpenAI(client())
    const unsampled = trace.setSpanContext(ROOT_CONTEXT, { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: 0, isRemote: true })
    await context.with(unsampled, () => ai.chat.completions.create(chat))
    await context.with(trace.setSpanContext(ROOT_CONTEXT, { ...trace.getSpanContext(unsampled)!, traceFlags: 1 }), () => ai.chat.completions.create(chat))
    await flush()
    expect(h.receiver.spans.map((s) => s.traceId)).toEqual(['0af7651916cd43dd8448eb211c80319c'])
    expect(h.receiver.spans[0]?.parentSpanId).toBe('b7ad6b7169203331')
  })

  it('says once, through the logger, which variable it ignored, and starts anyway; attached, it leaves them to the app', async () => {
    const logger = captureLogger()
    const lines = logger.lines
    h.start({ env: { OTEL_SPAN_EVENT_COUNT_LIMIT: 'lots' }, logger })
    await wrapOpenAI(client()).chat.completions.create(chat)
    await flush()
    expect(h.receiver.spans).toHaveLength(1)
    expect(lines).toEqual(['OTEL_SPAN_EVENT_COUNT_LIMIT="lots" is not a number; ignored'])
    await shutdown()

    // Attached to the app's provider, which read the environment for itself: nothing said.
    lines.length = 0
    h.start({ env: { OTEL_SPAN_EVENT_COUNT_LIMIT: 'lots' }, tracerProvider: new BasicTracerProvider(), logger })
    await wrapOpenAI(client()).chat.completions.create(chat)
    await flush()
    expect(h.receiver.spans).toHaveLength(2)
    expect(lines).toEqual([])
  })
})
