// The bundled engine as a ClickHouse server, started the way users start it
// (`spanlens clickhouse serve`, its own process), for the benchmarks' remote and
// cluster modes. Loopback only, user `default` without a password (what a
// loopback bind allows); the nodes of a cluster reach each other as that user.
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const repo = fileURLToPath(new URL('../..', import.meta.url))
/** `clickhouse serve` refuses a taken port with exit code 2; ports are chosen free, then bound, so retry a few times. */
const PORT_ATTEMPTS = 5

export interface ServedClickHouse {
  httpUrl: string
  tcpPort: number
  /** The engine's process (libchdb): its CPU and RSS are the store's. */
  enginePid: number
  /** The `clickhouse serve` command's process, which supervises the engine. */
  commandPid: number
  startMs: number
  stop(): Promise<void>
}

export interface ServeOptions {
  /** 'dist' runs packages/ingest/dist/bin.js (built), 'source' src/bin.ts through tsx. */
  from: 'dist' | 'source'
  /** ClickHouse XML merged over the generated config (remote_servers, macros). */
  configXml?: string
  ports?: { http: number; tcp: number }
  /** Runs the command, and so the engine and all its threads, under `nice -n` this value. */
  nice?: number
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen({ host: '127.0.0.1', port: 0 }, () => {
      const address = server.address()
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))))
    })
  })
}

/** Two different free ports: one released after another can come back, and the engine refuses one port for both. */
export async function twoFreePorts(): Promise<{ http: number; tcp: number }> {
  const http = await freePort()
  let tcp = await freePort()
  while (tcp === http) tcp = await freePort()
  return { http, tcp }
}

function entry(from: ServeOptions['from']): string[] {
  return from === 'dist'
    ? [join(repo, 'packages/ingest/dist/bin.js')]
    : ['--conditions=@spanlens/source', '--import', 'tsx', join(repo, 'packages/ingest/src/bin.ts')]
}

/** Starts one served engine on a fresh data directory; resolves once it logs `clickhouse is ready`. */
export async function serveClickHouse(options: ServeOptions): Promise<ServedClickHouse> {
  for (let attempt = 1; ; attempt++) {
    const ports = options.ports ?? (await twoFreePorts())
    try {
      return await serveOnce(options, ports)
    } catch (err) {
      if (!(err instanceof PortTaken) || options.ports || attempt >= PORT_ATTEMPTS) throw err
    }
  }
}

class PortTaken extends Error {}

// A bench that fails or is interrupted leaves no engine behind: the command stops its engine on SIGTERM.
const running = new Set<ChildProcess>()
process.once('exit', () => {
  for (const child of running) child.kill('SIGTERM')
})
process.once('SIGINT', () => process.exit(130))

async function serveOnce(options: ServeOptions, ports: { http: number; tcp: number }): Promise<ServedClickHouse> {
  const dir = mkdtempSync(join(tmpdir(), 'spanlens-bench-ch-'))
  const args = ['clickhouse', 'serve', '--data-dir', dir, '--host', '127.0.0.1', '--http-port', String(ports.http), '--tcp-port', String(ports.tcp)]
  if (options.configXml) {
    writeFileSync(join(dir, 'extra.xml'), options.configXml)
    args.push('--config-file', join(dir, 'extra.xml'))
  }
  // Only what the command needs: a SPANLENS_CLICKHOUSE_* of the bench's own environment must not reach it.
  const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? dir, SPANLENS_LOG_LEVEL: 'info' }
  const argv = [process.execPath, ...entry(options.from), ...args]
  // nice execs the command, so the pid stays the command's.
  const [file, ...rest] = options.nice ? ['nice', '-n', String(options.nice), ...argv] : argv
  const child: ChildProcess = spawn(file as string, rest, { cwd: repo, env, stdio: ['ignore', 'pipe', 'pipe'] })
  let log = ''
  child.stderr?.on('data', (c: Buffer) => void (log += c.toString()))
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  const ready = await new Promise<{ http: string; enginePid: number; startMs: number }>((resolve, reject) => {
    let out = ''
    child.stdout?.on('data', (c: Buffer) => {
      out += c.toString()
      const line = out.split('\n').find((l) => l.includes('clickhouse is ready') && l.endsWith('}'))
      if (line) resolve(JSON.parse(line) as { http: string; enginePid: number; startMs: number })
    })
    void exited.then((code) => {
      rmSync(dir, { recursive: true, force: true })
      const text = `${out}\n${log}`
      reject(code === 2 && /PORT_IN_USE/.test(text) ? new PortTaken(text) : new Error(`clickhouse serve exited (${code}):\n${text}`))
    })
  })
  child.stdout?.resume()
  running.add(child)
  return {
    httpUrl: ready.http,
    tcpPort: ports.tcp,
    enginePid: ready.enginePid,
    commandPid: child.pid as number,
    startMs: ready.startMs,
    async stop() {
      child.kill('SIGTERM')
      await exited
      running.delete(child)
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

export interface ServedCluster {
  cluster: string
  nodes: ServedClickHouse[]
  /** SPANLENS_CLICKHOUSE_* for a Spanlens process using the cluster with per-node DDL. */
  env(database: string): Record<string, string>
  stop(): Promise<void>
}

/**
 * Engines forming the cluster `spanlens`, one shard each, no replicas: the same
 * `<remote_servers>` on every node and the node's own `<macros>`, as
 * docs/clickhouse.md says to configure served engines. The ports are chosen
 * first, since each node's config names the others'.
 */
export async function serveCluster(shards: number, from: ServeOptions['from']): Promise<ServedCluster> {
  const cluster = 'spanlens'
  for (let attempt = 1; ; attempt++) {
    const ports: { http: number; tcp: number }[] = []
    for (let i = 0; i < shards; i++) ports.push({ http: await freePort(), tcp: await freePort() })
    const configXml = (shard: number) => `<clickhouse>
  <remote_servers>
    <${cluster}>
${ports.map((p) => `      <shard><replica><host>127.0.0.1</host><port>${p.tcp}</port></replica></shard>`).join('\n')}
    </${cluster}>
  </remote_servers>
  <macros><shard>${shard}</shard><replica>node${shard}</replica><cluster>${cluster}</cluster></macros>
</clickhouse>
`
    const nodes: ServedClickHouse[] = []
    try {
      for (let i = 0; i < shards; i++) nodes.push(await serveClickHouse({ from, configXml: configXml(i + 1), ports: ports[i] }))
    } catch (err) {
      await Promise.all(nodes.map((n) => n.stop()))
      if (!(err instanceof PortTaken) || attempt >= PORT_ATTEMPTS) throw err
      continue
    }
    return {
      cluster,
      nodes,
      env: (database) => ({
        SPANLENS_CLICKHOUSE_URL: (nodes[0] as ServedClickHouse).httpUrl,
        SPANLENS_CLICKHOUSE_DATABASE: database,
        SPANLENS_CLICKHOUSE_CLUSTER: cluster,
        SPANLENS_CLICKHOUSE_NODES: nodes.map((n) => n.httpUrl).join(','),
      }),
      stop: async () => void (await Promise.all(nodes.map((n) => n.stop()))),
    }
  }
}

/** CPU seconds (user + system) of a process, or of one of its threads, from /proc. */
export function cpuSeconds(pid: number, tid?: number): number {
  const stat = readProc(tid ? `/proc/${pid}/task/${tid}/stat` : `/proc/${pid}/stat`)
  // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[11]) + Number(fields[12])) / 100
}

/** Peak RSS (VmHWM) in MiB. */
export const peakRssMiB = (pid: number) => Number(/VmHWM:\s+(\d+)/.exec(readProc(`/proc/${pid}/status`))?.[1]) / 1024

/** Starts a new peak-RSS window for a process of ours (writing 5 to clear_refs resets VmHWM to the current RSS). */
export function resetPeakRss(pid: number): void {
  writeFileSync(`/proc/${pid}/clear_refs`, '5')
}

const readProc = (path: string) => readFileSync(path, 'utf8')
