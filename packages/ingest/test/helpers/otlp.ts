import { gzipSync } from 'node:zlib'
import { otlpTypes } from './proto.js'

let counter = 0
const hex = (bytes: number, seed: number) => {
  const b = Buffer.alloc(bytes)
  b.writeUInt32BE(seed >>> 0, bytes - 4)
  b.writeUInt32BE(0xabcdef01, 0)
  return b.toString('hex')
}

export interface JsonSpanInput {
  traceId?: string
  spanId?: string
  name?: unknown
  attributes?: Array<{ key: string; value: Record<string, unknown> }>
  [k: string]: unknown
}

/** An OTLP JSON request with the given spans (ids and times filled in when absent). */
export function jsonRequest(spans: JsonSpanInput[], service = 'test-svc'): Record<string, unknown> {
  const now = BigInt(Date.now()) * 1_000_000n
  return {
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] },
        scopeSpans: [
          {
            scope: { name: 'test' },
            spans: spans.map((s) => {
              const n = ++counter
              return {
                traceId: hex(16, n),
                spanId: hex(8, n),
                name: `span-${n}`,
                kind: 1,
                startTimeUnixNano: String(now),
                endTimeUnixNano: String(now + 5_000_000n),
                ...s,
              }
            }),
          },
        ],
      },
    ],
  }
}

/** The same request as OTLP protobuf (ids converted from hex). */
export function protobufRequest(json: Record<string, unknown>): Buffer {
  const { request } = otlpTypes()
  const clone = JSON.parse(JSON.stringify(json), (key, value) => {
    if ((key === 'traceId' || key === 'spanId' || key === 'parentSpanId') && typeof value === 'string') {
      return Buffer.from(value, 'hex')
    }
    return value
  }) as Record<string, unknown>
  const msg = request.fromObject(clone)
  return Buffer.from(request.encode(msg).finish())
}

export const gzip = (b: Buffer | string) => gzipSync(b)

export const llmAttrs = (model = 'gpt-4o-mini', input = 100, output = 20) => [
  { key: 'gen_ai.operation.name', value: { stringValue: 'chat' } },
  { key: 'gen_ai.provider.name', value: { stringValue: 'openai' } },
  { key: 'gen_ai.request.model', value: { stringValue: model } },
  { key: 'gen_ai.usage.input_tokens', value: { intValue: String(input) } },
  { key: 'gen_ai.usage.output_tokens', value: { intValue: output } },
]
