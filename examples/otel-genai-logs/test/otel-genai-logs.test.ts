import { REPLY } from '@spanlens/fake-llm'
import { API_KEY, useStack } from '@spanlens/example-test-support'
import { describe, expect, it } from 'vitest'
import { main } from '../src/main.js'

// This file owns the process-global OpenTelemetry registration and the openai module patch.
const stack = useStack()

interface ApiSpan {
  spanId: string
  name: string
  input?: string
  output?: string
  finishReason: string
  children: ApiSpan[]
}

const api = async <T>(path: string): Promise<T> => {
  const res = await fetch(`${stack.spanlensUrl}/api/v1${path}`, { headers: { authorization: `Bearer ${API_KEY}` } })
  expect(res.status, path).toBe(200)
  return (await res.json()) as T
}

describe('otel-genai-logs example: @opentelemetry/instrumentation-openai sends content as logs', () => {
  it('the spans show the messages, tool calls and finish reasons the library logged, though the logs came first', async () => {
    const { answers } = await main({ endpoint: stack.spanlensUrl, apiKey: API_KEY, order: 'logs-first' })
    expect(answers).toEqual([REPLY.openaiChat, REPLY.openaiChat])

    const spans = await stack.rows<{ trace_id: string; span_id: string; name: string; kind: string; input: string; output: string; content_filled: number }>(
      "SELECT trace_id, span_id, name, kind, input, output, content_filled FROM spans FINAL WHERE service_name = 'genai-logs-app' ORDER BY start_time",
    )
    expect(spans.map((s) => [s.name, s.kind])).toEqual([
      ['chat gpt-4o-mini', 'llm'],
      ['chat gpt-4o-mini', 'llm'],
      ['chat gpt-4o-mini', 'llm'],
    ])
    // The library puts no content on its spans: all of it is in the logs, and the server's content
    // merge (run by the flush before each read here) wrote it onto them (content_filled: input and output).
    for (const s of spans) expect([s.input !== '', s.output !== '', Number(s.content_filled) & 3]).toEqual([true, true, 3])
    const [records] = await stack.rows<{ n: string | number }>("SELECT count() AS n FROM logs FINAL WHERE service_name = 'genai-logs-app'")
    expect(Number(records?.n)).toBeGreaterThanOrEqual(9)

    const shown = async (s: { trace_id: string; span_id: string }) => {
      const trace = await api<{ roots: ApiSpan[] }>(`/traces/${s.trace_id}`)
      const flat = (nodes: ApiSpan[]): ApiSpan[] => nodes.flatMap((n) => [n, ...flat(n.children)])
      return flat(trace.roots).find((n) => n.spanId === s.span_id) as ApiSpan
    }
    const chat = await shown(spans[0]!)
    expect(JSON.parse(chat.input ?? '')).toEqual([
      { role: 'system', parts: [{ type: 'text', content: 'You answer in one sentence.' }] },
      { role: 'user', parts: [{ type: 'text', content: 'What is the capital of France?' }] },
    ])
    expect(JSON.parse(chat.output ?? '')).toEqual([{ role: 'assistant', parts: [{ type: 'text', content: REPLY.openaiChat }], finish_reason: 'stop' }])
    expect(chat.finishReason).toBe('stop')
    // What drift and bias read (the span as stored) is what the trace shows.
    expect([spans[0]!.input, spans[0]!.output]).toEqual([chat.input, chat.output])

    const toolCall = await shown(spans[1]!)
    expect(toolCall.finishReason).toBe('tool_calls')
    expect(JSON.parse(toolCall.output ?? '')[0].parts).toEqual([expect.objectContaining({ type: 'tool_call', id: 'call_1', name: 'get_weather' })])

    const toolResult = await shown(spans[2]!)
    expect(JSON.parse(toolResult.input ?? '').map((m: { role: string }) => m.role)).toEqual(['user', 'assistant', 'tool'])
    expect(JSON.parse(toolResult.input ?? '')[2].parts).toEqual([{ type: 'tool_call_response', id: 'call_1', response: '{"forecast":"sunny"}' }])

    // Text search and the SQL sandbox see the same content.
    const found = await api<{ items: ApiSpan[] }>(`/spans?q=${encodeURIComponent('capital of France')}`)
    expect(found.items.map((s) => s.spanId)).toEqual([spans[0]!.span_id])
    const res = await fetch(`${stack.spanlensUrl}/api/v1/sql`, {
      method: 'POST',
      headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ query: `SELECT output FROM spans WHERE span_id = '${spans[0]!.span_id}'` }),
    })
    expect(((await res.json()) as { data: Array<{ output: string }> }).data[0]?.output).toBe(chat.output)
  })
})
