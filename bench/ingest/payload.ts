import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import protobuf from 'protobufjs'

/**
 * Realistic OTLP export requests: 100 LLM spans each, OTel GenAI attributes, a
 * ~600 B prompt and ~400 B completion per span. One template is encoded once;
 * each request is a copy with fresh trace/span ids written at known offsets,
 * so generating load costs the client almost nothing.
 */
const PROTO_DIR = join(dirname(fileURLToPath(import.meta.url)), '../../packages/sdk/proto')
const MAGIC = Buffer.from('deadbeefcafebabe', 'hex')

function requestType(): protobuf.Type {
  const root = new protobuf.Root()
  root.resolvePath = (_o, target) => join(PROTO_DIR, target)
  root.loadSync('opentelemetry/proto/collector/trace/v1/trace_service.proto')
  return root.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest')
}

const words = 'the quick brown fox jumps over a lazy dog while our retrieval chain summarizes quarterly revenue guidance'.split(' ')
const text = (n: number, seed: number) => Array.from({ length: n }, (_, i) => words[(i * 7 + seed) % words.length]).join(' ')
const str = (key: string, value: string) => ({ key, value: { stringValue: value } })
const int = (key: string, value: number) => ({ key, value: { intValue: value } })

export interface PayloadFactory {
  spansPerRequest: number
  bytes: number
  next(): Buffer
  /** Span ids of request n, to check what was stored. */
  spanIdsOf(n: number): string[]
}

export function createPayloadFactory(spansPerRequest = 100, runId = Date.now() & 0xffffffff): PayloadFactory {
  const type = requestType()
  const now = BigInt(Date.now()) * 1_000_000n
  const models = ['gpt-4o-mini', 'gpt-4o', 'claude-sonnet-4-5', 'gemini-2.5-flash']
  const spans = Array.from({ length: spansPerRequest }, (_, i) => {
    const traceId = Buffer.concat([MAGIC, Buffer.from([0, 0, 0, 0, 0, 0, 0, i + 1])])
    const spanId = Buffer.from([0xfe, 0xed, 0, i + 1, 0, 0, 0, 0])
    const start = now + BigInt(i) * 1_000_000n
    return {
      traceId,
      spanId,
      name: `chat ${models[i % models.length]}`,
      kind: 3,
      startTimeUnixNano: start.toString(),
      endTimeUnixNano: (start + BigInt(300 + i * 7) * 1_000_000n).toString(),
      attributes: [
        str('gen_ai.operation.name', 'chat'),
        str('gen_ai.provider.name', i % 4 === 2 ? 'anthropic' : 'openai'),
        str('gen_ai.request.model', models[i % models.length] as string),
        int('gen_ai.usage.input_tokens', 200 + i * 3),
        int('gen_ai.usage.output_tokens', 50 + i),
        { key: 'gen_ai.response.finish_reasons', value: { arrayValue: { values: [{ stringValue: 'stop' }] } } },
        str('gen_ai.input.messages', JSON.stringify([{ role: 'user', parts: [{ type: 'text', content: text(90, i) }] }])),
        str('gen_ai.output.messages', JSON.stringify([{ role: 'assistant', parts: [{ type: 'text', content: text(60, i + 3) }], finish_reason: 'stop' }])),
        str('user.id', `user-${i % 37}`),
        str('session.id', `session-${i % 11}`),
      ],
      status: { code: 1 },
    }
  })
  const message = type.fromObject({
    resourceSpans: [
      {
        resource: { attributes: [str('service.name', 'bench-chat'), str('deployment.environment.name', 'bench'), str('service.version', '1.0.0')] },
        scopeSpans: [{ scope: { name: 'bench' }, spans }],
      },
    ],
  })
  const template = Buffer.from(type.encode(message).finish())
  const offsets = spans.map((s) => ({ trace: template.indexOf(s.traceId), span: template.indexOf(s.spanId) }))
  if (offsets.some((o) => o.trace < 0 || o.span < 0)) throw new Error('id placeholders not found in the encoded template')
  let n = 0
  return {
    spansPerRequest,
    bytes: template.length,
    next() {
      const buf = Buffer.from(template)
      const req = n++
      for (let i = 0; i < offsets.length; i++) {
        const o = offsets[i] as { trace: number; span: number }
        buf.writeUInt32BE(runId >>> 0, o.trace + 8)
        buf.writeUInt32BE(req, o.trace + 12)
        buf.writeUInt32BE(req, o.span + 4)
      }
      return buf
    },
    spanIdsOf(req: number) {
      return offsets.map((_, i) => Buffer.from([0xfe, 0xed, 0, i + 1, 0, 0, 0, 0]).toString('hex').slice(0, 8) + req.toString(16).padStart(8, '0'))
    },
  }
}
