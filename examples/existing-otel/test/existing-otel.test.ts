import { describe, expect, it } from 'vitest'
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-node'
import { REPLY } from '@spanlens/fake-llm'
import { one, spans, useStack } from '@spanlens/example-test-support'
import { main } from '../src/main.js'

// This file owns the process-global OpenTelemetry registration (vitest runs one fork per file).
const stack = useStack()

describe('existing-otel example', () => {
  it('puts the LLM span under the app HTTP server span, in the trace the client started, in both backends', async () => {
    // The app's backend: keeps what it is sent (InMemorySpanExporter would forget it at provider shutdown).
    const exported: ReadableSpan[] = []
    const appExporter: SpanExporter = {
      export: (batch, done) => {
        exported.push(...batch)
        done({ code: 0 })
      },
      shutdown: async () => undefined,
    }
    const answers = await main({ appExporter, questions: ['Where is order 1001?'] })
    expect(answers).toEqual([REPLY.openaiChat])

    const rows = await spans(stack)
    expect(rows.map((r) => r.name).sort()).toEqual(['POST', 'POST /chat', 'chat gpt-4o-mini'])
    const client = one(rows, 'POST')
    const server = one(rows, 'POST /chat')
    const llm = one(rows, 'chat gpt-4o-mini')
    expect(client.parent_span_id).toBe('')
    expect(server).toMatchObject({ trace_id: client.trace_id, parent_span_id: client.span_id })
    expect(llm).toMatchObject({ trace_id: client.trace_id, parent_span_id: server.span_id, kind: 'llm', provider: 'openai', request_model: 'gpt-4o-mini', input_tokens: 12, output_tokens: 5 })
    expect(String(llm.input)).toContain('Where is order 1001?')
    // The app's resource names the service: Spanlens fills only what it lacks.
    for (const r of rows) expect(r.service_name).toBe('orders-api')
    const [release] = await stack.rows<{ release: string }>(`SELECT DISTINCT release FROM spans FINAL`)
    expect(release?.release).toBe('2.3.0')

    // The app's own exporter still gets every span, the LLM one included.
    expect(exported.map((s) => s.name).sort()).toEqual(['POST', 'POST /chat', 'chat gpt-4o-mini'])
    const appLlm = exported.find((s) => s.name === 'chat gpt-4o-mini')!
    expect(appLlm.spanContext().traceId).toBe(client.trace_id)
  })
})
