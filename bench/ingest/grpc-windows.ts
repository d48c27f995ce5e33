/**
 * How long an OTLP/gRPC message takes to arrive, from its call's headers to its last
 * byte, at a server whose event loop is busy, with Node's default HTTP/2 windows and
 * with the receiver's (packages/ingest/src/grpc/flow-control.ts). The call holds an
 * ingest slot for that long (grpc/call.ts admits from the headers).
 *
 *   node --conditions=@spanlens/source --import tsx ingest/grpc-windows.ts [--rounds 3] [--busy 20/25]
 *
 * Each round starts one server process per setting in turn (grpc-js, an interceptor
 * timing headers → message, a timer blocking the loop `busy` of every `period` ms as
 * the receiver's decode, spool and inserts do under load) and a client process
 * sending 4 × 40 unary calls of 145 KiB (bench/ingest's request size) at once.
 */
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { Client, credentials, Server, ServerCredentials, ServerInterceptingCall, type sendUnaryData, type ServerInterceptor, type ServerUnaryCall } from '@grpc/grpc-js'
import { widenConnectionWindow, widenStreamWindow } from '../../packages/ingest/src/grpc/flow-control.js'
import { boundHttp2Servers } from '../../packages/ingest/src/grpc/internals.js'

const { values } = parseArgs({
  options: {
    role: { type: 'string', default: 'main' },
    windows: { type: 'string', default: 'default' },
    port: { type: 'string', default: '0' },
    rounds: { type: 'string', default: '3' },
    busy: { type: 'string', default: '20/25' },
  },
})
const identity = (b: Buffer) => b
const MESSAGE_BYTES = 145 * 1024
const CLIENTS = 4
const CALLS = 40
const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * (sorted.length - 1)))] ?? NaN

async function serve(): Promise<void> {
  const [busy, period] = (values.busy ?? '20/25').split('/').map(Number) as [number, number]
  const arrivals: number[] = []
  const timing: ServerInterceptor = (_method, call) => {
    let headersAt = 0
    return new ServerInterceptingCall(call, {
      start: (next) =>
        next({
          onReceiveMetadata: (metadata, pass) => {
            headersAt = performance.now()
            pass(metadata)
          },
          onReceiveMessage: (message, pass) => {
            arrivals.push(performance.now() - headersAt)
            pass(message)
          },
        }),
    })
  }
  const server = new Server({ 'grpc.max_receive_message_length': 64 << 20, interceptors: [timing] })
  const log = { warn: (m: string) => process.stderr.write(`${m}\n`), debug: () => {} } as unknown as Parameters<typeof widenStreamWindow>[1]
  if (values.windows === 'wide') widenStreamWindow(server, log)
  server.register('/bench.S/Export', (_call: ServerUnaryCall<Buffer, Buffer>, done: sendUnaryData<Buffer>) => done(null, Buffer.alloc(2)), identity, identity, 'unary')
  server.register(
    '/bench.S/Done',
    (_call: ServerUnaryCall<Buffer, Buffer>, done: sendUnaryData<Buffer>) => {
      arrivals.sort((a, b) => a - b)
      process.stdout.write(`${JSON.stringify({ p50: quantile(arrivals, 0.5), p90: quantile(arrivals, 0.9), p99: quantile(arrivals, 0.99), n: arrivals.length })}\n`)
      done(null, Buffer.alloc(1))
      setTimeout(() => process.exit(0), 50)
    },
    identity,
    identity,
    'unary',
  )
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  )
  if (values.windows === 'wide') for (const http2Server of boundHttp2Servers(server)) widenConnectionWindow(http2Server, log)
  setInterval(() => {
    const until = performance.now() + busy
    while (performance.now() < until);
  }, period)
  process.stderr.write(`port ${port}\n`)
}

async function send(): Promise<void> {
  const client = new Client(`127.0.0.1:${values.port}`, credentials.createInsecure())
  const message = Buffer.alloc(MESSAGE_BYTES, 7)
  const call = (method: string, body: Buffer) =>
    new Promise<void>((resolve, reject) => client.makeUnaryRequest(method, identity, identity, body, (err) => (err ? reject(err) : resolve())))
  const started = performance.now()
  await Promise.all(Array.from({ length: CLIENTS }, async () => {
    for (let i = 0; i < CALLS; i++) await call('/bench.S/Export', message)
  }))
  process.stdout.write(`${JSON.stringify({ clientMs: performance.now() - started })}\n`)
  await call('/bench.S/Done', Buffer.alloc(1))
  client.close()
}

function run(args: string[], onStderr?: (line: string) => void): { done: Promise<string> } {
  const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  child.stdout.on('data', (d: Buffer) => (out += d.toString()))
  child.stderr.on('data', (d: Buffer) => onStderr?.(d.toString()))
  return { done: new Promise((resolve, reject) => child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`${args.join(' ')} exited ${code}`))))) }
}

async function main(): Promise<void> {
  const rounds = Number(values.rounds)
  console.log(`grpc-windows: ${CLIENTS} clients × ${CALLS} calls of ${MESSAGE_BYTES / 1024} KiB, server loop busy ${values.busy} ms; load ${(await import('node:os')).loadavg()[0]?.toFixed(2)}`)
  console.log('| round | windows | headers → message p50 / p90 / p99 ms | clients done in ms |')
  console.log('|---|---|---|---:|')
  for (let r = 1; r <= rounds; r++) {
    for (const windows of r % 2 === 1 ? ['default', 'wide'] : ['wide', 'default']) {
      let resolvePort: (p: string) => void = () => {}
      const portKnown = new Promise<string>((resolve) => (resolvePort = resolve))
      const server = run(['--role', 'server', '--windows', windows, '--busy', values.busy ?? '20/25'], (line) => {
        const m = /port (\d+)/.exec(line)
        if (m?.[1]) resolvePort(m[1])
      })
      const port = await portKnown
      const client = await run(['--role', 'client', '--port', port]).done
      const server_ = JSON.parse((await server.done).trim()) as { p50: number; p90: number; p99: number }
      const { clientMs } = JSON.parse(client.trim()) as { clientMs: number }
      console.log(`| ${r} | ${windows} | ${server_.p50.toFixed(1)} / ${server_.p90.toFixed(1)} / ${server_.p99.toFixed(1)} | ${clientMs.toFixed(0)} |`)
    }
  }
  console.log(`load ${(await import('node:os')).loadavg()[0]?.toFixed(2)}`)
}

if (values.role === 'server') await serve()
else if (values.role === 'client') await send()
else await main()
