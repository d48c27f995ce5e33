import { createRequire } from 'node:module'
import { context } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-proto'
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto'
import { OpenAIInstrumentation } from '@opentelemetry/instrumentation-openai'
import { resourceFromAttributes } from '@opentelemetry/resources'
import { BatchLogRecordProcessor, LoggerProvider } from '@opentelemetry/sdk-logs'
import { BatchSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace'
import type OpenAIClient from 'openai'

/**
 * An app instrumented with OpenTelemetry's own OpenAI instrumentation and nothing
 * from Spanlens: its spans carry models, tokens and finish reasons, and the prompts
 * and completions come as OTLP log records (gen_ai.user.message, gen_ai.choice, ...).
 * Both go to Spanlens (/v1/traces and /v1/logs), which shows the content on the spans.
 * The two signals are exported by separate processors, so either may arrive first:
 * `order` makes that explicit.
 */
export interface GenAiLogsOptions {
  /** Spanlens base URL and API key (SPANLENS_ENDPOINT, SPANLENS_API_KEY). */
  endpoint: string
  apiKey: string
  /** Which signal is exported first for each call. */
  order?: 'logs-first' | 'spans-first'
}

export interface GenAiLogsResult {
  answers: string[]
}

export async function main(options: GenAiLogsOptions): Promise<GenAiLogsResult> {
  const headers = { authorization: `Bearer ${options.apiKey}` }
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())
  const resource = resourceFromAttributes({ 'service.name': 'genai-logs-app' })
  const tracerProvider = new TracerProvider({
    resource,
    spanProcessors: [new BatchSpanProcessor({ exporter: new OTLPTraceExporter({ url: `${options.endpoint}/v1/traces`, headers }) })],
  })
  const loggerProvider = new LoggerProvider({
    resource,
    processors: [new BatchLogRecordProcessor({ exporter: new OTLPLogExporter({ url: `${options.endpoint}/v1/logs`, headers }) })],
  })
  const instrumentation = new OpenAIInstrumentation({ captureMessageContent: true })
  instrumentation.setTracerProvider(tracerProvider)
  instrumentation.setLoggerProvider(loggerProvider)
  instrumentation.enable()

  // CommonJS require after enable(), so require-in-the-middle patches the module.
  const { OpenAI } = createRequire(import.meta.url)('openai') as { OpenAI: typeof OpenAIClient }
  const openai = new OpenAI({ baseURL: process.env.OPENAI_BASE_URL, apiKey: process.env.OPENAI_API_KEY ?? 'sk-fake', maxRetries: 0 })
  const model = process.env.OPENAI_MODEL ?? 'gpt-4o-mini'
  const flush = async () => {
    const [first, second] = options.order === 'spans-first' ? [tracerProvider, loggerProvider] : [loggerProvider, tracerProvider]
    await first.forceFlush()
    await second.forceFlush()
  }

  const answers: string[] = []
  // 1. A plain chat: system and user messages in, one choice out.
  const chat = await openai.chat.completions.create({
    model,
    messages: [
      { role: 'system', content: 'You answer in one sentence.' },
      { role: 'user', content: 'What is the capital of France?' },
    ],
  })
  answers.push(chat.choices[0]?.message.content ?? '')
  await flush()

  // 2. A tool round trip: the model calls get_weather, the app answers, the model replies.
  const tools = [{ type: 'function' as const, function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }]
  const question = { role: 'user' as const, content: 'What is the weather in Paris?' }
  const first = await openai.chat.completions.create({ model, messages: [question], tools })
  const call = first.choices[0]?.message.tool_calls?.[0]
  if (call) {
    const second = await openai.chat.completions.create({
      model,
      tools,
      messages: [question, first.choices[0]!.message, { role: 'tool', tool_call_id: call.id, content: '{"forecast":"sunny"}' }],
    })
    answers.push(second.choices[0]?.message.content ?? '')
  }
  await flush()

  instrumentation.disable()
  await tracerProvider.shutdown()
  await loggerProvider.shutdown()
  return { answers }
}
