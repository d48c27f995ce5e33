import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { accessSync, constants, existsSync, mkdtempSync, rmSync, symlinkSync, mkdirSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { extname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { errors } from '../errors.js'
import { probeBind } from '../listen.js'
import { isLoopback } from '../loopback.js'
import { ensureWritableDir } from '../writable-dir.js'
import {
  ENGINE_EXIT,
  ENGINE_SESSION_USER,
  engineArgv,
  engineConfigXml,
  engineUsersXml,
  stopStatement,
  tcpCheckStatement,
  type EngineSpec,
  type ServedClickHouse,
} from './engine-args.js'
import { httpOnce } from './http-once.js'

export interface StartOptions extends ServedClickHouse {
  /** How long to wait for `/ping` to answer (default 60 s). */
  startTimeoutMs?: number
  /** How long `stop()` waits for a clean exit before SIGKILL (default 30 s). */
  stopTimeoutMs?: number
  /** Each line the engine writes to stderr (ClickHouse's warnings and errors). */
  onEngineLine?: (line: string) => void
  /** Aborted (a signal to the command) while starting: the engine is stopped and the start rejects. */
  signal?: AbortSignal
}

export interface ClickHouseServer {
  /** `http://host:port` to reach it from this machine. */
  readonly httpUrl: string
  readonly httpPort: number
  readonly tcpPort: number
  /** The engine process. */
  readonly pid: number
  /** Milliseconds from spawning the engine to the first `/ping` answer. */
  readonly startMs: number
  /** Resolves with the engine's exit code once it has exited, for any reason. */
  readonly exited: Promise<number | null>
  /** The signal that ended the engine (`exited` resolved with null), once it has. */
  exitSignal(): NodeJS.Signals | null
  /** SIGTERM, wait for a clean exit (SIGKILL after stopTimeoutMs), remove the runtime files. */
  stop(): Promise<void>
}

const PING_INTERVAL_MS = 100
const STDERR_TAIL_LINES = 40

/**
 * Starts the bundled engine as a ClickHouse server in a process of its own
 * (the engine's blocking call never shares an event loop with other work) and
 * resolves once `/ping` answers and a query through the native port works. Refuses, with typed errors: a non-loopback
 * bind without a password, a port in use, a data directory that another engine
 * holds.
 */
export async function startClickHouseServer(options: StartOptions): Promise<ClickHouseServer> {
  // One port for both listeners binds neither usably: the engine answered /ping on neither
  // and its stop request went unanswered, so the command waited 90 s and left it running.
  if (options.httpPort === options.tcpPort) {
    throw errors.CONFIG_INVALID(
      `--http-port and --tcp-port (SPANLENS_CLICKHOUSE_SERVE_HTTP_PORT, SPANLENS_CLICKHOUSE_SERVE_TCP_PORT) are both ${options.httpPort}: each listener needs a port of its own`,
    )
  }
  if (!isLoopback(options.host) && options.password === '') throw errors.CLICKHOUSE_UNSAFE_BIND(options.host)
  if (options.password !== '' && options.username === ENGINE_SESSION_USER) throw errors.CLICKHOUSE_RESERVED_USER(options.username)
  if (process.platform !== 'linux' || (process.arch !== 'x64' && process.arch !== 'arm64')) {
    throw errors.CLICKHOUSE_UNSUPPORTED_PLATFORM(
      `spanlens clickhouse serve runs on Linux (glibc) on x64 or arm64; this is ${process.platform}-${process.arch}`,
    )
  }
  if (options.extraConfigFile !== undefined) assertReadable(options.extraConfigFile)
  ensureWritableDir(options.dataDir)
  await assertPortFree(options.host, options.httpPort, 'HTTP')
  await assertPortFree(options.host, options.tcpPort, 'TCP')

  const connectHost = options.host === '0.0.0.0' ? '127.0.0.1' : options.host === '::' ? '::1' : options.host
  const httpUrl = `http://${connectHost.includes(':') ? `[${connectHost}]` : connectHost}:${options.httpPort}`
  const token = randomBytes(8).toString('hex')
  const runtimeDir = mkdtempSync(join(tmpdir(), 'spanlens-clickhouse-'))
  const cleanup = () => rmSync(runtimeDir, { recursive: true, force: true })
  let child: ChildProcess
  try {
    const configFile = join(runtimeDir, 'config.xml')
    const usersFile = join(runtimeDir, 'users.xml')
    writeFileSync(configFile, engineConfigXml(options, usersFile), { mode: 0o600 })
    writeFileSync(usersFile, engineUsersXml(options), { mode: 0o600 })
    if (options.extraConfigFile !== undefined) {
      // ClickHouse merges <config dir>/config.d/* over the main file.
      mkdirSync(join(runtimeDir, 'config.d'))
      symlinkSync(options.extraConfigFile, join(runtimeDir, 'config.d', `extra${extname(options.extraConfigFile) || '.xml'}`))
    }
    const spec: EngineSpec = {
      argv: engineArgv(options, configFile, token),
      runtimeDir,
      stop: { url: `${httpUrl}/`, username: options.username, password: options.password, sql: stopStatement(token) },
    }
    const entry = engineEntry()
    child = spawn(process.execPath, [...entry.execArgv, entry.file, 'clickhouse', '__engine'], {
      cwd: runtimeDir,
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    })
    child.send(spec)
  } catch (err) {
    cleanup()
    throw err
  }

  const started = Date.now()
  const tail: string[] = []
  let partial = ''
  child.stderr?.setEncoding('utf8')
  child.stderr?.on('data', (chunk: string) => {
    const lines = (partial + chunk).split('\n')
    partial = lines.pop() ?? ''
    for (const line of lines) {
      if (line.trim() === '') continue
      tail.push(line)
      if (tail.length > STDERR_TAIL_LINES) tail.shift()
      options.onEngineLine?.(line)
    }
  })
  let exitSignal: NodeJS.Signals | null = null
  const exited = new Promise<number | null>((resolve) => {
    // null: ended by a signal (SIGKILL after stopTimeoutMs, or a crash). 'close', not
    // 'exit': it comes after stderr has ended, so the tail holds the engine's last words.
    child.once('close', (code, signal) => {
      exitSignal = signal
      cleanup()
      resolve(code)
    })
  })
  let hasExited = false
  void exited.then(() => {
    hasExited = true
  })

  const stopTimeoutMs = options.stopTimeoutMs ?? 30_000
  const stop = async (): Promise<void> => {
    if (!hasExited) {
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), stopTimeoutMs)
      await exited
      clearTimeout(timer)
    }
    cleanup()
  }

  const startTimeoutMs = options.startTimeoutMs ?? 60_000
  const stoppedWhileStarting = async () => {
    await stop()
    return errors.CLICKHOUSE_START_FAILED('stopped by a signal before it was ready')
  }
  while (!(await ping(httpUrl))) {
    if (options.signal?.aborted) throw await stoppedWhileStarting()
    if (hasExited) {
      const code = await exited
      throw classifyStartFailure(options, code, tail)
    }
    if (Date.now() - started > startTimeoutMs) {
      await stop()
      throw errors.CLICKHOUSE_START_TIMEOUT(startTimeoutMs, httpUrl)
    }
    await new Promise((r) => setTimeout(r, PING_INTERVAL_MS))
  }
  const tcp = await httpOnce(`${httpUrl}/`, {
    method: 'POST',
    body: tcpCheckStatement(options, connectHost),
    headers: { 'X-ClickHouse-User': options.username, 'X-ClickHouse-Key': options.password },
    timeoutMs: 10_000,
  }).catch((err: Error) => ({ status: 0, body: err.message }))
  if (options.signal?.aborted) throw await stoppedWhileStarting()
  if (tcp.status !== 200 || tcp.body.trim() !== String(options.tcpPort)) {
    await stop()
    throw errors.CLICKHOUSE_PORT_IN_USE(options.host, options.tcpPort, 'TCP', { cause: new Error(tcp.body.trim()) })
  }
  return {
    httpUrl,
    httpPort: options.httpPort,
    tcpPort: options.tcpPort,
    pid: child.pid as number,
    startMs: Date.now() - started,
    exited,
    exitSignal: () => exitSignal,
    stop,
  }
}

/** The engine runs through the CLI entry (`spanlens clickhouse __engine`): built, dist/bin.js; from source, src/bin.ts through tsx. */
function engineEntry(): { file: string; execArgv: string[] } {
  const ts = new URL('../bin.ts', import.meta.url)
  if (import.meta.url.endsWith('.ts') && existsSync(fileURLToPath(ts))) {
    const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href
    return { file: fileURLToPath(ts), execArgv: ['--conditions=@spanlens/source', '--import', tsx] }
  }
  return { file: fileURLToPath(new URL('./bin.js', import.meta.url)), execArgv: [] }
}

async function ping(httpUrl: string): Promise<boolean> {
  try {
    const res = await httpOnce(`${httpUrl}/ping`, { timeoutMs: 1000 })
    return res.status === 200 && res.body.startsWith('Ok.')
  } catch {
    return false
  }
}

/** A listener bound and closed at once: a port held by anything else fails here, before the engine starts. */
function assertPortFree(host: string, port: number, what: 'HTTP' | 'TCP'): Promise<void> {
  return probeBind(host, port, (err) =>
    err.code === 'EADDRINUSE' ? errors.CLICKHOUSE_PORT_IN_USE(host, port, what, { cause: err }) : errors.CLICKHOUSE_START_FAILED(`cannot bind ${host}:${port}: ${err.message}`, { cause: err }),
  )
}

function assertReadable(path: string): void {
  try {
    accessSync(path, constants.R_OK)
  } catch (err) {
    throw errors.CONFIG_FILE_UNREADABLE(path, (err as Error).message, { cause: err })
  }
}

/** Names the failure from what ClickHouse wrote; the tail of its stderr goes in the message otherwise. */
function classifyStartFailure(options: ServedClickHouse, code: number | null, tail: string[]): Error {
  const text = tail.join('\n')
  if (/Cannot lock file .*status|Another server instance in same directory/i.test(text)) {
    return errors.DATA_DIR_LOCKED(options.dataDir)
  }
  const inUse = /Address already in use.*?:(\d+)|:(\d+).*Address already in use/i.exec(text)
  if (inUse) {
    const port = Number(inUse[1] ?? inUse[2])
    return errors.CLICKHOUSE_PORT_IN_USE(options.host, port, port === options.tcpPort ? 'TCP' : 'HTTP')
  }
  const how = code === ENGINE_EXIT.returnedOnItsOwn ? 'the engine returned' : `the engine exited with ${code ?? 'a signal'}`
  return errors.CLICKHOUSE_START_FAILED(`${how}: ${text.trim() || '(nothing on stderr)'}`)
}
