import { describe, expect, it } from 'vitest'
import { REPLY } from '@spanlens/fake-llm'
import { one, PROJECT, spans, useStack } from '@spanlens/example-test-support'
import { main } from '../src/main.js'

const stack = useStack()

describe('openai-chat example', () => {
  it('stores each streamed turn as a chat_turn trace with its LLM call: model, tokens, ttft, streamed answer, one session', async () => {
    let printed = ''
    const answers = await main({ questions: ['Where is my order?', 'Can I change the address?'], userId: 'user-7', sessionId: 'chat-1', write: (t) => (printed += t) })
    expect(answers).toEqual([REPLY.openaiChat, REPLY.openaiChat])
    expect(printed).toContain(REPLY.openaiChat)

    const rows = await spans(stack)
    expect(rows.map((r) => r.name).sort()).toEqual(['chat gpt-4o-mini', 'chat gpt-4o-mini', 'chat_turn', 'chat_turn'])
    const turns = rows.filter((r) => r.name === 'chat_turn')
    expect(new Set(turns.map((t) => t.trace_id)).size).toBe(2)
    for (const turn of turns) {
      expect(turn).toMatchObject({ kind: 'chain', parent_span_id: '', user_id: 'user-7', session_id: 'chat-1', service_name: 'openai-chat', project_id: PROJECT })
      const llm = rows.find((r) => r.parent_span_id === turn.span_id)
      expect(llm).toMatchObject({
        name: 'chat gpt-4o-mini',
        trace_id: turn.trace_id,
        kind: 'llm',
        provider: 'openai',
        request_model: 'gpt-4o-mini',
        response_model: 'gpt-4o-mini-2024',
        input_tokens: 12,
        output_tokens: 5,
        cache_read_tokens: 2,
        finish_reason: 'stop',
        user_id: 'user-7',
        session_id: 'chat-1',
      })
      expect(Number(llm!.ttft_ms)).toBeGreaterThan(0)
      expect(String(llm!.output)).toContain(REPLY.openaiChat)
      expect(String(turn.output)).toContain(REPLY.openaiChat)
    }
    // The second turn sends the history: the first answer is in its prompt.
    const second = rows.find((r) => r.name === 'chat gpt-4o-mini' && String(r.input).includes('Can I change'))!
    expect(String(second.input)).toContain('Can I change the address?')
    expect(String(second.input)).toContain(REPLY.openaiChat)
  })
})
