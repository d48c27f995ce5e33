import type { Server, Socket } from 'node:net'
import type { Logger } from 'pino'
import type { IngestMetrics } from '../metrics.js'

/** At most one warning a minute: a flood of connections must not become a flood of log lines. */
const WARN_EVERY_MS = 60_000

/**
 * Holds the connections of the server's listeners (HTTP and OTLP/gRPC together) to
 * SPANLENS_MAX_CONNECTIONS: one past it is closed as soon as it is accepted. Without
 * a cap, 21,000 connections that sent half their headers took every descriptor the
 * process could open (20,000): spool segments failed with EMFILE, and ClickHouse
 * with "Too many open files". One budget for both listeners, since they draw on the
 * same descriptors. Node's `server.maxConnections` counts one server only.
 */
export class ConnectionLimit {
  private open = 0
  private refusedSinceWarning = 0
  private lastWarning = 0

  constructor(
    readonly max: number,
    private readonly metrics: Pick<IngestMetrics, 'connectionsOpen' | 'connectionsRefused'>,
    private readonly log: Logger,
  ) {}

  /** Counts `server`'s connections against the limit, closing those past it. */
  watch(server: Server, listener: 'http' | 'grpc'): void {
    // After the server's own 'connection' listener (it made the socket's parser or
    // session); destroyed then, the socket ends as one its client reset would.
    server.on('connection', (socket: Socket) => {
      if (this.open >= this.max) {
        socket.destroy()
        this.refused(listener)
        return
      }
      this.open++
      this.metrics.connectionsOpen.set(this.open)
      socket.once('close', () => {
        this.open--
        this.metrics.connectionsOpen.set(this.open)
      })
    })
  }

  private refused(listener: 'http' | 'grpc'): void {
    this.metrics.connectionsRefused.inc({ listener })
    this.refusedSinceWarning++
    const now = Date.now()
    if (now - this.lastWarning < WARN_EVERY_MS) return
    this.log.warn(
      { max: this.max, refused: this.refusedSinceWarning },
      'connection limit reached (SPANLENS_MAX_CONNECTIONS): new connections are closed until others end',
    )
    this.lastWarning = now
    this.refusedSinceWarning = 0
  }
}
