import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import protobuf from 'protobufjs'

/** Loads the vendored opentelemetry-proto files once; works from src/ and dist/. */
function protoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url))
  for (let i = 0; i < 5; i++) {
    const candidate = join(dir, 'proto')
    if (existsSync(join(candidate, 'opentelemetry'))) return candidate
    dir = dirname(dir)
  }
  throw new Error('vendored opentelemetry-proto files not found')
}

let cached: { request: protobuf.Type; response: protobuf.Type; status: protobuf.Type } | undefined

export function otlpTypes(): { request: protobuf.Type; response: protobuf.Type; status: protobuf.Type } {
  if (cached) return cached
  const base = protoRoot()
  const root = new protobuf.Root()
  root.resolvePath = (_origin, target) => join(base, target)
  root.loadSync('opentelemetry/proto/collector/trace/v1/trace_service.proto', { keepCase: false })
  // google.rpc.Status is what OTLP/HTTP error bodies carry; two fields are all we send.
  const status = new protobuf.Type('Status')
    .add(new protobuf.Field('code', 1, 'int32'))
    .add(new protobuf.Field('message', 2, 'string'))
  root.define('google.rpc').add(status)
  cached = {
    request: root.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest'),
    response: root.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse'),
    status,
  }
  return cached
}
