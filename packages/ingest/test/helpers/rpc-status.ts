import protobuf from 'protobufjs'

/**
 * google.rpc.Status with its details, and the google.rpc.RetryInfo Spanlens puts
 * in them (grpc-status-details-bin; OTLP/HTTP protobuf error bodies), decoded
 * with protobufjs independently of the server's hand-written encoder.
 */
const types = (() => {
  const root = new protobuf.Root()
  const duration = new protobuf.Type('Duration').add(new protobuf.Field('seconds', 1, 'int64')).add(new protobuf.Field('nanos', 2, 'int32'))
  const retryInfo = new protobuf.Type('RetryInfo').add(new protobuf.Field('retryDelay', 1, 'Duration'))
  const any = new protobuf.Type('Any').add(new protobuf.Field('typeUrl', 1, 'string')).add(new protobuf.Field('value', 2, 'bytes'))
  const status = new protobuf.Type('Status')
    .add(new protobuf.Field('code', 1, 'int32'))
    .add(new protobuf.Field('message', 2, 'string'))
    .add(new protobuf.Field('details', 3, 'Any', 'repeated'))
  root.define('google.rpc').add(duration).add(retryInfo).add(any).add(status)
  return { status, retryInfo }
})()

const RETRY_INFO = 'type.googleapis.com/google.rpc.RetryInfo'

export interface RichStatus {
  code: number
  message: string
  /** The type URL of each detail. */
  details: string[]
  /** RetryInfo's delay in seconds, when a RetryInfo detail is there. */
  retryDelaySeconds: number | undefined
}

export function decodeRichStatus(bytes: Uint8Array): RichStatus {
  const s = types.status.toObject(types.status.decode(bytes), { longs: Number, defaults: true }) as {
    code: number
    message: string
    details: Array<{ typeUrl: string; value: Uint8Array }>
  }
  const retry = s.details.find((d) => d.typeUrl === RETRY_INFO)
  const info = retry
    ? (types.retryInfo.toObject(types.retryInfo.decode(retry.value), { longs: Number, defaults: true }) as { retryDelay?: { seconds: number } })
    : undefined
  return { code: s.code, message: s.message, details: s.details.map((d) => d.typeUrl), retryDelaySeconds: info?.retryDelay?.seconds }
}
