import { encodeExportResponse } from '../otlp/encode-response.js'
import type { IngestPipeline } from '../pipeline/ingest.js'
import { SIGNAL_NAMES, SIGNALS } from '../pipeline/signals.js'
import { exportSignal } from '../receiver/export.js'

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

/**
 * The OTLP collector services served over gRPC, one per signal (pipeline/signals.ts).
 * Messages stay bytes (grpc/server.ts registers identity (de)serializers), so each
 * hands them to the same decoder, pipeline and response encoder as OTLP/HTTP protobuf.
 */
export function otlpServices(pipeline: IngestPipeline): GrpcService[] {
  return SIGNAL_NAMES.map((signal) => {
    const path = SIGNALS[signal].grpcMethod
    return {
      path,
      handle: async (project, request, started) => encodeExportResponse(await exportSignal(pipeline, signal, project, 'protobuf', request, path, started)),
    }
  })
}
