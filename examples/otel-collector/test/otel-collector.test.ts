import { readFileSync } from 'node:fs'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { parse } from 'yaml'
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto'
import { resourceFromAttributes } from '@opentelemetry/resources'
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base'
import { API_KEY, PROJECT, startStack, type Stack } from '@spanlens/example-test-support'

// The collector binary is not available offline: these tests check the config's shape and then send
// exactly what its otlphttp exporter (and each library the README names) would send, to a real server.
const here = new URL('..', import.meta.url)
const collector = parse(readFileSync(new URL('collector.yaml', here), 'utf8')) as CollectorConfig
const readme = readFileSync(new URL('README.md', here), 'utf8')

interface CollectorConfig {
  receivers: { otlp: { protocols: Record<string, { endpoint: string }> } }
  processors: Record<string, unknown>
  exporters: Record<string, { endpoint: string; headers: Record<string, string>; encoding?: string; compression?: string }>
  service: { pipelines: { traces: { receivers: string[]; processors: string[]; exporters: string[] } } }
}

let stack: Stack
beforeAll(async () => {
  stack = await startStack()
})
afterAll(() => stack?.close())
afterEach(() => vi.unstubAllEnvs())

/** One finished LLM span, recorded in memory so each exporter under test can be handed the same batch. */
function llmSpan(service: string): ReadableSpan[] {
  const memory = new InMemorySpanExporter()
  const provider = new BasicTracerProvider({ resource: resourceFromAttributes({ 'service.name': service }), spanProcessors: [new SimpleSpanProcessor(memory)] })
  provider
    .getTracer('otel-collector-example')
    .startSpan('chat gpt-4o-mini', { attributes: { 'gen_ai.operation.name': 'chat', 'gen_ai.provider.name': 'openai', 'gen_ai.request.model': 'gpt-4o-mini', 'gen_ai.usage.input_tokens': 7 } })
    .end()
  return memory.getFinishedSpans()
}

/** Exports one span for `service`; resolves true when the server accepted it. */
async function send(exporter: OTLPTraceExporter, service: string): Promise<boolean> {
  const result = await new Promise<{ code: number }>((resolve) => exporter.export(llmSpan(service), resolve))
  await exporter.shutdown()
  return result.code === 0
}

async function stored(service: string): Promise<Record<string, unknown>[]> {
  return stack.rows(`SELECT name, kind, request_model, input_tokens, project_id FROM spans FINAL WHERE service_name = {s:String}`, { s: service })
}

const expectStored = async (service: string) =>
  expect(await stored(service)).toEqual([{ name: 'chat gpt-4o-mini', kind: 'llm', request_model: 'gpt-4o-mini', input_tokens: 7, project_id: PROJECT }])

/** The `export NAME=value` lines of the README block tagged `<!-- env:tag -->`, placeholders filled for the test server. */
function readmeEnv(tag: string): Record<string, string> {
  const block = new RegExp(`<!-- env:${tag} -->\\s*\`\`\`sh\\n([^]*?)\`\`\``).exec(readme)?.[1]
  if (!block) throw new Error(`README has no block tagged env:${tag}`)
  const env: Record<string, string> = {}
  for (const line of block.split('\n')) {
    const m = /^export (\w+)=("[^"]*"|\S+)/.exec(line)
    if (!m) continue
    env[m[1]!] = m[2]!
      .replace(/^"|"$/g, '')
      .replace('http://127.0.0.1:4318', stack.spanlensUrl)
      .replace('<key>', API_KEY)
      .replace('<project>', PROJECT)
  }
  return env
}

/** `k=v,k2=v2` with URL-encoded values, as OTEL_EXPORTER_OTLP_HEADERS and TRACELOOP_HEADERS are read. */
function parseHeaders(value: string): Record<string, string> {
  return Object.fromEntries(value.split(',').map((kv) => kv.split('=').map((s) => decodeURIComponent(s.trim())) as [string, string]))
}

describe('collector.yaml', () => {
  it('receives OTLP on gRPC and HTTP, limits memory then batches, and exports traces with otlphttp to Spanlens', () => {
    expect(Object.keys(collector.receivers.otlp.protocols).sort()).toEqual(['grpc', 'http'])
    const pipeline = collector.service.pipelines.traces
    expect(pipeline).toEqual({ receivers: ['otlp'], processors: ['memory_limiter', 'batch'], exporters: ['otlphttp/spanlens'] })
    for (const p of pipeline.processors) expect(collector.processors).toHaveProperty([p])
    const exporter = collector.exporters['otlphttp/spanlens']!
    // otlphttp appends /v1/traces to `endpoint`: it must be the base URL, not the traces URL.
    expect(exporter.endpoint).toBe('${env:SPANLENS_ENDPOINT}')
    expect(exporter.headers).toEqual({ Authorization: 'Bearer ${env:SPANLENS_API_KEY}' })
    expect(exporter).toMatchObject({ encoding: 'proto', compression: 'gzip' })
  })

  it('sends what Spanlens accepts: the exporter request it describes lands in the key’s project, a wrong key is refused', async () => {
    const exporter = collector.exporters['otlphttp/spanlens']!
    const expand = (s: string, env: Record<string, string>) => s.replace(/\$\{env:(\w+)\}/g, (_, name: string) => env[name] ?? '')
    const build = (env: Record<string, string>) =>
      new OTLPTraceExporter({
        url: `${expand(exporter.endpoint, env).replace(/\/$/, '')}/v1/traces`,
        headers: Object.fromEntries(Object.entries(exporter.headers).map(([k, v]) => [k, expand(v, env)])),
        compression: exporter.compression as never,
      })
    expect(await send(build({ SPANLENS_ENDPOINT: stack.spanlensUrl, SPANLENS_API_KEY: API_KEY }), 'via-collector')).toBe(true)
    await expectStored('via-collector')
    expect(await send(build({ SPANLENS_ENDPOINT: stack.spanlensUrl, SPANLENS_API_KEY: 'not-a-valid-key' }), 'via-collector-bad-key')).toBe(false)
    expect(await stored('via-collector-bad-key')).toEqual([])
  })
})

describe('README exporter settings, used as written', () => {
  it('OTEL_EXPORTER_OTLP_ENDPOINT / HEADERS / PROTOCOL: an OpenTelemetry exporter configured only by them', async () => {
    const env = readmeEnv('otel')
    expect(Object.keys(env).sort()).toEqual(['OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_EXPORTER_OTLP_HEADERS', 'OTEL_EXPORTER_OTLP_PROTOCOL'])
    expect(env.OTEL_EXPORTER_OTLP_PROTOCOL).toBe('http/protobuf')
    for (const [k, v] of Object.entries(env)) vi.stubEnv(k, v)
    expect(await send(new OTLPTraceExporter(), 'env-otel')).toBe(true)
    await expectStored('env-otel')
  })

  it('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT / TRACES_HEADERS: the full traces URL', async () => {
    const env = readmeEnv('otel-traces')
    expect(env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT).toMatch(/\/v1\/traces$/)
    for (const [k, v] of Object.entries(env)) vi.stubEnv(k, v)
    expect(await send(new OTLPTraceExporter(), 'env-otel-traces')).toBe(true)
    await expectStored('env-otel-traces')
  })

  it('TRACELOOP_BASE_URL / TRACELOOP_HEADERS: what the Traceloop SDK builds from them', async () => {
    const env = readmeEnv('traceloop')
    // @traceloop/node-server-sdk: new OTLPTraceExporter({ url: `${baseUrl}/v1/traces`, headers: parsed TRACELOOP_HEADERS })
    const exporter = new OTLPTraceExporter({ url: `${env.TRACELOOP_BASE_URL}/v1/traces`, headers: parseHeaders(env.TRACELOOP_HEADERS!) })
    expect(await send(exporter, 'env-traceloop')).toBe(true)
    await expectStored('env-traceloop')
  })

  it("LANGFUSE_BASE_URL / PUBLIC_KEY / SECRET_KEY: Langfuse's OTel path with Basic project:key", async () => {
    const env = readmeEnv('langfuse')
    const basic = Buffer.from(`${env.LANGFUSE_PUBLIC_KEY}:${env.LANGFUSE_SECRET_KEY}`).toString('base64')
    // Langfuse's span processor: OTLP/HTTP protobuf to {baseUrl}/api/public/otel/v1/traces, Basic auth, ingestion version header.
    const exporter = new OTLPTraceExporter({
      url: `${env.LANGFUSE_BASE_URL}/api/public/otel/v1/traces`,
      headers: { Authorization: `Basic ${basic}`, 'x-langfuse-ingestion-version': '4' },
    })
    expect(await send(exporter, 'env-langfuse')).toBe(true)
    await expectStored('env-langfuse')

    // The plain-exporter variant the README gives for Langfuse-style set-ups.
    vi.stubEnv('OTEL_EXPORTER_OTLP_ENDPOINT', `${stack.spanlensUrl}/api/public/otel`)
    vi.stubEnv('OTEL_EXPORTER_OTLP_HEADERS', `Authorization=Basic%20${basic}`)
    expect(await send(new OTLPTraceExporter(), 'env-langfuse-otel')).toBe(true)
    await expectStored('env-langfuse-otel')
  })
})
