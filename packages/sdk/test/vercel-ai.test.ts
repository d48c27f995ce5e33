import { describe, expect, it } from 'vitest'
import { generateObject, generateText, streamText, tool, stepCountIs } from 'ai'
import { createOpenAI } from '@ai-sdk/openai'
import { z } from 'zod'
import { flush, observe, spanlensAITelemetry } from '../src/index.js'
import { byName, json, useHarness } from './helpers/harness.js'
import { captureLogger } from './helpers/logger.js'
import type { ReceivedSpan } from './helpers/receiver.js'

const h = useHarness()
const telemetry = { integrations: [spanlensAITelemetry()] }
const model = (id: string) => createOpenAI({ apiKey: 'sk-test', baseURL: `${h.llm.url}/v1` }).chat(id)
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
