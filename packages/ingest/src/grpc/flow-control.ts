import type { Http2Server, Http2Session } from 'node:http2'
import type { Server } from '@grpc/grpc-js'
import type { Logger } from 'pino'
import { http2ServerOptions } from './internals.js'

/**
 * HTTP/2 flow-control windows for the OTLP/gRPC receiver.
 *
 * Node's HTTP/2 defaults are 64 KiB per stream and 64 KiB per connection, and a
 * window is only reopened (WINDOW_UPDATE) once JavaScript has read what arrived, so
 * a 145 KiB export waits for two or three turns of the server's event loop before
 * its last byte may even be sent, while its call already holds an ingest slot.
 * Measured with grpc-js 1.14.7 on this project's machine, a server whose loop is
 * busy 20 of every 25 ms, 4 clients × 40 calls of 145 KiB from another process:
 * headers to message p50 54–84 ms, p90 147–211 ms with the defaults; 12 ms / 38 ms
 * with only the connection window raised; 4–6 ms / 15–20 ms with both raised; the
 * clients finished in about half the time (bench/README.md, "Ingest").
 *
 * HTTP/1.1 has no such limit: a request body waits in the kernel's socket buffer
 * (up to several MiB with autotuning) whatever the event loop is doing. These
 * windows bound what one connection may send ahead of being read in the same way:
 * 8 MiB per connection, 1 MiB per call (the Go gRPC server the OpenTelemetry
 * Collector runs grows its windows up to 16 MiB by BDP estimation). Admission is
 * still decided from a call's headers (grpc/call.ts), before its message is read.
 *
 * grpc-js 1.14 has no server option for either window, so they are set on what it
 * keeps: the settings it passes to `http2.createServer`, and each session as it
 * connects. When a grpc-js release moves those, the receiver logs it and serves
 * with Node's defaults; flow-control.test.ts reads the windows a client is given.
 */
export const STREAM_WINDOW_BYTES = 1 << 20
export const CONNECTION_WINDOW_BYTES = 8 << 20

/** Before bind: every stream's initial window, as advertised in the server's SETTINGS. */
export function widenStreamWindow(server: Server, log: Logger): void {
  const options = http2ServerOptions(server)
  if (!options) {
    log.warn('grpc-js keeps no server options where expected: OTLP/gRPC calls get HTTP/2 default stream windows (64 KiB)')
    return
  }
  options.settings = { ...options.settings, initialWindowSize: STREAM_WINDOW_BYTES }
}

/** After bind: each connection's window on `http2Server`, widened as the session starts. */
export function widenConnectionWindow(http2Server: Http2Server, log: Logger): void {
  http2Server.on('session', (session: Http2Session) => {
    try {
      session.setLocalWindowSize(CONNECTION_WINDOW_BYTES)
    } catch (err) {
      // A session closed before its first turn; nothing to widen.
      log.debug({ err }, 'gRPC connection window not set')
    }
  })
}
