import { Agent, request } from 'node:http'
import { Client, credentials, Metadata, status as Status } from '@grpc/grpc-js'

/**
 * One OTLP export request's bytes sent one way or the other: the same
 * ExportTraceServiceRequest over OTLP/HTTP (POST /v1/traces, protobuf) or
 * OTLP/gRPC (TraceService/Export), so the load phases differ only in transport.
 */
export type Transport = 'http' | 'grpc'
export const TRANSPORTS: readonly Transport[] = ['http', 'grpc']

export interface Answer {
  ok: boolean
  /** HTTP status code, or the gRPC status name (OK, UNAVAILABLE, RESOURCE_EXHAUSTED...) and the server's error code. */
  status: string
}

export interface Sender {
  /** `lane` picks the connection (a closed-loop worker keeps its own); omitted, round-robin. Rejects on a network error. */
  send(body: Buffer, lane?: number): Promise<Answer>
  /** Resolves once every connection is up, so connecting is not timed. */
  ready(): Promise<void>
  close(): void
}

export function httpSender(url: string, key: string): Sender {
  const agent = new Agent({ keepAlive: true, maxSockets: 64 })
  const target = new URL(url)
  const headers = { 'content-type': 'application/x-protobuf', authorization: `Bearer ${key}` }
  return {
    send: (body) =>
      new Promise<Answer>((resolve, reject) => {
        const req = request(
          { agent, host: target.hostname, port: target.port, path: target.pathname, method: 'POST', headers: { ...headers, 'content-length': body.length } },
          (res) => {
            res.resume()
            res.on('end', () => resolve({ ok: res.statusCode !== undefined && res.statusCode < 300, status: String(res.statusCode) }))
          },
        )
        req.on('error', reject)
        req.end(body)
      }),
    ready: async () => {},
    close: () => agent.destroy(),
  }
}

/** The gRPC status name, with the server's error code when it gave one (details `SPANLENS_...: message`). */
const statusName = (code: number, details: string) => {
  const ours = /^(SPANLENS_[A-Z_]+):/.exec(details)?.[1]
  return `${Status[code] ?? code}${ours ? ` ${ours}` : ''}`
}

const EXPORT_TRACES = '/opentelemetry.proto.collector.trace.v1.TraceService/Export'
const identity = (bytes: Buffer): Buffer => bytes

/**
 * `clients` long-lived grpc-js channels, each its own HTTP/2 connection (a local
 * subchannel pool: grpc-js would otherwise share one connection among channels
 * to the same target), like as many exporters. Messages stay bytes, as the
 * server's own services take them.
 */
export function grpcSender(target: string, key: string, clients: number): Sender {
  const pool = Array.from(
    { length: clients },
    () => new Client(target, credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 }),
  )
  const metadata = new Metadata()
  metadata.set('authorization', `Bearer ${key}`)
  let turn = 0
  return {
    send: (body, lane = turn++) =>
      new Promise<Answer>((resolve) => {
        const client = pool[lane % pool.length] as Client
        client.makeUnaryRequest(EXPORT_TRACES, identity, identity, body, metadata.clone(), { deadline: Date.now() + 30_000 }, (err) =>
          resolve(err ? { ok: false, status: statusName(err.code, err.details) } : { ok: true, status: 'OK' }),
        )
      }),
    ready: () =>
      Promise.all(
        pool.map((c) => new Promise<void>((resolve, reject) => c.waitForReady(Date.now() + 10_000, (err) => (err ? reject(err) : resolve())))),
      ).then(() => undefined),
    close: () => {
      for (const c of pool) c.close()
    },
  }
}
