import { connect, type Socket } from 'node:net'

/** A raw TCP connection to a test server: what a client that speaks HTTP by hand sees. */
export interface RawConnection {
  socket: Socket
  /** Everything received so far. */
  received(): string
  /** Resolves once the server has closed the connection (or reset it). */
  closed: Promise<void>
}

/** Opens a connection to the server at `url`; `opened` collects it for the test's clean-up. */
export async function openRaw(url: string, opened?: Socket[]): Promise<RawConnection> {
  const socket = connect(Number(new URL(url).port), '127.0.0.1')
  opened?.push(socket)
  let text = ''
  socket.on('data', (c: Buffer) => (text += c.toString('latin1')))
  const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()))
  socket.on('error', () => undefined)
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()))
  return { socket, received: () => text, closed }
}
