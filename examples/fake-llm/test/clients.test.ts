import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import OpenAI from 'openai'
import Anthropic from '@anthropic-ai/sdk'
import { REPLY, startFakeLlm, type FakeLlm } from '../src/index.js'

let llm: FakeLlm
let openai: OpenAI
let anthropic: Anthropic

beforeAll(async () => {
  llm = await startFakeLlm()
  openai = new OpenAI({ apiKey: 'sk-fake', baseURL: `${llm.url}/v1`, maxRetries: 0 })
  anthropic = new Anthropic({ apiKey: 'sk-ant-fake', baseURL: llm.url, maxRetries: 0 })
})
afterAll(() => llm?.close())

const weather = { type: 'function' as const, function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }

describe('the fake provider speaks OpenAI to the real openai client', () => {
  it('answers a chat completion, plain and streamed with a usage chunk', async () => {
    const r = await openai.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] })
    expect(r.choices[0]?.message.content).toBe(REPLY.openaiChat)
    expect(r.model).toBe('gpt-4o-mini-2024')
    expect(r.usage).toMatchObject({ prompt_tokens: 12, completion_tokens: 5 })

    const stream = await openai.chat.completions.create({ model: 'gpt-4o-mini', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'hi' }] })
    let text = ''
    let usage: unknown
    for await (const c of stream) {
      text += c.choices[0]?.delta.content ?? ''
      usage ??= c.usage ?? undefined
    }
    expect(text).toBe(REPLY.openaiChat)
    expect(usage).toMatchObject({ total_tokens: 17 })
  })

  it('calls the tool it is given, with arguments built from the tool schema, until a tool result is last', async () => {
    const lookup = { type: 'function' as const, function: { name: 'lookup_order', parameters: { type: 'object', properties: { order_id: { type: 'string', examples: ['A-1001'] }, verbose: { type: 'boolean' } } } } }
    const r = await openai.chat.completions.create({ model: 'gpt-4o', tools: [weather, lookup], tool_choice: { type: 'function', function: { name: 'lookup_order' } }, messages: [{ role: 'user', content: 'where is my order' }] })
    const call = r.choices[0]?.message.tool_calls?.[0]
    expect(r.choices[0]?.finish_reason).toBe('tool_calls')
    expect(call?.type === 'function' && call.function).toEqual({ name: 'lookup_order', arguments: '{"order_id":"A-1001","verbose":true}' })

    const stream = await openai.chat.completions.create({ model: 'gpt-4o', stream: true, tools: [weather], messages: [{ role: 'user', content: 'weather?' }] })
    let args = ''
    for await (const c of stream) args += c.choices[0]?.delta.tool_calls?.[0]?.function?.arguments ?? ''
    expect(args).toBe('{"city":"Paris"}')

    const done = await openai.chat.completions.create({
      model: 'gpt-4o',
      tools: [weather],
      messages: [
        { role: 'user', content: 'weather?' },
        { role: 'assistant', tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] },
        { role: 'tool', tool_call_id: 'call_1', content: '21C' },
      ],
    })
    expect(done.choices[0]?.message.content).toBe(REPLY.openaiChat)
  })

  it('answers JSON matching the requested schema', async () => {
    const schema = { type: 'object', properties: { name: { type: 'string' }, age: { type: 'integer' }, tags: { type: 'array', items: { type: 'string', enum: ['vip'] } } } }
    const r = await openai.chat.completions.create({ model: 'gpt-4o', response_format: { type: 'json_schema', json_schema: { name: 'person', schema } }, messages: [{ role: 'user', content: 'who' }] })
    expect(JSON.parse(r.choices[0]?.message.content ?? '')).toEqual({ name: 'Ada', age: 36, tags: ['vip'] })
  })

  it('answers the Responses API, plain, streamed, and with a function call', async () => {
    const r = await openai.responses.create({ model: 'gpt-5', input: 'hi' })
    expect(r.output_text).toBe(REPLY.openaiResponses)
    const types: string[] = []
    let text = ''
    for await (const e of await openai.responses.create({ model: 'gpt-5', input: 'hi', stream: true })) {
      types.push(e.type)
      if (e.type === 'response.output_text.delta') text += e.delta
    }
    expect(text).toBe(REPLY.openaiResponses)
    expect(types[0]).toBe('response.created')
    expect(types.at(-1)).toBe('response.completed')
    const call = await openai.responses.create({ model: 'gpt-5', input: [{ role: 'user', content: 'weather?' }], tools: [{ type: 'function', name: 'get_weather', strict: false, parameters: weather.function.parameters }] })
    expect(call.output[0]).toMatchObject({ type: 'function_call', name: 'get_weather', arguments: '{"city":"Paris"}', call_id: 'call_1' })
  })

  it('embeds texts deterministically: one unit vector per input, texts sharing words closer', async () => {
    const r = await openai.embeddings.create({ model: 'text-embedding-3-small', input: ['refund policy', 'refund window', 'shipping to Mars'], dimensions: 64 })
    const [a, b, c] = r.data.map((d) => d.embedding)
    const dot = (x: number[], y: number[]) => x.reduce((s, v, i) => s + v * (y[i] ?? 0), 0)
    expect(a).toHaveLength(64)
    expect(dot(a!, a!)).toBeCloseTo(1, 5)
    expect(dot(a!, b!)).toBeGreaterThan(dot(a!, c!))
    const again = await openai.embeddings.create({ model: 'text-embedding-3-small', input: 'refund policy', dimensions: 64 })
    expect(again.data[0]?.embedding).toEqual(a)
  })

  it('fails error-<status> models with the provider error the client maps to its own class', async () => {
    await expect(openai.chat.completions.create({ model: 'error-429', messages: [{ role: 'user', content: 'x' }] })).rejects.toBeInstanceOf(OpenAI.RateLimitError)
    await expect(openai.chat.completions.create({ model: 'error-401', messages: [{ role: 'user', content: 'x' }] })).rejects.toBeInstanceOf(OpenAI.AuthenticationError)
    await expect(openai.responses.create({ model: 'error-500', input: 'x', stream: true })).rejects.toBeInstanceOf(OpenAI.InternalServerError)
  })
})

describe('the fake provider speaks Anthropic to the real @anthropic-ai/sdk client', () => {
  it('answers messages, plain and streamed, with tool use and cache usage', async () => {
    const tools = [{ name: 'get_weather', input_schema: { type: 'object' as const, properties: { city: { type: 'string' } } } }]
    const m = await anthropic.messages.create({ model: 'claude-x', max_tokens: 10, tools, messages: [{ role: 'user', content: 'weather?' }] })
    expect(m.content[0]).toMatchObject({ type: 'text', text: REPLY.anthropic })
    expect(m.content[1]).toMatchObject({ type: 'tool_use', name: 'get_weather', input: { city: 'Paris' } })
    expect(m.usage).toMatchObject({ input_tokens: 20, output_tokens: 6, cache_read_input_tokens: 5, cache_creation_input_tokens: 3 })

    const final = await anthropic.messages.stream({ model: 'claude-x', max_tokens: 10, tools, messages: [{ role: 'user', content: 'weather?' }] }).finalMessage()
    expect(final.content).toMatchObject([{ type: 'text', text: REPLY.anthropic }, { type: 'tool_use', input: { city: 'Paris' } }])
    expect(final.stop_reason).toBe('tool_use')
  })

  it('fails error-<status> models with Anthropic error bodies', async () => {
    await expect(anthropic.messages.create({ model: 'error-529', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] })).rejects.toMatchObject({ status: 529, error: { error: { type: 'overloaded_error' } } })
    await expect(anthropic.messages.create({ model: 'error-429', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] })).rejects.toBeInstanceOf(Anthropic.RateLimitError)
  })
})

describe('the fake provider as a process', () => {
  it('records every request and answers 404 on unknown routes', async () => {
    const before = llm.requests.length
    const res = await fetch(`${llm.url}/v1/nope`, { method: 'POST', body: '{}' })
    expect(res.status).toBe(404)
    expect(llm.requests.length).toBe(before + 1)
    expect(llm.requests.at(-1)).toMatchObject({ method: 'POST', path: '/v1/nope' })
  })
})
