import { connect as connectTcp } from 'node:net'
import { connect } from 'node:http2'
import { Client, credentials, Metadata, status as Status, type ChannelCredentials, type ServiceError } from '@grpc/grpc-js'
import type { FastifyInstance } from 'fastify'

export const TRACE_EXPORT = '/opentelemetry.proto.collector.trace.v1.TraceService/Export'

/** Binds the server's OTLP/gRPC receiver (the config must not turn it off); resolves with `host:port`. */
export async function listenGrpc(app: FastifyInstance): Promise<string> {
  const grpc = app.spanlens.grpc
  if (!grpc) throw new Error('the server was built with SPANLENS_GRPC_PORT=off')
  return grpc.listen()
}

export interface GrpcReply {
  code: Status
  details: string
  response?: Buffer
  /** The trailers of a failed call (grpc-status-details-bin among them). */
  trailers?: Metadata
}

export interface GrpcCallOptions {
  /** The `authorization` metadata; none when absent. */
  authorization?: string
  /** Sets the channel's default compression to gzip. */
  gzip?: boolean
  path?: string
  creds?: ChannelCredentials
}

/** One unary call with grpc-js as the client; the message is sent as given (raw bytes). */
export function grpcCall(to: string, body: Buffer, opts: GrpcCallOptions = {}): Promise<GrpcReply> {
  const client = new Client(to, opts.creds ?? credentials.createInsecure(), opts.gzip ? { 'grpc.default_compression_algorithm': 2 } : {})
  const metadata = new Metadata()
  if (opts.authorization !== undefined) metadata.set('authorization', opts.authorization)
  return new Promise((resolve) => {
    const identity = (b: Buffer) => b
    client.makeUnaryRequest(opts.path ?? TRACE_EXPORT, identity, identity, body, metadata, { deadline: Date.now() + 20_000 }, (err: ServiceError | null, response?: Buffer) => {
      client.close()
      if (err) resolve({ code: err.code, details: err.details, trailers: err.metadata })
      else resolve({ code: Status.OK, details: 'OK', ...(response ? { response } : {}) })
    })
  })
}

/** The google.rpc.Status a failed call carries in grpc-status-details-bin, if any. */
export const statusDetailsOf = (reply: GrpcReply) => reply.trailers?.get('grpc-status-details-bin')[0] as Buffer | undefined

/** A length-prefixed gRPC message as on the wire. */
export function frame(payload: Buffer, compressed: boolean): Buffer {
  const prefix = Buffer.alloc(5)
  prefix.writeUInt8(compressed ? 1 : 0, 0)
  prefix.writeUInt32BE(payload.length, 1)
  return Buffer.concat([prefix, payload])
}

export interface RawReply {
  /** Undefined when the stream was reset without a status. */
  grpcStatus: number | undefined
  message: string
}

/**
 * A call over plain HTTP/2, for what a well-behaved client never sends (a gzip
 * bomb, a corrupt or unknown encoding) or a message that never finishes (`end: false`).
 */
export function rawGrpcCall(
  to: string,
  bytes: Buffer,
  headers: Record<string, string>,
  opts: { end?: boolean; path?: string } = {},
): { reply: Promise<RawReply>; destroy(): void } {
  const session = connect(`http://${to}`)
  session.on('error', () => undefined)
  const stream = session.request({ ':method': 'POST', ':path': opts.path ?? TRACE_EXPORT, 'content-type': 'application/grpc', te: 'trailers', ...headers })
  const status: Record<string, string | string[] | undefined> = {}
  stream.on('response', (h) => Object.assign(status, h))
  stream.on('trailers', (h) => Object.assign(status, h))
  stream.on('data', () => undefined)
  stream.on('error', () => undefined)
  // The server's end of the stream (after its status) or a reset, whichever comes first:
  // a client still sending would otherwise keep its half of the stream open.
  const reply = new Promise<RawReply>((resolve) => {
    const finish = () => {
      session.close()
      const code = status['grpc-status']
      resolve({ grpcStatus: code === undefined ? undefined : Number(code), message: decodeURIComponent(String(status['grpc-message'] ?? '')) })
    }
    stream.once('end', finish)
    stream.once('close', finish)
  })
  if (opts.end ?? true) stream.end(bytes)
  else stream.write(bytes)
  return {
    reply,
    destroy: () => {
      stream.close()
      session.destroy()
    },
  }
}

/** A call whose message never finishes arriving: admitted, it holds its slot until destroyed. */
export const stalledCall = (to: string, authorization: string) =>
  rawGrpcCall(to, frame(Buffer.alloc(1000), false).subarray(0, 100), { authorization }, { end: false })

/** An HTTP/2 frame as read off the wire. */
export interface RawFrame {
  type: number
  flags: number
  stream: number
  payload: Buffer
}

/** HTTP/2 frame types and flags the half-closed call reads. */
export const H2 = { DATA: 0, HEADERS: 1, GOAWAY: 7, END_STREAM: 0x1, END_HEADERS: 0x4 } as const

/**
 * One unary call written frame by frame on a TCP connection that this side then ends (a
 * half-close, which Node's HTTP/2 client never does): resolves with every frame the server
 * sent until it closed the connection. Header blocks are HPACK literals without indexing.
 */
export function halfClosedGrpcCall(to: string, message: Buffer, authorization: string, path = TRACE_EXPORT): Promise<RawFrame[]> {
  const frameOf = (type: number, flags: number, stream: number, payload: Buffer) => {
    const header = Buffer.alloc(9)
    header.writeUIntBE(payload.length, 0, 3)
    header.writeUInt8(type, 3)
    header.writeUInt8(flags, 4)
    header.writeUInt32BE(stream, 5)
    return Buffer.concat([header, payload])
  }
  const literal = (name: string, value: string) => Buffer.concat([Buffer.from([0, name.length]), Buffer.from(name), Buffer.from([value.length]), Buffer.from(value)])
  const headers = [
    [':method', 'POST'],
    [':scheme', 'http'],
    [':path', path],
    [':authority', to],
    ['content-type', 'application/grpc'],
    ['te', 'trailers'],
    ['authorization', authorization],
  ].map(([name, value]) => literal(name as string, value as string))
  const [host, port] = [to.slice(0, to.lastIndexOf(':')), Number(to.slice(to.lastIndexOf(':') + 1))]
  return new Promise((resolve, reject) => {
    const socket = connectTcp({ host, port, allowHalfOpen: true })
    const chunks: Buffer[] = []
    socket.on('data', (c: Buffer) => chunks.push(c))
    socket.on('error', reject)
    socket.on('connect', () => {
      socket.end(
        Buffer.concat([
          Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'),
          frameOf(4, 0, 0, Buffer.alloc(0)),
          frameOf(H2.HEADERS, H2.END_HEADERS, 1, Buffer.concat(headers)),
          frameOf(H2.DATA, H2.END_STREAM, 1, frame(message, false)),
        ]),
      )
    })
    socket.on('close', () => {
      const bytes = Buffer.concat(chunks)
      const frames: RawFrame[] = []
      for (let at = 0; at + 9 <= bytes.length; ) {
        const length = bytes.readUIntBE(at, 3)
        frames.push({ type: bytes.readUInt8(at + 3), flags: bytes.readUInt8(at + 4), stream: bytes.readUInt32BE(at + 5) & 0x7fffffff, payload: bytes.subarray(at + 9, at + 9 + length) })
        at += 9 + length
      }
      resolve(frames)
    })
  })
}
