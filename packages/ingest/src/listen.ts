import { createServer } from 'node:net'
import { errors, type SpanlensError } from './errors.js'

/** A listener `spanlens serve` opens, and the settings that choose its address. */
export interface Listener {
  transport: 'HTTP' | 'gRPC'
  host: string
  port: number
}

const SETTINGS = {
  HTTP: { host: 'SPANLENS_HOST', port: 'SPANLENS_PORT' },
  gRPC: { host: 'SPANLENS_GRPC_HOST', port: 'SPANLENS_GRPC_PORT' },
} as const

/**
 * The catalogue's error for an address the system would not let a listener bind,
 * naming the setting to change; undefined for any other failure. Node names the
 * cause in `code`: the port taken, a privileged port, a host that is not this
 * machine's or does not resolve.
 */
export function listenError(err: unknown, listener: Listener): SpanlensError | undefined {
  const code = (err as { code?: unknown } | null)?.code
  const { host, port, transport } = listener
  const settings = SETTINGS[transport]
  switch (code) {
    case 'EADDRINUSE':
      return transport === 'HTTP' ? errors.HTTP_PORT_IN_USE(host, port, { cause: err }) : errors.GRPC_PORT_IN_USE(host, port, { cause: err })
    case 'EACCES':
      return errors.PORT_FORBIDDEN(host, port, settings.port, { cause: err })
    case 'EADDRNOTAVAIL':
      return errors.HOST_UNAVAILABLE(host, settings.host, 'it is not an address of this machine', { cause: err })
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return errors.HOST_UNAVAILABLE(host, settings.host, 'the name does not resolve', { cause: err })
    default:
      return undefined
  }
}

/**
 * Binds the listener's address and lets it go at once: an address that cannot be
 * served fails here, before the store opens and migrations run, as the typed error
 * listenError gives (anything else as it is).
 */
export function assertCanListen(listener: Listener): Promise<void> {
  return probeBind(listener.host, listener.port, (err) => listenError(err, listener) ?? err)
}

/** Binds host:port exclusively and closes it at once; a bind that fails rejects with `toError` of its error. */
export function probeBind(host: string, port: number, toError: (err: NodeJS.ErrnoException) => Error): Promise<void> {
  return new Promise((resolve, reject) => {
    const probe = createServer()
    probe.once('error', (err: NodeJS.ErrnoException) => reject(toError(err)))
    probe.listen({ host, port, exclusive: true }, () => probe.close(() => resolve()))
  })
}
