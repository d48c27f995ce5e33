import type { SpanlensConfig } from '../config/load.js'
import { createLogger } from '../logger.js'
import { startClickHouseServer } from './supervisor.js'

/**
 * `spanlens clickhouse serve`: the bundled engine as a ClickHouse server until
 * SIGTERM or SIGINT. Returns the exit code: 0 after a clean stop, 1 when the
 * engine ended without being asked.
 */
export async function serveClickHouse(config: SpanlensConfig): Promise<number> {
  const logger = createLogger(config.logLevel)
  const serve = config.clickhouseServe
  const server = await startClickHouseServer({
    dataDir: config.store.dataDir,
    host: serve.host,
    httpPort: serve.httpPort,
    tcpPort: serve.tcpPort,
    username: config.store.username,
    password: config.store.password,
    ...(serve.configFile ? { extraConfigFile: serve.configFile } : {}),
    onEngineLine: (line) => logger.warn({ engine: line }, 'clickhouse'),
  })
  logger.info(
    {
      http: server.httpUrl,
      tcp: `${serve.host}:${server.tcpPort}`,
      dataDir: config.store.dataDir,
      user: config.store.username,
      startMs: server.startMs,
      enginePid: server.pid,
    },
    'clickhouse is ready',
  )
  let stopping = false
  const shutdown = (signal: string) => {
    if (stopping) return
    stopping = true
    logger.info({ signal }, 'clickhouse is stopping: closing listeners and tables')
    void server.stop()
  }
  process.on('SIGTERM', () => shutdown('SIGTERM'))
  process.on('SIGINT', () => shutdown('SIGINT'))
  const code = await server.exited
  if (stopping) {
    logger.info({ code }, 'clickhouse stopped')
    return code === 0 ? 0 : 1
  }
  logger.error({ code, signal: server.exitSignal() }, 'clickhouse engine exited without being asked to stop')
  return 1
}
