import { describe, expect, it } from 'vitest'
import { PriceTable } from '../src/normalize/cost.js'
import { eventContent } from '../src/normalize/content.js'
import { label, MAX_CONTENT_BYTES, normalizeSpan, nsToSeconds } from '../src/normalize/normalize.js'
import { cutBytes } from '../src/normalize/truncate.js'
import type { AttrValue, Attrs } from '../src/otlp/model.js'
import { span } from './helpers/otlp-span.js'

describe('precedence and edge cases', () => {
  const prices = PriceTable.load()

  it('current OTel names win over older ones and over other conventions', () => {
    const r = normalizeSpan(
      span({
        'gen_ai.provider.name': 'anthropic',
        'gen_ai.system': 'openai',
        'gen_ai.usage.input_tokens': 10,
        'gen_ai.usage.prompt_tokens': 99,
        'llm.token_count.prompt': 77,
        'gen_ai.request.model': 'claude-haiku-4-5',
        'llm.model_name': 'other',
      }),
      'p',
      { prices },
    )
    expect(r).toMatchObject({ provider: 'anthropic', input_tokens: 10, request_model: 'claude-haiku-4-5', kind: 'llm' })
  })

  it('converts nanosecond times exactly and computes duration', () => {
    expect(nsToSeconds('1790000000123456789')).toBe('1790000000.123456789')
    expect(nsToSeconds('5')).toBe('0000000000.000000005')
    const r = normalizeSpan(span({}), 'p', { prices })
    expect(r.duration_ms).toBe(250)
    // Exactly as BigInt subtraction gives it: a borrow across the second, 1 ns, no end time, under a second since the epoch.
    const cases: Array<[string, string]> = [
      ['1790000000999999999', '1790000003000000001'],
      ['1790000000000000000', '1790000000000000001'],
      ['1790000000123456789', '0'],
      ['5', '1000000007'],
      ['1790000000000000000', '1799000000123456789'],
    ]
    for (const [startNs, endNs] of cases) {
      const got = normalizeSpan(span({}, { startNs, endNs }), 'p', { prices })
      const end = endNs === '0' ? startNs : endNs
      expect(got.duration_ms, `${startNs} → ${endNs}`).toBe(Number(BigInt(end) - BigInt(startNs)) / 1e6)
      expect(got.end_time).toBe(nsToSeconds(end))
    }
  })

  it('negative or absurd token counts become zero; TTFT in seconds becomes ms', () => {
    const r = normalizeSpan(span({ 'gen_ai.usage.input_tokens': -5, 'gen_ai.usage.output_tokens': 'NaN', 'gen_ai.response.time_to_first_chunk': 0.25 }), 'p', { prices })
    expect(r).toMatchObject({ input_tokens: 0, output_tokens: 0, ttft_ms: 250 })
  })

  it('token counts past the UInt32 columns are stored at their largest value, a total made of them too (it wrapped to 0)', () => {
    const max = 4_294_967_295
    const cases: Array<[Record<string, number | string>, { input_tokens: number; output_tokens: number; total_tokens: number }]> = [
      [{ 'gen_ai.usage.input_tokens': 5_000_000_000, 'gen_ai.usage.output_tokens': 1 }, { input_tokens: max, output_tokens: 1, total_tokens: max }],
      [{ 'gen_ai.usage.input_tokens': max, 'gen_ai.usage.output_tokens': max }, { input_tokens: max, output_tokens: max, total_tokens: max }],
      [{ 'gen_ai.usage.input_tokens': '9223372036854775807', 'gen_ai.usage.output_tokens': 2 }, { input_tokens: max, output_tokens: 2, total_tokens: max }],
      [{ 'gen_ai.usage.input_tokens': 3_000_000_000, 'gen_ai.usage.output_tokens': 1_294_967_295 }, { input_tokens: 3_000_000_000, output_tokens: 1_294_967_295, total_tokens: max }],
      [{ 'gen_ai.usage.input_tokens': 7, 'gen_ai.usage.output_tokens': 1, 'gen_ai.usage.total_tokens': 6_000_000_000 }, { input_tokens: 7, output_tokens: 1, total_tokens: max }],
    ]
    for (const [attrs, want] of cases) expect(normalizeSpan(span(attrs), 'p', { prices }), JSON.stringify(attrs)).toMatchObject(want)
  })

  it('system instructions are folded into the input as a system message', () => {
    const r = normalizeSpan(
      span({
        'gen_ai.system_instructions': JSON.stringify([{ type: 'text', content: 'be brief' }]),
        'gen_ai.input.messages': JSON.stringify([{ role: 'user', parts: [{ type: 'text', content: 'hi' }] }]),
      }),
      'p',
      { prices },
    )
    expect(JSON.parse(r.input)).toEqual([
      { role: 'system', parts: [{ type: 'text', content: 'be brief' }] },
      { role: 'user', parts: [{ type: 'text', content: 'hi' }] },
    ])
    // Stored once: moved into input, with a marker saying from where.
    expect(r.attributes['gen_ai.input.messages']).toBeUndefined()
    expect(r.attributes['spanlens.input.source']).toBe('gen_ai.input.messages,gen_ai.system_instructions')
  })

  it('input messages beside system instructions are kept when they are not a list: text as a user message, one message as a list of one', () => {
    const withSystem = (messages: AttrValue) => normalizeSpan(span({ 'gen_ai.system_instructions': 'be nice', 'gen_ai.input.messages': messages }), 'p', { prices })
    const system = { role: 'system', parts: [{ type: 'text', content: 'be nice' }] }
    for (const prompt of ['What is the capital of France?', '42', '"quoted"']) {
      const r = withSystem(prompt)
      expect(JSON.parse(r.input), prompt).toEqual([system, { role: 'user', parts: [{ type: 'text', content: prompt }] }])
      expect(r.attributes['gen_ai.input.messages']).toBeUndefined()
      expect(r.attributes['spanlens.input.source']).toBe('gen_ai.input.messages,gen_ai.system_instructions')
    }
    const one = { role: 'user', parts: [{ type: 'text', content: 'hi' }] }
    // As a JSON string and as a structured (kvlist) attribute value.
    for (const message of [JSON.stringify(one), one]) expect(JSON.parse(withSystem(message).input)).toEqual([system, one])
  })

  it('input messages it cannot read stay in the attributes as sent; the input is the system instructions alone', () => {
    for (const odd of ['{"prompt":"hi"}', { prompt: 'hi' }, 42, true]) {
      const r = normalizeSpan(span({ 'gen_ai.system_instructions': 'be nice', 'gen_ai.input.messages': odd }), 'p', { prices })
      expect(JSON.parse(r.input), JSON.stringify(odd)).toEqual([{ role: 'system', parts: [{ type: 'text', content: 'be nice' }] }])
      expect(r.attributes['gen_ai.input.messages']).toBe(typeof odd === 'string' ? odd : JSON.stringify(odd))
      expect(r.attributes['spanlens.input.source']).toBe('gen_ai.system_instructions')
    }
  })
})

describe('a value over its limit is cut on a character boundary, its limit in the unit the docs give', () => {
  const prices = PriceTable.load()
  const MARKER = '…[truncated by spanlens]'
  const MiB = 1024 * 1024
  /** No lone surrogate (which UTF-8 stores as U+FFFD) and no U+FFFD from a split UTF-8 sequence. */
  const wellFormed = (s: string) => !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]|\uFFFD/.test(s)
  const kept = (s: string) => {
    expect(s.endsWith(MARKER), s.slice(-40)).toBe(true)
    expect(wellFormed(s)).toBe(true)
    return s.slice(0, -MARKER.length)
  }

  it('names and labels: 1024 characters, never half an emoji (the cut left a lone surrogate, stored as U+FFFD)', () => {
    const name = `${'a'.repeat(1023)}😀tail`
    const r = normalizeSpan(span({ 'user.id': name }, { name, resource: { 'service.name': name } }), 'p', { prices })
    for (const v of [r.name, r.service_name, r.user_id]) expect(kept(v)).toBe('a'.repeat(1023))
    expect(label(`${'a'.repeat(1022)}😀tail`)).toBe(`${'a'.repeat(1022)}😀${MARKER}`)
  })

  it('attribute values: 1 MiB of UTF-8 (a 1.2 MB value of 600,000 characters was kept whole)', () => {
    const twoByte = 'é'.repeat(600_000)
    // An odd byte offset: 1 MiB lands inside a 4-byte character.
    const emoji = `x${'😀'.repeat(300_000)}`
    const r = normalizeSpan(span({ twoByte, emoji, short: 'é'.repeat(1000) }), 'p', { prices })
    for (const v of [r.attributes.twoByte as string, r.attributes.emoji as string]) {
      const bytes = Buffer.byteLength(kept(v))
      expect(bytes).toBeLessThanOrEqual(MiB)
      expect(bytes).toBeGreaterThan(MiB - 4)
    }
    expect(r.attributes.short).toBe('é'.repeat(1000))
  })

  it('attribute keys: 1024 characters like a label (a 2 MB key was stored whole), the first of two alike kept', () => {
    const long = `${'k'.repeat(1023)}😀`
    const r = normalizeSpan(span({ [`${long}one`]: 'first', [`${long}two`]: 'second', short: 'v' }, { events: [{ name: 'e', timeNs: '1790000000100000000', attributes: { [`${'e'.repeat(2_000_000)}`]: 'x' } }] }), 'p', { prices })
    expect(Object.keys(r.attributes).filter((k) => k !== 'short').map(kept)).toEqual(['k'.repeat(1023)])
    expect(r.attributes[`${'k'.repeat(1023)}${MARKER}`]).toBe('first')
    expect(r.attributes.short).toBe('v')
    expect(Object.keys(r['events.attributes'][0] ?? {}).map(kept)).toEqual(['e'.repeat(1024)])
  })

  it('content: 4 MiB of UTF-8, ending on a whole character (a split one became U+FFFD)', () => {
    const text = `x${'😀'.repeat(MAX_CONTENT_BYTES / 4 + 10)}`
    const bytes = Buffer.byteLength(kept(cutBytes(text, MAX_CONTENT_BYTES)))
    expect(bytes).toBeLessThanOrEqual(MAX_CONTENT_BYTES)
    expect(bytes).toBeGreaterThan(MAX_CONTENT_BYTES - 4)
    expect(cutBytes('é'.repeat(10), 19)).toBe(`${'é'.repeat(9)}${MARKER}`)
  })

  it('status messages: 64 KiB of UTF-8; the resource: 16 KiB of UTF-8 in all (both counted characters)', () => {
    const r = normalizeSpan(span({}, { statusMessage: 'é'.repeat(40_000), resource: { 'service.name': 'svc', big: 'é'.repeat(10_000) } }), 'p', { prices })
    expect(Buffer.byteLength(kept(r.status_message))).toBeLessThanOrEqual(64 * 1024)
    const resourceBytes = Object.entries(r.resource_attributes).reduce((n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(v), 0)
    expect(resourceBytes).toBeLessThanOrEqual(16 * 1024 + Buffer.byteLength(MARKER) + 'spanlens.resource.truncated'.length + 4)
    expect(r.resource_attributes['spanlens.resource.truncated']).toBe('true')
    expect(kept(r.resource_attributes.big as string)).toMatch(/^é+$/)
  })
})

describe('GenAI events: on the span or as log records, the same columns', () => {
  const prices = PriceTable.load()
  const DETAILS = 'gen_ai.client.inference.operation.details'
  const onSpan = (name: string, attributes: Attrs) => {
    const r = normalizeSpan(span({}, { events: [{ timeNs: '1790000000100000000', name, attributes }] }), 'p', { prices })
    return { input: r.input, output: r.output, finish_reason: r.finish_reason }
  }
  // The same event as a log record: a per-message event's fields are its body (the JSON of
  // gen_ai.event.content where a span event used that), the details event's its attributes.
  const asLog = (name: string, attributes: Attrs) => {
    const body = name === DETAILS ? null : (attributes['gen_ai.event.content'] ?? attributes)
    const c = eventContent(name, body, name === DETAILS ? attributes : {})
    return { input: c.input ?? '', output: c.output ?? '', finish_reason: c.finishReason }
  }

  it('a gen_ai.choice span event gives the finish reason its output message carries', () => {
    const got = onSpan('gen_ai.choice', { finish_reason: 'length', message: '{"content":"Hel"}' })
    expect(got.finish_reason).toBe('length')
    expect(JSON.parse(got.output)).toEqual([{ role: 'assistant', parts: [{ type: 'text', content: 'Hel' }], finish_reason: 'length' }])
  })

  it('a details span event gives the input, output and finish reason its log record gives', () => {
    const got = onSpan(DETAILS, {
      'gen_ai.system_instructions': 'be nice',
      'gen_ai.input.messages': 'hi',
      'gen_ai.output.messages': '[{"role":"assistant","parts":[{"type":"text","content":"Hel"}],"finish_reason":"max_tokens"}]',
    })
    expect(JSON.parse(got.input)).toEqual([
      { role: 'system', parts: [{ type: 'text', content: 'be nice' }] },
      { role: 'user', parts: [{ type: 'text', content: 'hi' }] },
    ])
    expect(got.finish_reason).toBe('length')
  })

  it("a span's own gen_ai.output.messages give their finish reason, as the same attributes on a details event do", () => {
    const attributes = { 'gen_ai.output.messages': '[{"role":"assistant","parts":[{"type":"text","content":"Hel"}],"finish_reason":"max_tokens"}]' }
    expect(normalizeSpan(span(attributes), 'p', { prices }).finish_reason).toBe('length')
    expect(asLog(DETAILS, attributes).finish_reason).toBe('length')
    // gen_ai.response.finish_reasons, when sent, comes first.
    expect(normalizeSpan(span({ ...attributes, 'gen_ai.response.finish_reasons': ['stop'] }), 'p', { prices }).finish_reason).toBe('stop')
  })

  const EVENTS: Array<[string, Attrs]> = [
    ['gen_ai.choice', { finish_reason: 'length', message: '{"content":"Hel"}' }],
    ['gen_ai.choice', { index: 0, finish_reason: 'tool_calls', message: { role: 'assistant', tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] } }],
    ['gen_ai.choice', { finish_reason: 'end_turn', message: 'plain words' }],
    ['gen_ai.choice', { 'gen_ai.event.content': '{"finish_reason":"stop","message":{"content":"x"}}' }],
    ['gen_ai.choice', { finish_reason: '', content: 'no reason given' }],
    ['gen_ai.user.message', { content: 'hi' }],
    ['gen_ai.system.message', { 'gen_ai.event.content': '{"content":"be nice"}' }],
    ['gen_ai.assistant.message', { content: '', tool_calls: [{ id: 'call_1', function: { name: 'get_weather', arguments: '{}' } }] }],
    ['gen_ai.tool.message', { id: 'call_1', content: '{"ok":true}' }],
    [DETAILS, { 'gen_ai.input.messages': '[{"role":"user","parts":[{"type":"text","content":"hi"}]}]', 'gen_ai.output.messages': '[{"role":"assistant","parts":[{"type":"text","content":"Hel"}],"finish_reason":"length"}]' }],
    [DETAILS, { 'gen_ai.system_instructions': 'be nice', 'gen_ai.input.messages': 'hi', 'gen_ai.response.finish_reasons': ['content_filter'] }],
    [DETAILS, { 'gen_ai.output.messages': [{ role: 'assistant', parts: [], finish_reason: 'stop' }], 'gen_ai.response.finish_reasons': '["", "length"]' }],
  ]
  it.each(EVENTS.map(([name, attributes]) => [name, JSON.stringify(attributes), attributes] as const))('%s %s', (name, _label, attributes) => {
    expect(onSpan(name, attributes)).toEqual(asLog(name, attributes))
  })
})

