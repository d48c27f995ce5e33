import { describe, expect, it } from 'vitest'
import { REPLY } from '@spanlens/fake-llm'
import { one, spans, useStack } from '@spanlens/example-test-support'
import { main } from '../src/main.js'

const stack = useStack()

describe('anthropic example', () => {
  it('stores the plain and the streamed messages call under reply_to_ticket, with cache tokens and time to first token', async () => {
    let streamed = ''
    const result = await main({ ticket: 'Parcel damaged', userId: 'user-5', write: (t) => (streamed += t) })
    expect(result).toEqual({ draft: REPLY.anthropic, final: REPLY.anthropic })
    expect(streamed).toBe(`${REPLY.anthropic}\n`)

    const rows = await spans(stack)
    expect(rows).toHaveLength(3) // the Anthropic SDK's own span would double-count: not exported
    const root = one(rows, 'reply_to_ticket')
    expect(root).toMatchObject({ kind: 'chain', parent_span_id: '', service_name: 'anthropic-support', user_id: 'user-5' })
    const calls = rows.filter((r) => r.name === 'chat claude-haiku-4-5')
    expect(calls).toHaveLength(2)
    for (const c of calls) {
      expect(c).toMatchObject({
        trace_id: root.trace_id,
        parent_span_id: root.span_id,
        kind: 'llm',
        provider: 'anthropic',
        request_model: 'claude-haiku-4-5',
        response_model: 'claude-haiku-4-5-20250101',
        input_tokens: 28, // 20 + cache read 5 + cache write 3: input tokens count cached ones, per the GenAI conventions
        output_tokens: 6,
        cache_read_tokens: 5,
        cache_write_tokens: 3,
        finish_reason: 'stop',
        user_id: 'user-5',
      })
      expect(String(c.output)).toContain(REPLY.anthropic)
    }
    const plain = calls.find((c) => String(c.input).includes('Parcel damaged'))!
    expect(String(plain.input)).toContain('customer-support replies') // the system prompt
    const stream = calls.find((c) => c !== plain)!
    expect(String(stream.input)).toContain('Make this reply warmer')
    expect(Number(stream.ttft_ms)).toBeGreaterThan(0)
  })
})
