import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { context, propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api'
import { resourceFromAttributes } from '@opentelemetry/resources'
import { BatchSpanProcessor, ConsoleSpanExporter, NodeTracerProvider, type SpanExporter } from '@opentelemetry/sdk-trace-node'
import OpenAI from 'openai'
import { init, shutdown, wrapOpenAI } from '@spanlens/sdk'

/**
 * An HTTP service that already runs OpenTelemetry (its own NodeTracerProvider
 * and exporter) and adds Spanlens. Because the provider is registered before
 * init(), Spanlens attaches its span processor to it: the LLM span is a child
 * of the app's HTTP server span, in the trace its client started, and every
 * span goes to both the app's exporter and Spanlens.
 *
 *   POST (client) → POST /chat (server) → chat gpt-4o-mini (llm)
 */
export interface ExistingOtelOptions {
  /** The app's own exporter (in real life OTLP to Jaeger, Tempo, Honeycomb...); the console by default. */
  appExporter?: SpanExporter
  questions?: string[]
}

export async function main(options: ExistingOtelOptions = {}): Promise<string[]> {
  const { appExporter = new ConsoleSpanExporter(), questions = ['Where is order 1001?'] } = options
  const model = process.env.OPENAI_MODEL ?? 'gpt-4o-mini'

  // 1. What the app had before Spanlens: a provider with its resource and exporter, registered globally
  //    (which also installs the AsyncLocalStorage context manager and the W3C trace-context propagator).
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'orders-api', 'service.version': '2.3.0' }),
    spanProcessors: [new BatchSpanProcessor(appExporter)],
  })
  provider.register()
  const tracer = trace.getTracer('orders-api')

  // 2. Adding Spanlens: init() finds the registered provider and adds its processor to it.
  init() // SPANLENS_ENDPOINT, SPANLENS_API_KEY; service.name comes from the app's resource
  const openai = wrapOpenAI(new OpenAI()) // OPENAI_BASE_URL, OPENAI_API_KEY

  // 3. The app: each request is a SERVER span continuing the caller's trace; the LLM call happens inside it.
  async function handleChat(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const caller = propagation.extract(context.active(), req.headers)
    await tracer.startActiveSpan(
      `${req.method} /chat`,
      { kind: SpanKind.SERVER, attributes: { 'http.request.method': req.method ?? 'GET', 'url.path': '/chat', 'http.route': '/chat' } },
      caller,
      async (span) => {
        try {
          const { question } = JSON.parse(await readBody(req)) as { question: string }
          const completion = await openai.chat.completions.create({ model, messages: [{ role: 'user', content: question }] })
          const answer = completion.choices[0]?.message.content ?? ''
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ answer }))
          span.setAttribute('http.response.status_code', 200)
        } catch (err) {
          span.recordException(err as Error)
          span.setStatus({ code: SpanStatusCode.ERROR })
          span.setAttribute('http.response.status_code', 500)
          res.writeHead(500).end()
        } finally {
          span.end()
        }
      },
    )
  }
  const server = createServer((req, res) => void handleChat(req, res))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/chat`

  // A caller (in real life another instrumented service): a CLIENT span whose context travels in `traceparent`.
  const answers: string[] = []
  for (const question of questions) {
    const answer = await tracer.startActiveSpan('POST', { kind: SpanKind.CLIENT, attributes: { 'http.request.method': 'POST', 'url.full': url } }, async (span) => {
      const headers: Record<string, string> = { 'content-type': 'application/json' }
      propagation.inject(context.active(), headers)
      const res = await fetch(url, { method: 'POST', headers, body: JSON.stringify({ question }) })
      span.setAttribute('http.response.status_code', res.status)
      span.end()
      return ((await res.json()) as { answer: string }).answer
    })
    answers.push(answer)
  }

  server.close()
  await shutdown() // flushes Spanlens and detaches its processor
  await provider.shutdown() // flushes the app's own exporter, as the app always did
  return answers
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = []
  for await (const c of req) chunks.push(c as Buffer)
  return Buffer.concat(chunks).toString()
}
