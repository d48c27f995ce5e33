/**
 * The two protobuf messages the receiver answers with, written by hand: both are
 * a varint and a string, which is not worth loading .proto files at start-up.
 *   ExportTraceServiceResponse { ExportTracePartialSuccess partial_success = 1 }
 *   ExportTracePartialSuccess  { int64 rejected_spans = 1; string error_message = 2 }
 *   google.rpc.Status          { int32 code = 1; string message = 2 }
 */

export interface PartialSuccess {
  rejectedSpans: number
  errorMessage: string
}

export function encodeExportResponse(partial: PartialSuccess | undefined): Buffer {
  if (!partial) return Buffer.alloc(0)
  return lengthDelimited(1, varintAndString(partial.rejectedSpans, partial.errorMessage))
}

export function encodeRpcStatus(code: number, message: string): Buffer {
  return varintAndString(code, message)
}

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
