import type { SpanlensConfig } from '../config/load.js'
import { createLogger } from '../logger.js'
import { startClickHouseServer, type ClickHouseServer, type StartOptions } from './supervisor.js'

/**
 * An engine that dies without being asked is started again on the same data
 * directory and ports, after RESTART_DELAY_MS, unless it has died
 * MAX_QUICK_RESTARTS times in a row within QUICK_EXIT_MS of starting (a crash
 * loop: then `serve` exits 1). Measured cause: clickhouse-local's TCP handler lets
 * a "Connection reset by peer" from a native-protocol client escape its thread,
 * and the process ends in std::terminate (SIGABRT) — a client cut off mid-query
 * (a shard of a Distributed query stopping, a killed clickhouse-client) took the
 * whole server down. Clients reconnect; acknowledged data is on disk.
 */
const RESTART_DELAY_MS = 500
const QUICK_EXIT_MS = 30_000
const MAX_QUICK_RESTARTS = 5
const TAIL_LINES = 20

/**
 * `spanlens clickhouse serve`: the bundled engine as a ClickHouse server until
 * SIGTERM or SIGINT. Returns the exit code: 0 after a clean stop, 1 when the
 * engine keeps dying.
 */
export async function serveClickHouse(config: SpanlensConfig): Promise<number> {
  const logger = createLogger(config.logLevel)
  const serve = config.clickhouseServe
  const tail: string[] = []
  const options: StartOptions = {
    dataDir: config.store.dataDir,
    host: serve.host,
    httpPort: serve.httpPort,
    tcpPort: serve.tcpPort,
    username: config.store.username,
    password: config.store.password,
    ...(serve.configFile ? { extraConfigFile: serve.configFile } : {}),
    onEngineLine: (line) => {
      tail.push(line)
      if (tail.length > TAIL_LINES) tail.shift()
      logger.warn({ engine: line }, 'clickhouse')
    },
  }
  // Handlers before start-up: a signal while the engine starts stops it too. Node's default
  // would end this process alone, and the engine, its stop unanswered, kept the ports and lock.
  const starting = new AbortController()
  options.signal = starting.signal
  let server: ClickHouseServer | undefined
  let stopping = false
  const shutdown = (signal: string) => {
    if (stopping) return
    stopping = true
    logger.info({ signal }, 'clickhouse is stopping: closing listeners and tables')
    if (server) void server.stop()
    else starting.abort()
  }
  process.on('SIGTERM', () => shutdown('SIGTERM'))
  process.on('SIGINT', () => shutdown('SIGINT'))
  try {
    server = await startClickHouseServer(options)
  } catch (err) {
    if (!stopping) throw err
    logger.info('clickhouse stopped before it was ready')
    return 0
  }
  let quickExits = 0
  for (;;) {
    logger.info(
      { http: server.httpUrl, tcp: `${serve.host}:${server.tcpPort}`, dataDir: config.store.dataDir, user: config.store.username, startMs: server.startMs, enginePid: server.pid },
      'clickhouse is ready',
    )
    const startedAt = Date.now()
    const code = await server.exited
    if (stopping) {
      logger.info({ code }, 'clickhouse stopped')
      return code === 0 ? 0 : 1
    }
    quickExits = Date.now() - startedAt < QUICK_EXIT_MS ? quickExits + 1 : 1
    logger.error({ code, signal: server.exitSignal(), lastLines: [...tail], restarts: quickExits }, 'clickhouse engine exited without being asked to stop')
    if (quickExits > MAX_QUICK_RESTARTS) {
      logger.error({ quickExits }, 'clickhouse engine keeps exiting right after it starts: giving up')
      return 1
    }
    await new Promise((r) => setTimeout(r, RESTART_DELAY_MS))
    if (stopping) return 0
    tail.length = 0
    server = undefined
    try {
      server = await startClickHouseServer(options)
    } catch (err) {
      if (stopping) return 0
      logger.error({ err }, 'clickhouse engine could not be started again')
      return 1
    }
    if (stopping) {
      await server.stop()
      return 0
    }
  }
}
