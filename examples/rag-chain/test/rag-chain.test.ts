import { describe, expect, it } from 'vitest'
import { REPLY } from '@spanlens/fake-llm'
import { one, spans, useStack } from '@spanlens/example-test-support'
import { main } from '../src/main.js'
import { DOCS } from '../src/docs.js'

const stack = useStack()

describe('rag-chain example', () => {
  it('stores retrieval, tool and both LLM calls as one tree under answer_question, for the user and session', async () => {
    const result = await main({ question: 'What should I pack for Paris this weekend?', userId: 'user-9', sessionId: 'trip-3' })
    expect(result.answer).toBe(REPLY.openaiChat)
    expect(result.sources).toHaveLength(2)

    const all = await spans(stack)
    const rows = all.filter((r) => r.trace_id === result.traceId)
    const root = one(rows, 'answer_question')
    const retrieve = one(rows, 'retrieve')
    const tool = one(rows, 'get_weather')
    const llms = rows.filter((r) => r.name === 'chat gpt-4o-mini')
    const queryEmbedding = one(rows, 'embeddings text-embedding-3-small')

    expect(rows).toHaveLength(6)
    expect(root).toMatchObject({ kind: 'chain', parent_span_id: '', service_name: 'rag-chain', input: 'What should I pack for Paris this weekend?', output: REPLY.openaiChat })
    expect(retrieve).toMatchObject({ kind: 'retrieval', parent_span_id: root.span_id })
    expect(queryEmbedding).toMatchObject({ kind: 'embedding', operation: 'embeddings', parent_span_id: retrieve.span_id, request_model: 'text-embedding-3-small', input_tokens: 4 })
    expect(tool).toMatchObject({ kind: 'tool', parent_span_id: root.span_id, output: '{"city":"Paris","forecast":"light rain","celsius":14}' })
    expect(String(tool.input)).toContain('Paris')
    expect(llms).toHaveLength(2)
    for (const r of rows) expect(r).toMatchObject({ user_id: 'user-9', session_id: 'trip-3' })
    for (const llm of llms) expect(llm).toMatchObject({ kind: 'llm', parent_span_id: root.span_id, provider: 'openai', request_model: 'gpt-4o-mini', input_tokens: 12, output_tokens: 5 })

    // The first call asks for the tool, the second answers with its result and the retrieved articles in the prompt.
    const [first, second] = [llms.find((l) => l.finish_reason === 'tool_calls'), llms.find((l) => l.finish_reason === 'stop')]
    expect(String(first?.output)).toContain('get_weather')
    for (const id of result.sources) expect(String(first?.input)).toContain(DOCS.find((d) => d.id === id)!.text)
    expect(String(second?.input)).toContain('light rain')
    expect(String(second?.output)).toContain(REPLY.openaiChat)
    // In time order, as the README's tree shows them (spans() orders by start time): the tool between the two calls.
    expect(rows.filter((r) => r.parent_span_id === root.span_id).map((r) => `${r.name} ${r.finish_reason}`)).toEqual(['retrieve ', 'chat gpt-4o-mini tool_calls', 'get_weather ', 'chat gpt-4o-mini stop'])

    // Indexing the documents at start-up is its own trace: one embeddings call for all four.
    const indexing = all.filter((r) => r.trace_id !== result.traceId)
    expect(indexing).toMatchObject([{ name: 'embeddings text-embedding-3-small', kind: 'embedding', parent_span_id: '', input_tokens: 16 }])
  })

  it('stores the feedback score on the same trace', async () => {
    const [run] = await stack.rows<{ trace_id: string }>(`SELECT trace_id FROM spans FINAL WHERE name = 'answer_question'`)
    const scores = await stack.rows(`SELECT trace_id, name, value, data_type, source, comment FROM scores FINAL`)
    expect(scores).toEqual([{ trace_id: run!.trace_id, name: 'user_feedback', value: 1, data_type: expect.any(String), source: 'user', comment: 'helpful' }])
  })
})
