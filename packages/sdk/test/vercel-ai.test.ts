import { describe, expect, it, vi } from 'vitest'
import { generateObject, generateText, streamObject, streamText, tool, stepCountIs } from 'ai'
import { MockLanguageModelV4, convertArrayToReadableStream } from 'ai/test'
import { createAnthropic } from '@ai-sdk/anthropic'
import { createOpenAI } from '@ai-sdk/openai'
import { z } from 'zod'
import { flush, observe, spanlensAITelemetry } from '../src/index.js'
import { aiTelemetry, type AiCallLimits } from '../src/instrument/vercel-ai.js'
import { byName, json, useHarness } from './helpers/harness.js'
import { captureLogger } from './helpers/logger.js'
import type { ReceivedSpan } from './helpers/receiver.js'

const h = useHarness()
const telemetry = { integrations: [spanlensAITelemetry()] }
const model = (id: string) => createOpenAI({ apiKey: 'sk-test', baseURL: `${h.llm.url}/v1` }).chat(id)
/** The SDK's limits for calls ai never ends, none of them reached unless a test lowers it. */
const FAR: AiCallLimits = { unreadMs: 600_000, maxUnread: 1000, crowdedAfterMs: 600_000, streamObjectMs: 600_000 }
const weather = tool({
  description: 'weather for a city',
  inputSchema: z.object({ city: z.string() }),
  execute: observe('weather_api', async ({ city }: { city: string }) => ({ city, temp: 21 }), { kind: 'retrieval' }),
})

describe('Vercel AI SDK telemetry integration', () => {
  it('traces generateText with a tool loop: chain → llm, tool (→ nested span), llm', async () => {
    h.start()
    const result = await observe('handler', () =>
      generateText({ model: model('gpt-ai'), prompt: 'Weather in Paris?', tools: { weather }, stopWhen: stepCountIs(3), telemetry }),
    )()
    expect(result.text).toBe('Hello from the fake model!')
    await flush()
    const spans = h.receiver.spans
    const handler = byName(spans, 'handler')
    const root = byName(spans, 'ai.generateText')
    expect(root.parentSpanId).toBe(handler.spanId)
    expect(root.attributes['spanlens.span.kind']).toBe('chain')
    const llms = spans.filter((s) => s.name === 'chat gpt-ai')
    expect(llms).toHaveLength(2)
    for (const l of llms) {
      expect(l.parentSpanId).toBe(root.spanId)
      expect(l.attributes).toMatchObject({ 'gen_ai.provider.name': 'openai', 'gen_ai.usage.input_tokens': 12, 'gen_ai.usage.output_tokens': 5, 'spanlens.span.kind': 'llm' })
    }
    const toolSpan = byName(spans, 'weather')
    expect(toolSpan.parentSpanId).toBe(root.spanId)
    expect(toolSpan.attributes).toMatchObject({ 'spanlens.span.kind': 'tool', 'gen_ai.tool.call.id': 'call_1' })
    expect(json(toolSpan.attributes['gen_ai.tool.call.arguments'])).toEqual({ city: 'Paris' })
    expect(byName(spans, 'weather_api').parentSpanId).toBe(toolSpan.spanId)
    const first = llms.find((l) => (l.attributes['gen_ai.response.finish_reasons'] as string[])[0] === 'tool-calls')
    expect(first).toBeDefined()
    expect(json(first!.attributes['gen_ai.output.messages'])).toEqual([
      { role: 'assistant', parts: [{ type: 'tool_call', id: 'call_1', name: 'weather', arguments: { city: 'Paris' } }], finish_reason: 'tool-calls' },
    ])
    expect(root.attributes['output.value']).toBe('Hello from the fake model!')
  })

  it('traces streamText with time to first chunk, and generateObject', async () => {
    h.start()
    const s = streamText({ model: model('gpt-stream'), prompt: 'hi', telemetry })
    let text = ''
    for await (const t of s.textStream) text += t
    expect(text).toBe('Hello from the fake model!')
    const obj = await generateObject({ model: model('gpt-obj'), schema: z.object({ name: z.string(), age: z.number() }), prompt: 'who', telemetry })
    expect(obj.object).toEqual({ name: 'Ada', age: 36 })
    await flush()
    const spans: ReceivedSpan[] = h.receiver.spans
    const streamed = byName(spans, 'chat gpt-stream')
    expect(streamed.attributes['gen_ai.response.time_to_first_chunk']).toBeGreaterThan(0)
    expect(streamed.attributes['gen_ai.usage.output_tokens']).toBe(5)
    expect(byName(spans, 'ai.streamText').attributes['output.value']).toBe('Hello from the fake model!')
    const objRoot = spans.find((x) => x.name === 'ai.generateObject')
    expect(objRoot).toBeDefined()
    expect(json(objRoot!.attributes['output.value'])).toEqual({ name: 'Ada', age: 36 })
  })

  it('records the time to first chunk of a streamText the app aborted mid-stream', async () => {
    h.start()
    const abort = new AbortController()
    const s = streamText({ model: model('slow'), prompt: 'hi', abortSignal: abort.signal, telemetry })
    let chunks = 0
    try {
      for await (const _ of s.textStream) if (++chunks === 3) abort.abort()
    } catch {
      // The abort ends the stream with an AbortError, as the app asked.
    }
    expect(chunks).toBeGreaterThanOrEqual(3)
    await flush()
    const llm = byName(h.receiver.spans, 'chat slow')
    expect(llm.status.code).toBe(2)
    expect(llm.attributes['error.type']).toBe('aborted')
    expect(llm.attributes['gen_ai.response.time_to_first_chunk']).toBeGreaterThan(0)
    expect(llm.attributes['gen_ai.response.time_to_first_chunk']).toBeLessThan((llm.endMs - llm.startMs) / 1000)
  })

  it('ends a streamText the app stopped reading, or never read, as aborted where reading stopped, and lets it go', async () => {
    h.start()
    const open = new Map()
    const telemetry = { integrations: [aiTelemetry({ ...FAR, unreadMs: 2000 }, open)] }
    await observe('handler', async () => {
      // A long answer broken off after its first part: its model call is still streaming.
      const broken = streamText({ model: model('slow'), prompt: 'hi', telemetry })
      for await (const _ of broken.textStream) break
      // A short answer broken off: ai has read the whole model stream, and waits for the app to read what it buffered.
      const short = streamText({ model: model('gpt-short'), prompt: 'hi', telemetry })
      for await (const _ of short.textStream) break
      // Never read at all.
      streamText({ model: model('gpt-unread'), prompt: 'hi', telemetry })
    })()
    // ai sends no end, abort or error event for any of them.
    await new Promise((r) => setTimeout(r, 100))
    expect(open.size).toBe(3)
    await vi.waitFor(() => expect(open.size).toBe(0), { timeout: 5000, interval: 20 })
    const notedAt = Date.now()
    await flush()
    const spans = h.receiver.spans
    const handler = byName(spans, 'handler')
    const chains = spans.filter((s) => s.name === 'ai.streamText')
    expect(chains).toHaveLength(3)
    for (const c of chains) {
      expect(c.parentSpanId).toBe(handler.spanId)
      expect(c.status).toEqual({ code: 2, message: 'stream not read to its end: nothing read for 2 s' })
      expect(c.attributes['error.type']).toBe('aborted')
      // Ended when the reading stopped, not 2 s later when the SDK noticed.
      expect(c.endMs).toBeLessThan(notedAt - 1000)
    }
    const chainOf = (llm: string) => chains.find((c) => c.spanId === byName(spans, llm).parentSpanId)
    const slow = byName(spans, 'chat slow')
    expect(chainOf('chat slow')).toBeDefined()
    expect(slow.status.code).toBe(2)
    expect(slow.attributes['error.type']).toBe('aborted')
    expect(slow.attributes['gen_ai.response.time_to_first_chunk']).toBeGreaterThan(0)
    expect(slow.endMs).toBeLessThanOrEqual(chainOf('chat slow')!.endMs)
    // The short answers' model calls ended before the app stopped reading: complete, under their chains.
    for (const name of ['chat gpt-short', 'chat gpt-unread']) {
      expect(chainOf(name)).toBeDefined()
      expect(byName(spans, name).status.code).toBe(0)
      expect(byName(spans, name).attributes['gen_ai.usage.output_tokens']).toBe(5)
    }
  })

  it('ends the streamText calls waiting longest on their reader when more than the limit wait', async () => {
    h.start()
    const open = new Map()
    const telemetry = { integrations: [aiTelemetry({ ...FAR, maxUnread: 2, crowdedAfterMs: 100 }, open)] }
    for (let i = 0; i < 5; i++) {
      const s = streamText({ model: model(`gpt-${i}`), prompt: 'hi', telemetry })
      for await (const _ of s.textStream) break
    }
    await vi.waitFor(() => expect(open.size).toBe(2), { timeout: 5000, interval: 20 })
    await flush()
    const ended = h.receiver.spans.filter((s) => s.name === 'ai.streamText')
    expect(ended).toHaveLength(3)
    for (const c of ended) expect(c.status).toEqual({ code: 2, message: 'stream not read to its end: more than 2 calls waited on their reader' })
    // The first three, which had waited longest.
    const models = ended.map((c) => h.receiver.spans.find((s) => s.parentSpanId === c.spanId)!.name).sort()
    expect(models).toEqual(['chat gpt-0', 'chat gpt-1', 'chat gpt-2'])
  })

  it('leaves a streamText alone while its model or a tool is being waited on, however long', async () => {
    h.start()
    const open = new Map()
    const telemetry = { integrations: [aiTelemetry({ ...FAR, unreadMs: 40, crowdedAfterMs: 40 }, open)] }
    const slowTool = tool({
      description: 'weather for a city',
      inputSchema: z.object({ city: z.string() }),
      execute: async ({ city }: { city: string }) => {
        await new Promise((r) => setTimeout(r, 300))
        return { city, temp: 21 }
      },
    })
    // The slow model streams 200 parts 10 ms apart, read as they come; the tool takes 300 ms.
    let text = ''
    for await (const t of streamText({ model: model('slow'), prompt: 'hi', telemetry }).textStream) text += t
    expect(text).toContain('tok199')
    const r = streamText({ model: model('gpt-tools'), prompt: 'Weather?', tools: { weather: slowTool }, stopWhen: stepCountIs(2), telemetry })
    expect(await r.text).toBe('Hello from the fake model!')
    expect(open.size).toBe(0)
    await flush()
    for (const c of h.receiver.spans.filter((s) => s.name === 'ai.streamText')) expect(c.status.code).toBe(0)
    expect(h.receiver.spans.filter((s) => s.status.code !== 0).map((s) => s.name)).toEqual([])
  })

  it('records the model call of generateObject and streamObject as an llm span', async () => {
    h.start()
    const schema = z.object({ name: z.string(), age: z.number() })
    const obj = await generateObject({ model: model('gpt-obj'), schema, system: 'Be exact.', prompt: 'who', temperature: 0.2, telemetry })
    expect(obj.object).toEqual({ name: 'Ada', age: 36 })
    const s = streamObject({ model: model('gpt-sobj'), schema, prompt: 'who', telemetry })
    for await (const _ of s.partialObjectStream);
    expect(await s.object).toEqual({ name: 'Ada', age: 36 })
    await flush()
    const spans = h.receiver.spans
    for (const [chain, llm] of [
      ['ai.generateObject', 'chat gpt-obj'],
      ['ai.streamObject', 'chat gpt-sobj'],
    ] as const) {
      const root = byName(spans, chain)
      const call = byName(spans, llm)
      expect(call.parentSpanId).toBe(root.spanId)
      expect(call.attributes).toMatchObject({
        'spanlens.span.kind': 'llm',
        'gen_ai.operation.name': 'chat',
        'gen_ai.provider.name': 'openai',
        'gen_ai.request.model': llm.slice(5),
        'gen_ai.response.model': `${llm.slice(5)}-2024`,
        'gen_ai.response.finish_reasons': ['stop'],
        'gen_ai.output.type': 'json',
        'gen_ai.usage.input_tokens': 12,
        'gen_ai.usage.output_tokens': 5,
        'gen_ai.usage.cache_read.input_tokens': 2,
        'gen_ai.usage.reasoning.output_tokens': 1,
      })
      expect(json(call.attributes['gen_ai.output.messages'])).toEqual([{ role: 'assistant', parts: [{ type: 'text', content: '{"name":"Ada","age":36}' }], finish_reason: 'stop' }])
      expect(json(call.attributes['gen_ai.input.messages'])).toEqual([{ role: 'user', parts: [{ type: 'text', content: 'who' }] }])
      expect(call.status.code).toBe(0)
    }
    const objCall = byName(spans, 'chat gpt-obj')
    expect(objCall.attributes['gen_ai.request.temperature']).toBe(0.2)
    expect(json(objCall.attributes['gen_ai.system_instructions'])).toEqual([{ type: 'text', content: 'Be exact.' }])
    expect(objCall.attributes['gen_ai.response.time_to_first_chunk']).toBeUndefined()
    expect(byName(spans, 'chat gpt-sobj').attributes['gen_ai.response.time_to_first_chunk']).toBeGreaterThan(0)
  })

  it('ends a streamObject the app stopped reading once its limit passed', async () => {
    h.start()
    const open = new Map()
    const telemetry = { integrations: [aiTelemetry({ ...FAR, streamObjectMs: 300 }, open)] }
    const s = streamObject({ model: model('gpt-sobj'), schema: z.object({ name: z.string(), age: z.number() }), prompt: 'who', telemetry })
    for await (const _ of s.partialObjectStream) break
    await vi.waitFor(() => expect(open.size).toBe(0), { timeout: 5000, interval: 20 })
    await flush()
    const root = byName(h.receiver.spans, 'ai.streamObject')
    const call = byName(h.receiver.spans, 'chat gpt-sobj')
    expect(call.parentSpanId).toBe(root.spanId)
    for (const span of [root, call]) {
      expect(span.status.code).toBe(2)
      expect(span.attributes['error.type']).toBe('aborted')
    }
  })

  it('records an image of the prompt by its URL, and its bytes by their media type only', async () => {
    h.start()
    const image = new URL('https://example.com/cat.png')
    const bytes = new Uint8Array([137, 80, 78, 71])
    await generateText({
      model: model('gpt-image'),
      messages: [{ role: 'user', content: [{ type: 'text', text: 'What is this?' }, { type: 'image', image }, { type: 'image', image: bytes, mediaType: 'image/png' }] }],
      telemetry,
    })
    await flush()
    expect(json(byName(h.receiver.spans, 'chat gpt-image').attributes['gen_ai.input.messages'])).toEqual([
      {
        role: 'user',
        parts: [
          { type: 'text', content: 'What is this?' },
          { type: 'uri', modality: 'image', uri: 'https://example.com/cat.png' },
          { type: 'blob', modality: 'image', mime_type: 'image/png' },
        ],
      },
    ])
  })

  it('records no empty part for the custom content @ai-sdk/anthropic streams', async () => {
    h.start()
    const anthropic = createAnthropic({ apiKey: 'sk-test', baseURL: `${h.llm.url}/v1` })
    let text = ''
    for await (const t of streamText({ model: anthropic('claude-x'), prompt: 'hi', maxOutputTokens: 100, telemetry }).textStream) text += t
    expect(text).toBe('Hello from Claude')
    await flush()
    const call = byName(h.receiver.spans, 'chat claude-x')
    expect(json(call.attributes['gen_ai.output.messages'])).toEqual([{ role: 'assistant', parts: [{ type: 'text', content: 'Hello from Claude' }], finish_reason: 'stop' }])
  })

  it('ends with its error a model call whose stream fails mid-way, retried by ai or not', async () => {
    h.start()
    const usage = { inputTokens: { total: 3, noCache: 3, cacheRead: 0, cacheWrite: 0 }, outputTokens: { total: 2, text: 2, reasoning: 0 } }
    let cancelled: unknown
    const answers = [
      // An error part, and the connection left open: ai cancels the stream to call the model again.
      new ReadableStream({
        start(c) {
          c.enqueue({ type: 'stream-start', warnings: [] })
          c.enqueue({ type: 'error', error: new Error('overloaded mid-stream') })
        },
        cancel(reason) {
          cancelled = reason
        },
      }),
      convertArrayToReadableStream([
        { type: 'stream-start', warnings: [] },
        { type: 'text-start', id: 't' },
        { type: 'text-delta', id: 't', delta: 'Hi' },
        { type: 'text-end', id: 't' },
        { type: 'finish', finishReason: { unified: 'stop', raw: 'stop' }, usage },
      ] as never[]),
    ]
    const mock = new MockLanguageModelV4({ modelId: 'mock-retry', doStream: async () => ({ stream: answers.shift() as ReadableStream<never> }) })
    const s = streamText({ model: mock, prompt: 'hi', streamRetries: 1, onError: () => undefined, telemetry })
    expect(await s.text).toBe('Hi')
    await flush()
    const root = byName(h.receiver.spans, 'ai.streamText')
    expect(root.status.code).toBe(0)
    const calls = h.receiver.spans.filter((x) => x.name === 'chat mock-retry')
    expect(calls.map((c) => [c.parentSpanId, c.status])).toEqual([
      [root.spanId, { code: 2, message: 'overloaded mid-stream' }],
      [root.spanId, { code: 0, message: '' }],
    ])
    expect(String(cancelled)).toBe('Error: overloaded mid-stream')
    expect(calls[0]!.events.filter((e) => e.name === 'exception')).toHaveLength(1)

    // Not retried: ai passes the error on to the app and ends the call.
    const failing = new MockLanguageModelV4({ modelId: 'mock-fails', doStream: async () => ({ stream: convertArrayToReadableStream([{ type: 'stream-start', warnings: [] }, { type: 'error', error: new Error('gone') }] as never[]) }) })
    const parts: string[] = []
    for await (const p of streamText({ model: failing, prompt: 'hi', onError: () => undefined, telemetry }).fullStream) parts.push(p.type)
    expect(parts).toContain('error')
    await flush()
    expect(byName(h.receiver.spans, 'chat mock-fails').status).toEqual({ code: 2, message: 'gone' })
  })

  it('says once that it needs ai 7 when an older ai calls it with its own event shape', async () => {
    const logger = captureLogger()
    h.start({ logger })
    // The start event ai 6.0.333 passes to an integration's onStart (generateText): no callId, a model object.
    const ai6Start = { model: { provider: 'openai.chat', modelId: 'gpt-4o-mini' }, prompt: 'hi', functionId: undefined, metadata: undefined }
    const integration = spanlensAITelemetry()
    integration.onStart(ai6Start)
    integration.onStart(ai6Start)
    expect(logger.lines).toEqual(['spanlensAITelemetry() needs ai 7 or later: this ai calls it with events of another shape (no callId), and nothing is recorded'])
  })

  it('ends spans with error status when the provider fails', async () => {
    h.start()
    await expect(generateText({ model: model('error-500'), prompt: 'x', maxRetries: 0, telemetry })).rejects.toThrow()
    await flush()
    const root = byName(h.receiver.spans, 'ai.generateText')
    expect(root.status.code).toBe(2)
    const llm = byName(h.receiver.spans, 'chat error-500')
    expect(llm.status.code).toBe(2)
  })
})
