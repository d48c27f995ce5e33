import { encodeExportResponse } from '../otlp/encode-response.js'
import type { IngestPipeline } from '../pipeline/ingest.js'
import { exportSpans } from '../receiver/export.js'

/** One unary OTLP/gRPC method: its request message's bytes in, its response message's bytes out. */
export interface GrpcService {
  /** `/package.Service/Method`, as on the wire; also the `route` label on /metrics. */
  path: string
  /**
   * The request message (decompressed, at most SPANLENS_BODY_LIMIT_BYTES) of a call
   * that is authenticated as `project` and admitted (grpc/call.ts); resolves with the
   * response message once it is durable, or throws (a SpanlensError) to refuse.
   * `started` is when the call arrived, for the acknowledgement latency.
   */
  handle(project: string, request: Buffer, started: bigint): Promise<Buffer>
}

const TRACES = '/opentelemetry.proto.collector.trace.v1.TraceService/Export'

/**
 * The OTLP collector services served over gRPC, one row per signal. Messages
 * stay bytes (grpc/server.ts registers identity (de)serializers), so a row hands
 * them to the same decoder, pipeline and response encoder as OTLP/HTTP protobuf.
 */
export function otlpServices(pipeline: IngestPipeline): GrpcService[] {
  return [
    {
      path: TRACES,
      handle: async (project, request, started) =>
        encodeExportResponse(await exportSpans(pipeline, project, 'protobuf', request, TRACES, started)),
    },
  ]
}
