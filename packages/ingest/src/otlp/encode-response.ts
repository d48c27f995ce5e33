/**
 * The protobuf messages the receiver answers with (OTLP/HTTP bodies, OTLP/gRPC
 * replies and grpc-status-details-bin), written by hand: a few varints and
 * strings are not worth loading .proto files at start-up.
 *   Export{Trace,Logs}ServiceResponse { Export{Trace,Logs}PartialSuccess partial_success = 1 }
 *   Export{Trace,Logs}PartialSuccess  { int64 rejected_{spans,log_records} = 1; string error_message = 2 }
 *   (every signal's response has this shape: only the count's name differs)
 *   google.rpc.Status          { int32 code = 1; string message = 2; repeated google.protobuf.Any details = 3 }
 *   google.protobuf.Any        { string type_url = 1; bytes value = 2 }
 *   google.rpc.RetryInfo       { google.protobuf.Duration retry_delay = 1 }
 *   google.protobuf.Duration   { int64 seconds = 1; int32 nanos = 2 }
 */

export interface PartialSuccess {
  /** Spans, log records...: field 1 of the signal's partial success. */
  rejected: number
  errorMessage: string
}

export function encodeExportResponse(partial: PartialSuccess | undefined): Buffer {
  if (!partial) return Buffer.alloc(0)
  return lengthDelimited(1, varintAndString(partial.rejected, partial.errorMessage))
}

/** With `retryAfterSeconds`, the Status carries a google.rpc.RetryInfo detail saying when to retry. */
export function encodeRpcStatus(code: number, message: string, retryAfterSeconds?: number): Buffer {
  const status = varintAndString(code, message)
  if (retryAfterSeconds === undefined) return status
  const duration = retryAfterSeconds > 0 ? Buffer.concat([Buffer.from([0x08]), varint(retryAfterSeconds)]) : Buffer.alloc(0)
  const any = Buffer.concat([lengthDelimited(1, Buffer.from(RETRY_INFO_TYPE, 'utf8')), lengthDelimited(2, lengthDelimited(1, duration))])
  return Buffer.concat([status, lengthDelimited(3, any)])
}

const RETRY_INFO_TYPE = 'type.googleapis.com/google.rpc.RetryInfo'

/** Field 1 as a varint (omitted when 0, as proto3 does), field 2 as a string. */
function varintAndString(n: number, text: string): Buffer {
  const parts: Buffer[] = []
  if (n !== 0) parts.push(Buffer.from([0x08]), varint(n))
  if (text !== '') parts.push(lengthDelimited(2, Buffer.from(text, 'utf8')))
  return Buffer.concat(parts)
}

function lengthDelimited(field: number, bytes: Buffer): Buffer {
  return Buffer.concat([varint((field << 3) | 2), varint(bytes.length), bytes])
}

/** Non-negative integers up to 2^53 (span counts, gRPC codes, lengths). */
function varint(n: number): Buffer {
  const bytes: number[] = []
  let v = n
  while (v > 0x7f) {
    bytes.push((v % 128) | 0x80)
    v = Math.floor(v / 128)
  }
  bytes.push(v)
  return Buffer.from(bytes)
}
