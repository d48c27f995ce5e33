import { describe, expect, it } from 'vitest'
import { PriceTable } from '../src/normalize/cost.js'
import { normalizeSpan } from '../src/normalize/normalize.js'
import { span } from './helpers/otlp-span.js'

// Shapes taken from the recorded fixtures (fixtures/otlp/README.md); the integration
// test conventions.test.ts posts the recordings themselves.
const prices = PriceTable.load()
const langfuse = (usage: Record<string, number>) =>
  normalizeSpan(span({ 'langfuse.observation.type': 'generation', 'langfuse.observation.model.name': 'gpt-4o-mini-2024-07-18', 'langfuse.observation.usage_details': JSON.stringify(usage) }), 'p', { prices })

describe('Langfuse usage_details are parts of the total', () => {
  it('adds the input_ and output_ details back, as @langfuse/openai splits them off', () => {
    const r = langfuse({ input: 15, output: 6, total: 32, input_cached_tokens: 8, input_audio_tokens: 0, output_reasoning_tokens: 3, output_audio_tokens: 0 })
    expect(r).toMatchObject({ input_tokens: 23, output_tokens: 9, total_tokens: 32, cache_read_tokens: 8, reasoning_tokens: 3 })
  })

  it('takes input and output as they are when they already add up to the total', () => {
    const r = langfuse({ input: 23, output: 9, total: 32, input_cached_tokens: 8, output_reasoning_tokens: 3 })
    expect(r).toMatchObject({ input_tokens: 23, output_tokens: 9, total_tokens: 32, cache_read_tokens: 8 })
  })

  it('counts Anthropic-named cache parts as input when no total is given', () => {
    const r = langfuse({ input: 14, output: 9, cache_read_input_tokens: 1200, cache_creation_input_tokens: 300 })
    expect(r).toMatchObject({ input_tokens: 1514, output_tokens: 9, cache_read_tokens: 1200, cache_write_tokens: 300 })
  })
})

describe('Anthropic calls', () => {
  const traceloop = (extra: Record<string, number>) =>
    span(
      { 'gen_ai.provider.name': 'anthropic', 'gen_ai.request.model': 'claude-haiku-4-5', 'gen_ai.usage.input_tokens': 14, 'gen_ai.usage.output_tokens': 9, 'gen_ai.usage.total_tokens': 23, ...extra },
      { scopeName: '@traceloop/instrumentation-anthropic' },
    )

  it("OpenLLMetry's input tokens get the cache reads and writes that the Messages API counts apart", () => {
    const r = normalizeSpan(traceloop({ 'gen_ai.usage.cache_read.input_tokens': 1200, 'gen_ai.usage.cache_creation.input_tokens': 300 }), 'p', { prices })
    expect(r).toMatchObject({ input_tokens: 1514, output_tokens: 9, total_tokens: 1523, cache_read_tokens: 1200, cache_write_tokens: 300 })
    // 14 fresh at $1, 1200 read at $0.10, 300 written at $1.25, 9 out at $5 per million.
    expect(r.cost_usd).toBeCloseTo((14 * 1 + 1200 * 0.1 + 300 * 1.25 + 9 * 5) / 1e6, 12)
  })

  it('the same names from any other scope are taken as OpenTelemetry means them', () => {
    const r = normalizeSpan(traceloop({ 'gen_ai.usage.cache_read.input_tokens': 10 }), 'p', { prices })
    expect(r).toMatchObject({ input_tokens: 24 })
    const other = normalizeSpan({ ...traceloop({ 'gen_ai.usage.cache_read.input_tokens': 10 }), scopeName: 'com.anthropic.sdk.typescript' }, 'p', { prices })
    expect(other).toMatchObject({ input_tokens: 14, total_tokens: 23 })
  })

  it("the Anthropic SDK's own span: cache writes and the stop reason", () => {
    const r = normalizeSpan(
      span({ 'gen_ai.provider.name': 'anthropic', 'gen_ai.operation.name': 'chat', 'gen_ai.usage.input_tokens': 1514, 'gen_ai.usage.cache_write.input_tokens': 300, 'anthropic.message.stop_reason': 'end_turn' }),
      'p',
      { prices },
    )
    expect(r).toMatchObject({ cache_write_tokens: 300, finish_reason: 'stop' })
  })
})

describe('Vercel AI SDK content', () => {
  const vercel = (attrs: Record<string, string>) => normalizeSpan(span({ 'ai.model.id': 'gpt-4o', ...attrs }, { name: 'ai.generateText.doGenerate' }), 'p', { prices })
  const hi = { role: 'user', parts: [{ type: 'text', content: 'hi' }] }

  it('a null or other non-object entry in a message or tool-call list is skipped; the span and the other entries are kept', () => {
    const entries = '[null, "x", 3, [], {"role":"user","content":"hi"}]'
    expect(JSON.parse(vercel({ 'ai.prompt.messages': entries }).input)).toEqual([hi])
    expect(JSON.parse(vercel({ 'ai.prompt': `{"messages":${entries}}` }).input)).toEqual([hi])
    const calls = vercel({ 'ai.response.toolCalls': '[null, "x", {"toolCallId":"call_1","toolName":"get_weather","input":"{}"}]' })
    expect(JSON.parse(calls.output)).toEqual([{ role: 'assistant', parts: [{ type: 'tool_call', id: 'call_1', name: 'get_weather', arguments: '{}' }] }])
  })

  it('a list of nothing but nulls gives no input, and the attribute stays as sent', () => {
    for (const [key, value] of [['ai.prompt.messages', '[null]'], ['ai.prompt', '{"messages":[null]}']] as const) {
      const r = vercel({ [key]: value })
      expect(r.input, key).toBe('')
      expect(r.attributes[key]).toBe(value)
    }
  })
})

describe('words the lookup tables do not know', () => {
  it('a kind, request type or finish reason named like a member of every object is an unknown word, not that member', () => {
    for (const word of ['constructor', '__proto__', 'toString', 'valueOf', 'hasOwnProperty']) {
      const r = normalizeSpan(
        span({ 'openinference.span.kind': word, 'langfuse.observation.type': word, 'traceloop.span.kind': word, 'llm.request.type': word, 'gen_ai.response.finish_reasons': [word] }),
        'p',
        { prices },
      )
      expect({ kind: r.kind, operation: r.operation, finish_reason: r.finish_reason }, word).toEqual({ kind: 'other', operation: word, finish_reason: word.toLowerCase() })
    }
  })
})
