import { describe, expect, it } from 'vitest'
import { REPLY } from '@spanlens/fake-llm'
import { one, spans, useStack } from '@spanlens/example-test-support'
import { main } from '../src/main.js'

const stack = useStack()

describe('vercel-ai example', () => {
  it('stores generateText with a tool loop, streamText and structured output as one trace', async () => {
    let streamed = ''
    const result = await main({ userId: 'user-3', sessionId: 'trip-8', write: (t) => (streamed += t) })
    expect(result.plan).toBe(REPLY.openaiResponses)
    expect(result.packingList).toBe(REPLY.anthropic)
    expect(streamed).toBe(`${REPLY.anthropic}\n`)
    expect(result.trip).toEqual({ city: 'Paris', days: 1, items: ['items example'] })

    const rows = await spans(stack)
    expect(rows).toHaveLength(9)
    const root = one(rows, 'trip_assistant')
    expect(root).toMatchObject({ kind: 'chain', parent_span_id: '', service_name: 'vercel-ai-trips' })
    for (const r of rows) expect(r).toMatchObject({ trace_id: root.trace_id, user_id: 'user-3', session_id: 'trip-8' })
    const children = (parent: Record<string, unknown>) => rows.filter((r) => r.parent_span_id === parent.span_id).map((r) => r.name).sort()
    expect(children(root)).toEqual(['extract_trip', 'packing_list', 'plan_trip'])

    // generateText with a tool loop: two model calls (the first asks for the tool) and the tool execution.
    const plan = one(rows, 'plan_trip')
    expect(plan).toMatchObject({ kind: 'chain', output: REPLY.openaiResponses })
    expect(children(plan)).toEqual(['chat gpt-4o-mini', 'chat gpt-4o-mini', 'get_weather'])
    const planCalls = rows.filter((r) => r.parent_span_id === plan.span_id && r.kind === 'llm')
    expect(planCalls.map((r) => r.finish_reason).sort()).toEqual(['stop', 'tool_calls'])
    for (const c of planCalls) expect(c).toMatchObject({ provider: 'openai', request_model: 'gpt-4o-mini', input_tokens: 10, output_tokens: 3 })
    expect(one(rows, 'get_weather')).toMatchObject({ kind: 'tool', input: '{"city":"Paris"}', output: '{"city":"Paris","forecast":"light rain","celsius":14}' })

    // streamText through the Anthropic provider: time to first chunk and the streamed text.
    const packing = one(rows, 'packing_list')
    const streamedCall = one(rows, 'chat claude-haiku-4-5')
    expect(streamedCall).toMatchObject({ parent_span_id: packing.span_id, kind: 'llm', provider: 'anthropic', input_tokens: 28, output_tokens: 6, cache_read_tokens: 5, finish_reason: 'stop' })
    expect(Number(streamedCall.ttft_ms)).toBeGreaterThan(0)
    expect(String(streamedCall.output)).toContain('Hello from Claude')
    expect(packing.output).toBe(REPLY.anthropic)

    // Structured output: the object is the chain's output.
    const extract = one(rows, 'extract_trip')
    expect(JSON.parse(String(extract.output))).toEqual(result.trip)
    expect(children(extract)).toEqual(['chat gpt-4o-mini'])
  })
})
