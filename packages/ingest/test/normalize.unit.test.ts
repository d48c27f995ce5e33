import { describe, expect, it } from 'vitest'
import { PriceTable } from '../src/normalize/cost.js'
import { normalizeSpan, nsToSeconds } from '../src/normalize/normalize.js'
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
})
