import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs'
import { type AddressInfo, createServer, type Server } from 'node:net'
import { join } from 'node:path'
import { errors } from '../../src/errors.js'
import { startClickHouseServer as startEngineServer, type ClickHouseServer } from '../../src/clickhouse-server/supervisor.js'
import { isSpanlensError } from '../../src/errors.js'
import { tempDir } from './tmp.js'

export interface TestClickHouse {
  httpUrl: string
  httpPort: number
  tcpPort: number
  dataDir: string
  username: string
  password: string
  /** Milliseconds from spawning the engine to the first /ping answer. */
  startMs: number
  /** The engine's last ENGINE_TAIL_LINES stderr lines (ClickHouse's warnings, errors, crash reports). */
  stderrTail(): string[]
  /** The current engine's (restart() starts another). */
  readonly pid: number
  readonly exited: Promise<number | null>
  exitSignal(): NodeJS.Signals | null
  /** Starts the engine again on the same data directory, ports and config (after it died). */
  restart(): Promise<void>
  stop(): Promise<void>
}

export interface TestClickHouseOptions {
  /** Default: a fresh temp dir, removed by stop(). */
  dataDir?: string
  /** ClickHouse XML merged into the generated config (remote_servers, macros, ...). */
  config?: string
  /** Default 127.0.0.1. */
  host?: string
  username?: string
  password?: string
  /** Ports to use instead of free ones (no retry then). */
  ports?: { http: number; tcp: number }
}

/** The engine's last stderr lines, kept so that a node that dies mid-suite can say why. */
const ENGINE_TAIL_LINES = 200

const START_TIMEOUT_MS = 45_000
const PORT_ATTEMPTS = 5
const running = new Set<ClickHouseServer>()

// Last resort for a worker that exits without stopping its servers: each engine
// also stops itself when its IPC channel to this process closes.
process.once('exit', () => {
  for (const server of running) {
    try {
      process.kill(server.pid, 'SIGKILL')
    } catch {
      // already gone
    }
  }
})

/** A port nothing listens on right now (bound on port 0, then released). */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  return (await freePorts(1, host))[0] as number
}

/** `count` different ports nothing listens on right now: all bound at once, then released (one after another, a released port can come back). */
export async function freePorts(count: number, host = '127.0.0.1'): Promise<number[]> {
  const servers: Server[] = []
  try {
    for (let i = 0; i < count; i++) {
      const server = createServer()
      servers.push(server)
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject)
        server.listen({ host, port: 0 }, () => resolve())
      })
    }
    return servers.map((s) => (s.address() as AddressInfo).port)
  } finally {
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))))
  }
}

/** The bundled engine as a ClickHouse server on free ports; retried when a port is taken between choosing and binding. */
export async function startClickHouseServer(options: TestClickHouseOptions = {}): Promise<TestClickHouse> {
  const dir = options.dataDir === undefined ? tempDir('spanlens-chs-') : undefined
  const dataDir = options.dataDir ?? join(dir?.path as string, 'clickhouse')
  const host = options.host ?? '127.0.0.1'
  const username = options.username ?? 'default'
  const password = options.password ?? ''
  // Errors and fatal signals to stderr (clickhouse-local logs nothing otherwise), so
  // that stderrTail() can tell why a node died. `level` alone is not honoured by
  // clickhouse-local's console logger; console_log_level is.
  const logger = '<logger><console>1</console><level>error</level><console_log_level>error</console_log_level></logger>'
  const configDir = tempDir('spanlens-chs-config-')
  const extraConfigFile = join(configDir.path, 'extra.xml')
  writeFileSync(extraConfigFile, (options.config ?? '<clickhouse></clickhouse>').replace('<clickhouse>', `<clickhouse>\n  ${logger}`))
  const removeDirs = () => {
    dir?.cleanup()
    configDir.cleanup()
  }
  for (let attempt = 1; ; attempt++) {
    const [freeHttp, freeTcp] = await freePorts(2)
    const httpPort = options.ports?.http ?? (freeHttp as number)
    const tcpPort = options.ports?.tcp ?? (freeTcp as number)
    try {
      // SPANLENS_TEST_ENGINE_LOG_DIR keeps every line too, one file per engine.
      const logDir = process.env.SPANLENS_TEST_ENGINE_LOG_DIR
      // Made here: an append to a missing directory would throw inside the engine's
      // line callback, in the vitest main process, which then exits without a report.
      if (logDir) mkdirSync(logDir, { recursive: true })
      const tail: string[] = []
      const launch = async () => {
        const started = await startEngineServer({
          onEngineLine: (line) => {
            tail.push(line)
            if (tail.length > ENGINE_TAIL_LINES) tail.shift()
            if (logDir) appendFileSync(join(logDir, `engine-${httpPort}.log`), `${line}\n`)
          },
          dataDir,
          host,
          httpPort,
          tcpPort,
          username,
          password,
          startTimeoutMs: START_TIMEOUT_MS,
          stopTimeoutMs: 15_000,
          extraConfigFile,
        })
        running.add(started)
        // An engine that has exited is no longer ours to kill: pids wrap at 32768 on this
        // machine, and a SIGKILL to a stale pid would hit whichever process has it now.
        void started.exited.then(() => running.delete(started))
        return started
      }
      let server = await launch()
      return {
        httpUrl: server.httpUrl,
        httpPort,
        tcpPort,
        dataDir,
        username,
        password,
        startMs: server.startMs,
        stderrTail: () => [...tail],
        get pid() {
          return server.pid
        },
        get exited() {
          return server.exited
        },
        exitSignal: () => server.exitSignal(),
        async restart() {
          await server.stop()
          server = await launch()
        },
        async stop() {
          await server.stop()
          running.delete(server)
          removeDirs()
        },
      }
    } catch (err) {
      const collided = isSpanlensError(err) && err.code === errors.CLICKHOUSE_PORT_IN_USE.code
      if (!collided || options.ports || attempt >= PORT_ATTEMPTS) {
        removeDirs()
        throw err
      }
    }
  }
}

export interface TwoShardCluster {
  cluster: string
  nodes: [TestClickHouse, TestClickHouse]
  stop(): Promise<void>
}

/**
 * Two engines forming the `spanlens` cluster: one shard each, `<remote_servers>`
 * naming both native ports and `<macros>` with the node's shard. The ports are
 * chosen first, since each node's config names the other's.
 */
export async function startTwoShardCluster(cluster = 'spanlens'): Promise<TwoShardCluster> {
  for (let attempt = 1; ; attempt++) {
    const ports = [
      { http: await freePort(), tcp: await freePort() },
      { http: await freePort(), tcp: await freePort() },
    ] as const
    const config = (shard: number) => `<clickhouse>
  <remote_servers>
    <${cluster}>
${ports.map((p) => `      <shard><replica><host>127.0.0.1</host><port>${p.tcp}</port></replica></shard>`).join('\n')}
    </${cluster}>
  </remote_servers>
  <macros><shard>${shard}</shard><replica>node${shard}</replica><cluster>${cluster}</cluster></macros>
</clickhouse>
`
    // Side by side: a node connects to the other only when a query needs it, not at start,
    // and the engines' start-up is most of the globalSetup every cluster test waits for.
    const results = await Promise.allSettled([startClickHouseServer({ config: config(1), ports: ports[0] }), startClickHouseServer({ config: config(2), ports: ports[1] })])
    const failed = results.find((r) => r.status === 'rejected')
    if (failed) {
      await Promise.all(results.map((r) => (r.status === 'fulfilled' ? r.value.stop() : undefined)))
      const err: unknown = failed.reason
      const collided = isSpanlensError(err) && err.code === errors.CLICKHOUSE_PORT_IN_USE.code
      if (!collided || attempt >= PORT_ATTEMPTS) throw err
      continue
    }
    const nodes = results.map((r) => (r as PromiseFulfilledResult<TestClickHouse>).value) as [TestClickHouse, TestClickHouse]
    return { cluster, nodes, stop: async () => void (await Promise.all(nodes.map((n) => n.stop()))) }
  }
}
