import { describe, expect, it } from 'vitest'
import { context, trace } from '@opentelemetry/api'
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base'
import OpenAI from 'openai'
import Anthropic from '@anthropic-ai/sdk'
import { flush, observe, wrapAnthropic, wrapOpenAI } from '../src/index.js'
import { AsyncLocalStorageContextManager } from '../src/context-manager.js'
import { byName, useHarness } from './helpers/harness.js'

// This file owns the process-global OpenTelemetry registration (one fork per file).
const h = useHarness()

describe('alongside an existing OpenTelemetry setup', () => {
  it('attaches to the app provider: LLM spans join the app trace and reach both backends', async () => {
    const appExporter = new InMemorySpanExporter()
    const appProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(appExporter)] })
    context.setGlobalContextManager(new AsyncLocalStorageContextManager())
    trace.setGlobalTracerProvider(appProvider)

    h.start()
    const openai = wrapOpenAI(new OpenAI({ apiKey: 'sk-test', baseURL: `${h.llm.url}/v1`, maxRetries: 0 }))
    const anthropic = wrapAnthropic(new Anthropic({ apiKey: 'sk-ant', baseURL: h.llm.url, maxRetries: 0 }))
    const appTracer = trace.getTracer('app-http')
    await appTracer.startActiveSpan('POST /chat', async (http) => {
      await openai.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] })
      await anthropic.messages.create({ model: 'claude-x', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] })
      http.end()
    })
    await flush()

    const httpSpan = byName(h.receiver.spans, 'POST /chat')
    const llm = byName(h.receiver.spans, 'chat gpt-4o')
    const claude = byName(h.receiver.spans, 'chat claude-x')
    expect(llm.traceId).toBe(httpSpan.traceId)
    expect(llm.parentSpanId).toBe(httpSpan.spanId)
    expect(claude.parentSpanId).toBe(httpSpan.spanId)
    // The app's resource wins; ours fills what it lacks.
    expect(httpSpan.resource['service.name']).not.toBe('sdk-tests')
    expect(httpSpan.resource['telemetry.sdk.language']).toBe('nodejs')
    // The Anthropic SDK's own call span would double-count tokens under ours: not exported.
    expect(h.receiver.spans.filter((s) => s.scope.startsWith('com.anthropic.sdk'))).toHaveLength(0)
    const appNames = appExporter.getFinishedSpans().map((s) => s.name)
    expect(appNames).toEqual(expect.arrayContaining(['POST /chat', 'chat gpt-4o', 'chat claude-x']))
    // Attributes in the order a standalone call's span has them (openai.test.ts): request, kind, provider, input, response, output.
    const appLlm = appExporter.getFinishedSpans().find((s) => s.name === 'chat gpt-4o')!
    expect(Object.keys(appLlm.attributes)).toEqual([
      'gen_ai.operation.name',
      'gen_ai.request.model',
      'spanlens.span.kind',
      'gen_ai.provider.name',
      'gen_ai.input.messages',
      'gen_ai.response.model',
      'gen_ai.response.id',
      'gen_ai.response.finish_reasons',
      'gen_ai.usage.input_tokens',
      'gen_ai.usage.output_tokens',
      'gen_ai.usage.cache_read.input_tokens',
      'gen_ai.usage.reasoning.output_tokens',
      'gen_ai.output.messages',
    ])
  })

  it("redacts an error's text in what it exports of the app's spans: status message, exception message and stack trace", async () => {
    const appExporter = new InMemorySpanExporter()
    const appProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(appExporter)] })
    h.start({ tracerProvider: appProvider })
    const message = 'user bob@example.com card 4111111111111111 key sk-proj-ABCDEFGHIJKLMNOPQRSTUVWX'
    const redacted = 'user [REDACTED_EMAIL] card [REDACTED_CARD] key [REDACTED_API_KEY]'
    expect(() =>
      observe('failing', () => {
        throw new Error(message)
      })(),
    ).toThrow(message)
    // The app's own instrumentation records errors on the same provider: its spans reach Spanlens too.
    const own = appProvider.getTracer('app').startSpan('app work')
    own.recordException(new Error(message))
    own.setStatus({ code: 2, message })
    own.end()
    await flush()
    for (const name of ['failing', 'app work']) {
      const s = byName(h.receiver.spans, name)
      expect(s.status.message, name).toBe(redacted)
      const exception = s.events.find((e) => e.name === 'exception')!
      expect(exception.attributes['exception.message'], name).toBe(redacted)
      expect(String(exception.attributes['exception.stacktrace']), name).toMatch(new RegExp(`^Error: ${redacted.replace(/[[\]]/g, '\\$&')}\\n`))
    }
    // The app's own exporter gets its spans as the app recorded them: redaction is what leaves through Spanlens.
    expect(appExporter.getFinishedSpans().find((s) => s.name === 'failing')?.status.message).toBe(message)
  })
})
