import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import protobuf from 'protobufjs'

/**
 * protobufjs types for the tests: they encode requests the way OTel exporters do
 * and decode the receiver's replies independently of its hand-written codec.
 * The opentelemetry-proto files are the ones the SDK vendors and ships.
 */
function protoRoot(): string {
  const dir = fileURLToPath(new URL('../../../sdk/proto', import.meta.url))
  if (!existsSync(join(dir, 'opentelemetry'))) throw new Error(`vendored opentelemetry-proto files not found in ${dir}`)
  return dir
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
