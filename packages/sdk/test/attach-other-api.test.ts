import { afterEach, describe, expect, it } from 'vitest'
import { ProxyTracerProvider } from '@opentelemetry/api'
// A second copy of the API, of another version: what npm installs next to the SDK's when the app
// depends on another @opentelemetry/api version than the SDK resolved.
import * as appApi from 'otel-api-1.10'
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base'
import OpenAI from 'openai'
import { flush, observe, shutdown, wrapOpenAI } from '../src/index.js'
import { AsyncLocalStorageContextManager } from '../src/context-manager.js'
import { byName, useHarness } from './helpers/harness.js'
import { captureLogger } from './helpers/logger.js'

// This file owns the process-global OpenTelemetry registration (one fork per file); each test starts without one.
const h = useHarness()
afterEach(async () => {
  await shutdown()
  delete (globalThis as Record<symbol, unknown>)[Symbol.for('opentelemetry.js.api.1')]
})

describe('alongside an app on another @opentelemetry/api version', () => {
  it('attaches to the provider the app registered with its own copy of the API', async () => {
    expect(appApi.ProxyTracerProvider).not.toBe(ProxyTracerProvider)
    const appExporter = new InMemorySpanExporter()
    const appProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(appExporter)] })
    appApi.context.setGlobalContextManager(new AsyncLocalStorageContextManager())
    appApi.trace.setGlobalTracerProvider(appProvider)

    h.start()
    const openai = wrapOpenAI(new OpenAI({ apiKey: 'sk-test', baseURL: `${h.llm.url}/v1`, maxRetries: 0 }))
    const step = observe('step', () => openai.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }))
    await appApi.trace.getTracer('app-http').startActiveSpan('POST /chat', async (http) => {
      await step()
      http.end()
    })
    await flush()

    const root = byName(h.receiver.spans, 'POST /chat')
    const llm = byName(h.receiver.spans, 'chat gpt-4o')
    expect(byName(h.receiver.spans, 'step').parentSpanId).toBe(root.spanId)
    expect(llm.traceId).toBe(root.traceId)
    expect(appExporter.getFinishedSpans().map((s) => s.name)).toEqual(expect.arrayContaining(['POST /chat', 'step', 'chat gpt-4o']))
  })

  it('warns when no context manager can work: the app registered a provider without one, through another version', async () => {
    appApi.trace.setGlobalTracerProvider(new BasicTracerProvider())
    const logger = captureLogger()
    h.start({ logger })
    expect(logger.lines.join('\n')).toMatch(/no OpenTelemetry context manager works.*another @opentelemetry\/api version/)
  })
})
