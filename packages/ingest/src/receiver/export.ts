import { errors, type SpanlensError, toSpanlensError } from '../errors.js'
import type { IngestMetrics } from '../metrics.js'
import type { PartialSuccess } from '../otlp/encode-response.js'
import type { IngestPipeline } from '../pipeline/ingest.js'
import type { BodyFormat } from '../pipeline/prepare.js'
import { SIGNALS, type Signal } from '../pipeline/signals.js'

/**
 * One OTLP export, whatever carries it: OTLP/HTTP (routes/otlp.ts) and OTLP/gRPC
 * (grpc/) admit, accept, count and refuse through these, so the two transports
 * cannot drift apart in what they promise or how /metrics counts them.
 */

/**
 * Takes one of the project's ingest slots, or throws the refusal (429/503).
 * The returned function gives the slot back; it may be called any number of
 * times, from every way the exchange can end, and releases once.
 */
export function admit(pipeline: IngestPipeline, project: string): () => void {
  const refused = pipeline.admit(project)
  if (refused) throw refused
  let released = false
  return () => {
    if (released) return
    released = true
    pipeline.release(project)
  }
}

/**
 * Decodes, spools and counts one export of `signal` (`route`: the HTTP path or
 * the gRPC method); resolves once it is durable, with the partial success to
 * report when some of its items (spans, log records...) were refused.
 */
export async function exportSignal(
  pipeline: IngestPipeline,
  signal: Signal,
  project: string,
  format: BodyFormat,
  body: Buffer,
  route: string,
  started: bigint,
): Promise<PartialSuccess | undefined> {
  const result = await pipeline.accept(signal, project, format, body)
  pipeline.metrics.requests.inc({ route, status: 200 })
  pipeline.metrics.ackDuration.observe(Number(process.hrtime.bigint() - started) / 1e9)
  if (result.rejected === 0) return undefined
  return { rejected: result.rejected, errorMessage: `${result.rejected} ${SIGNALS[signal].item}(s) rejected: ${result.problems.join('; ')}` }
}

/** A refused export, as each transport answers it. */
export interface Refusal {
  error: SpanlensError
  /** The google.rpc.Code: the gRPC status, and the code of an OTLP/HTTP error body. */
  rpcCode: number
  /** Set when the client should retry after this many seconds (Retry-After, google.rpc.RetryInfo). */
  retryAfterSeconds: number | undefined
  /**
   * Neither the client's doing nor backpressure: worth an error log with the cause. A bug,
   * or a spool that could not be written (disk full, out of file descriptors): the reply
   * names no path of the server, the log keeps it.
   */
  unexpected: boolean
}

// The google.rpc.Code of each status (OTLP spec: UNAVAILABLE and RESOURCE_EXHAUSTED with
// RetryInfo are retried, INVALID_ARGUMENT and UNAUTHENTICATED are not). 413 is
// RESOURCE_EXHAUSTED without RetryInfo, which exporters do not retry either.
const RPC_CODE: Record<number, number> = { 400: 3, 401: 16, 408: 4, 413: 8, 415: 3, 429: 8, 503: 14, 500: 13 }
const RPC_UNKNOWN = 2
const RETRY_AFTER_SECONDS: Record<number, number> = { 429: 1, 503: 5 }

/** The `reason` label of spanlens_ingest_requests_rejected_total for each code. */
const REASON: Record<string, string> = {
  [errors.UNAUTHORIZED.code]: 'unauthorized',
  [errors.BODY_TOO_LARGE.code]: 'body_too_large',
  [errors.BODY_TIMEOUT.code]: 'body_timeout',
  [errors.ROWS_TOO_LARGE.code]: 'rows_too_large',
  [errors.UNSUPPORTED_MEDIA_TYPE.code]: 'unsupported_media_type',
  [errors.UNSUPPORTED_ENCODING.code]: 'unsupported_media_type',
  [errors.SPOOL_FULL.code]: 'spool_full',
  [errors.OVERLOADED.code]: 'overloaded',
  [errors.SPOOL_IO.code]: 'spool_io',
  [errors.SHUTTING_DOWN.code]: 'shutting_down',
}

/** Maps what an export threw to our error, counts it on /metrics, and says how to answer. */
export function refuse(metrics: IngestMetrics, route: string, err: unknown): Refusal {
  const error = toSpanlensError(err)
  const status = error.statusCode
  metrics.requestsRejected.inc({ reason: REASON[error.code] ?? (status < 500 ? 'bad_request' : 'internal') })
  metrics.requests.inc({ route, status })
  const retryAfterSeconds = RETRY_AFTER_SECONDS[status]
  if (retryAfterSeconds !== undefined) metrics.backpressure.inc({ status })
  const unexpected = (status >= 500 && status !== 503) || error.code === errors.SPOOL_IO.code
  return { error, rpcCode: RPC_CODE[status] ?? RPC_UNKNOWN, retryAfterSeconds, unexpected }
}
