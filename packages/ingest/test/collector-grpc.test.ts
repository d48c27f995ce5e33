import { readFileSync } from 'node:fs'
import { Metadata } from '@grpc/grpc-js'
import { context, trace } from '@opentelemetry/api'
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-grpc'
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-grpc'
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc'
import { resourceFromAttributes } from '@opentelemetry/resources'
import { LoggerProvider, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs'
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics'
import { BasicTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { listenGrpc } from './helpers/grpc.js'
import { KEYS, startServer, type TestServer } from './helpers/server.js'

// examples/otel-collector/collector-grpc.yaml: the collector binary is not available offline,
// so this checks the config's shape and sends each signal the way its otlp (gRPC) exporter
// would, with the exporter's own settings, to a real server's gRPC receiver.
interface Exporter {
  endpoint: string
  tls: { insecure: boolean }
  headers: Record<string, string>
  compression: string
}
interface Pipeline {
  receivers: string[]
  processors: string[]
  exporters: string[]
}
const config = parse(readFileSync(new URL('../../../examples/otel-collector/collector-grpc.yaml', import.meta.url), 'utf8')) as {
  exporters: Record<string, Exporter>
  service: { pipelines: Record<string, Pipeline> }
}

let server: TestServer
let grpc: string
beforeAll(async () => {
  server = await startServer()
  grpc = await listenGrpc(server.app)
})
afterAll(() => server?.close())

const exporter = () => config.exporters['otlp/spanlens'] as Exporter
/** The exporter's settings with ${env:…} filled for this server. */
function settings(key: string) {
  const env: Record<string, string> = { SPANLENS_GRPC_ENDPOINT: grpc, SPANLENS_API_KEY: key }
  const expand = (s: string) => s.replace(/\$\{env:(\w+)\}/g, (_, name: string) => env[name] ?? '')
  const metadata = new Metadata()
  for (const [k, v] of Object.entries(exporter().headers)) metadata.set(k, expand(v))
  return { url: `http://${expand(exporter().endpoint)}`, metadata, compression: exporter().compression as never }
}

describe('collector-grpc.yaml', () => {
  it('sends traces, logs and metrics, each through memory_limiter and batch, to one gRPC exporter with the key and gzip', () => {
    const pipelines = config.service.pipelines
    expect(Object.keys(pipelines).sort()).toEqual(['logs', 'metrics', 'traces'])
    for (const p of Object.values(pipelines)) expect(p).toEqual({ receivers: ['otlp'], processors: ['memory_limiter', 'batch'], exporters: ['otlp/spanlens'] })
    expect(exporter()).toMatchObject({ endpoint: '${env:SPANLENS_GRPC_ENDPOINT}', tls: { insecure: true }, headers: { authorization: 'Bearer ${env:SPANLENS_API_KEY}' }, compression: 'gzip' })
  })

  it('what its exporter sends lands in the key’s project, all three signals; the content of a GenAI event lands on its span', async () => {
    const resource = resourceFromAttributes({ 'service.name': 'via-collector-grpc' })
    const tracer = new BasicTracerProvider({ resource, spanProcessors: [new SimpleSpanProcessor(new OTLPTraceExporter(settings(KEYS.acme)))] })
    const loggers = new LoggerProvider({ resource, processors: [new SimpleLogRecordProcessor({ exporter: new OTLPLogExporter(settings(KEYS.acme)) })] })
    const reader = new PeriodicExportingMetricReader({ exporter: new OTLPMetricExporter(settings(KEYS.acme)), exportIntervalMillis: 60_000 })
    const meters = new MeterProvider({ resource, readers: [reader] })

    const span = tracer.getTracer('collector').startSpan('chat gpt-4o-mini', { attributes: { 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': 'gpt-4o-mini', 'gen_ai.usage.input_tokens': 7 } })
    loggers.getLogger('collector').emit({ context: trace.setSpan(context.active(), span), eventName: 'gen_ai.user.message', body: { content: 'through the collector' } })
    meters.getMeter('collector').createHistogram('gen_ai.client.token.usage', { unit: '{token}' }).record(7, { 'gen_ai.token.type': 'input', 'gen_ai.request.model': 'gpt-4o-mini' })
    span.end()
    await Promise.all([tracer.forceFlush(), loggers.forceFlush(), reader.forceFlush()])
    await Promise.all([tracer.shutdown(), loggers.shutdown(), meters.shutdown()])
    await server.app.spanlens.flush()

    const where = "project_id = 'acme' AND service_name = 'via-collector-grpc'"
    expect(await server.rows(`SELECT kind, input_tokens FROM spans FINAL WHERE ${where}`)).toEqual([{ kind: 'llm', input_tokens: 7 }])
    expect(await server.rows(`SELECT event_name FROM logs WHERE ${where}`)).toEqual([{ event_name: 'gen_ai.user.message' }])
    // Cumulative by default: flushed, then exported again at shutdown, the same one recording.
    expect(await server.rows(`SELECT name, max(count) AS count FROM metrics WHERE ${where} GROUP BY name`)).toEqual([{ name: 'gen_ai.client.token.usage', count: 1 }])
    const res = await fetch(`${server.url}/api/v1/traces/${span.spanContext().traceId}`, { headers: { authorization: `Bearer ${KEYS.acme}` } })
    const tree = (await res.json()) as { roots: Array<{ input: string }> }
    expect(JSON.parse(tree.roots[0]?.input ?? '[]')).toEqual([{ role: 'user', parts: [{ type: 'text', content: 'through the collector' }] }])
  })
})
