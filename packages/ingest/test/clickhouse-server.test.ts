import { spawn, type ChildProcess } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { createServer, type Server } from 'node:net'
import { fileURLToPath } from 'node:url'
import { createClient, type ClickHouseClient } from '@clickhouse/client'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { loadConfig } from '../src/config/load.js'
import { buildServer } from '../src/server.js'
import { freePort, freePorts, startClickHouseServer, startTwoShardCluster, type TestClickHouse, type TwoShardCluster } from './helpers/clickhouse-server.js'

/** The CLI's two port options, on two different free ports. */
const twoPorts = async () => {
  const [http, tcp] = await freePorts(2)
  return ['--http-port', String(http), '--tcp-port', String(tcp)]
}
import { jsonRequest } from './helpers/otlp.js'
import { API_KEYS, bearer, KEYS } from './helpers/server.js'
import { removeTempDirs, tempDir } from './helpers/tmp.js'

const bin = fileURLToPath(new URL('../src/bin.ts', import.meta.url))

interface Cli {
  child: ChildProcess
  exited: Promise<number | null>
  stderr: () => string
  stdout: () => string
  /** The "clickhouse is ready" log line, or the exit code if it exited first. */
  ready: Promise<{ http: string; startMs: number; enginePid: number } | { exitCode: number | null }>
  /** Every "clickhouse is ready" line so far (one per engine started). */
  readyLines: () => Array<{ http: string; enginePid: number }>
}

const clis = new Set<Cli>()

/** `spanlens clickhouse serve` from source, as a user runs it. */
function cli(args: string[], env: Record<string, string> = {}): Cli {
  const child = spawn(process.execPath, ['--conditions=@spanlens/source', '--import', 'tsx', bin, 'clickhouse', 'serve', ...args], {
    env: { ...process.env, SPANLENS_LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  let err = ''
  child.stderr?.on('data', (c: Buffer) => (err += c.toString()))
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  const readyLines = () =>
    out
      .split('\n')
      .filter((line) => line.includes('clickhouse is ready'))
      .map((line) => JSON.parse(line) as { http: string; startMs: number; enginePid: number })
  const ready = new Promise<{ http: string; startMs: number; enginePid: number } | { exitCode: number | null }>((resolve) => {
    child.stdout?.on('data', (c: Buffer) => {
      out += c.toString()
      const [first] = readyLines()
      if (first) resolve({ http: first.http, startMs: first.startMs, enginePid: first.enginePid })
    })
    void exited.then((exitCode) => resolve({ exitCode }))
  })
  const handle = { child, exited, ready, readyLines, stderr: () => err, stdout: () => out }
  clis.add(handle)
  void exited.then(() => clis.delete(handle))
  return handle
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

/** The pid of the engine process `clickhouse serve` (pid) has spawned, once it has: from /proc. */
function enginePidOf(pid: number): number | undefined {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      // The ppid is the 4th field of stat, after "(comm)", which may hold spaces.
      const ppid = Number(readFileSync(`/proc/${entry}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ')[1])
      if (ppid === pid && readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes('__engine')) return Number(entry)
    } catch {
      // Gone meanwhile.
    }
  }
  return undefined
}

async function readyUrl(c: Cli): Promise<string> {
  const r = await c.ready
  if (!('http' in r)) throw new Error(`clickhouse serve exited with ${r.exitCode}: ${c.stderr()}`)
  return r.http
}

const clients: ClickHouseClient[] = []
function client(url: string, auth: { username?: string; password?: string } = {}): ClickHouseClient {
  const c = createClient({ url, username: auth.username ?? 'default', password: auth.password ?? '' })
  clients.push(c)
  return c
}

async function scalar(c: ClickHouseClient, query: string): Promise<string> {
  const rs = await c.query({ query, format: 'JSONEachRow' })
  const [row] = await rs.json<Record<string, unknown>>()
  return String(Object.values(row ?? {})[0])
}

const servers: TestClickHouse[] = []
let cluster: TwoShardCluster | undefined

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()))
})

afterAll(async () => {
  for (const c of clis) c.child.kill('SIGKILL')
  await Promise.all(servers.map((s) => s.stop()))
  await cluster?.stop()
  removeTempDirs()
})

describe('spanlens clickhouse serve', () => {
  it('serves HTTP (/ping, SELECT version()), stops on SIGTERM and restarts on its data; refuses a locked data directory and a taken port', async () => {
    const dir = tempDir()
    try {
      const [http, tcp] = (await freePorts(2)) as [number, number]
      const ports = { http, tcp }
      const args = ['--data-dir', dir.path, '--http-port', String(ports.http), '--tcp-port', String(ports.tcp)]
      const first = cli(args)
      const url = await readyUrl(first)
      expect(url).toBe(`http://127.0.0.1:${ports.http}`)
      expect(await (await fetch(`${url}/ping`)).text()).toBe('Ok.\n')
      const ch = client(url)
      expect(await scalar(ch, 'SELECT version() AS v')).toMatch(/^\d+\.\d+\./)
      await ch.command({ query: 'CREATE TABLE kept (n UInt64) ENGINE = MergeTree ORDER BY n' })
      await ch.insert({ table: 'kept', values: [{ n: 1 }, { n: 2 }, { n: 3 }], format: 'JSONEachRow' })
      await ch.close()

      // The engine holds the data directory: a second one on it is refused by name.
      const locked = cli(['--data-dir', dir.path, ...(await twoPorts())])
      expect(await locked.exited).toBe(2)
      expect(locked.stderr()).toContain('SPANLENS_DATA_DIR_LOCKED')

      const taken = cli(['--data-dir', tempDir().path, '--http-port', String(ports.http), '--tcp-port', String(await freePort())])
      expect(await taken.exited).toBe(2)
      expect(taken.stderr()).toContain('SPANLENS_CLICKHOUSE_PORT_IN_USE')

      const stopAsked = Date.now()
      first.child.kill('SIGTERM')
      expect(await first.exited).toBe(0)
      const stopMs = Date.now() - stopAsked
      expect(stopMs).toBeLessThan(15_000)

      const second = cli(args)
      const again = client(await readyUrl(second))
      expect(await scalar(again, 'SELECT sum(n) AS s FROM kept')).toBe('6')
      await again.close()
      second.child.kill('SIGINT')
      expect(await second.exited).toBe(0)
    } finally {
      dir.cleanup()
    }
  }, 120_000)

  it('starts the engine again on its data and ports when it dies without being asked (a SIGABRT, as a reset client connection caused)', async () => {
    const dir = tempDir()
    try {
      const c = cli(['--data-dir', dir.path, ...(await twoPorts())])
      const r = await c.ready
      if (!('enginePid' in r)) throw new Error(`clickhouse serve exited with ${r.exitCode}: ${c.stderr()}`)
      const ch = client(r.http)
      await ch.command({ query: 'CREATE TABLE kept (n UInt64) ENGINE = MergeTree ORDER BY n' })
      await ch.insert({ table: 'kept', values: [{ n: 4 }], format: 'JSONEachRow' })
      await ch.close()

      process.kill(r.enginePid, 'SIGABRT')
      const deadline = Date.now() + 60_000
      while (c.readyLines().length < 2 && Date.now() < deadline) await new Promise((res) => setTimeout(res, 100))
      const [, again] = c.readyLines()
      expect(again).toMatchObject({ http: r.http })
      expect(again?.enginePid).not.toBe(r.enginePid)
      expect(c.stdout()).toMatch(/"signal":"SIGABRT".*clickhouse engine exited without being asked to stop/)
      const back = client(r.http)
      expect(await scalar(back, 'SELECT sum(n) AS s FROM kept')).toBe('4')
      await back.close()
      c.child.kill('SIGTERM')
      expect(await c.exited).toBe(0)
    } finally {
      dir.cleanup()
    }
  }, 120_000)

  it('leaves no engine behind when the command itself is killed', async () => {
    const dir = tempDir()
    try {
      const killed = cli(['--data-dir', dir.path, ...(await twoPorts())])
      const r = await killed.ready
      if (!('enginePid' in r)) throw new Error(`clickhouse serve exited with ${r.exitCode}: ${killed.stderr()}`)
      expect(alive(r.enginePid)).toBe(true)
      killed.child.kill('SIGKILL')
      const deadline = Date.now() + 15_000
      while (alive(r.enginePid) && Date.now() < deadline) await new Promise((res) => setTimeout(res, 100))
      expect(alive(r.enginePid)).toBe(false)
    } finally {
      dir.cleanup()
    }
  }, 60_000)

  it('stops the engine it is starting when it gets SIGTERM before the engine is ready', async () => {
    const dir = tempDir()
    try {
      const c = cli(['--data-dir', dir.path, ...(await twoPorts())])
      let engine: number | undefined
      const deadline = Date.now() + 20_000
      while ((engine = enginePidOf(c.child.pid as number)) === undefined && Date.now() < deadline) await new Promise((res) => setTimeout(res, 20))
      if (engine === undefined) throw new Error(`no engine process: ${c.stderr()}`)
      c.child.kill('SIGTERM')
      expect(await c.exited).toBe(0)
      expect(c.readyLines()).toEqual([])
      expect(alive(engine)).toBe(false)
    } finally {
      dir.cleanup()
    }
  }, 60_000)

  it('refuses the same port for HTTP and TCP before starting anything', async () => {
    const port = String(await freePort())
    const started = Date.now()
    const same = cli(['--data-dir', tempDir().path, '--http-port', port, '--tcp-port', port])
    expect(await same.exited).toBe(2)
    expect(same.stderr()).toContain('SPANLENS_CONFIG_INVALID')
    // It waited out the 60 s start timeout and a 30 s stop before.
    expect(Date.now() - started).toBeLessThan(15_000)
  })

  it('refuses to listen beyond loopback without a password', async () => {
    const refused = cli(['--data-dir', tempDir().path, '--host', '0.0.0.0'])
    expect(await refused.exited).toBe(2)
    expect(refused.stderr()).toContain('SPANLENS_CLICKHOUSE_UNSAFE_BIND')
  })

  it('refuses a port held by another process before starting the engine', async () => {
    const holder: Server = createServer()
    const port = await new Promise<number>((resolve) =>
      holder.listen({ host: '127.0.0.1', port: 0 }, () => resolve((holder.address() as { port: number }).port)),
    )
    try {
      const taken = cli(['--data-dir', tempDir().path, '--http-port', String(await freePort()), '--tcp-port', String(port)])
      expect(await taken.exited).toBe(2)
      expect(taken.stderr()).toContain('SPANLENS_CLICKHOUSE_PORT_IN_USE')
    } finally {
      holder.close()
    }
  })
})

/**
 * One served engine with a password, listening beyond loopback, for the two tests below that
 * need one (the password test's `default.secret` and remote mode's `spanlens` database do not
 * meet): each engine costs a start and its idle background threads for the rest of the file.
 */
let withPassword: Promise<TestClickHouse> | undefined
function passwordServer(): Promise<TestClickHouse> {
  withPassword ??= startClickHouseServer({ host: '0.0.0.0', username: 'spanlens', password: 'pw-for-tests-123' }).then((server) => {
    servers.push(server)
    return server
  })
  return withPassword
}

describe('a served ClickHouse with a password', () => {
  it('refuses unauthenticated reads of data and lets the password in', async () => {
    const server = await passwordServer()
    const owner = client(server.httpUrl, { username: 'spanlens', password: 'pw-for-tests-123' })
    await owner.command({ query: 'CREATE TABLE secret (n UInt8) ENGINE = MergeTree ORDER BY n' })
    await owner.insert({ table: 'secret', values: [{ n: 7 }], format: 'JSONEachRow' })
    expect(await scalar(owner, 'SELECT sum(n) FROM secret')).toBe('7')

    const anonymous = await fetch(`${server.httpUrl}/?query=${encodeURIComponent('SELECT sum(n) FROM default.secret')}`)
    expect(anonymous.status).not.toBe(200)
    expect(anonymous.headers.get('x-clickhouse-exception-code')).toBe('497') // ACCESS_DENIED
    const wrong = await fetch(`${server.httpUrl}/?query=SELECT+1`, { headers: { 'X-ClickHouse-User': 'spanlens', 'X-ClickHouse-Key': 'nope' } })
    expect(wrong.headers.get('x-clickhouse-exception-code')).toBe('516') // AUTHENTICATION_FAILED

  }, 60_000)
})

describe('two served engines as a two-shard cluster', () => {
  it('a foreground insert through a Distributed table lands rows on both shards; the Distributed count is the total', async () => {
    cluster = await startTwoShardCluster()
    const nodes = cluster.nodes.map((n) => client(n.httpUrl))
    for (const node of nodes) {
      // ON CLUSTER is refused by clickhouse-local (Replicated DDL disabled): created node by node.
      await node.command({ query: 'CREATE TABLE events_local (id UInt64) ENGINE = MergeTree ORDER BY id' })
      await node.command({
        query: `CREATE TABLE events AS events_local ENGINE = Distributed(${cluster.cluster}, currentDatabase(), events_local, id)`,
      })
      expect(await scalar(node, "SELECT getMacro('cluster')")).toBe(cluster.cluster)
    }
    const rows = Array.from({ length: 1000 }, (_, id) => ({ id }))
    await nodes[0]?.insert({
      table: 'events',
      values: rows,
      format: 'JSONEachRow',
      clickhouse_settings: { distributed_foreground_insert: 1 },
    })
    const local = await Promise.all(nodes.map(async (n) => Number(await scalar(n, 'SELECT count() FROM events_local'))))
    expect(local[0]).toBeGreaterThan(0)
    expect(local[1]).toBeGreaterThan(0)
    expect((local[0] ?? 0) + (local[1] ?? 0)).toBe(1000)
    for (const node of nodes) expect(await scalar(node, 'SELECT count() FROM events')).toBe('1000')
    expect(await scalar(nodes[1] as ClickHouseClient, 'SELECT uniqExact(_shard_num) FROM events')).toBe('2')
  }, 120_000)
})

describe('Spanlens in remote mode against a served ClickHouse', () => {
  it('two Spanlens servers share one served store: migrations apply, a span posted to one is read back from the other', async () => {
    const server = await passwordServer()
    const spools = [tempDir(), tempDir()]
    const apps = []
    try {
      for (const spool of spools) {
        const config = loadConfig({
          env: {
            SPANLENS_CLICKHOUSE_URL: server.httpUrl,
            SPANLENS_CLICKHOUSE_USER: 'spanlens',
            SPANLENS_CLICKHOUSE_PASSWORD: 'pw-for-tests-123',
            SPANLENS_DATA_DIR: spool.path,
            SPANLENS_API_KEYS: API_KEYS,
            SPANLENS_LOG_LEVEL: 'silent',
            SPANLENS_PORT: '0',
          },
        })
        apps.push(await buildServer(config))
      }
      const [writer, reader] = apps as [Awaited<ReturnType<typeof buildServer>>, Awaited<ReturnType<typeof buildServer>>]
      const writerUrl = await writer.listen({ host: '127.0.0.1', port: 0 })
      const readerUrl = await reader.listen({ host: '127.0.0.1', port: 0 })
      const traceId = 'a1b2c3d4e5f60718293a4b5c6d7e8f90'
      const body = jsonRequest([{ traceId, name: 'served-clickhouse' }], 'remote-svc')
      const posted = await fetch(`${writerUrl}/v1/traces`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...bearer(KEYS.acme) },
        body: JSON.stringify(body),
      })
      expect(posted.status).toBe(200)
      await writer.spanlens.flush()
      const trace = await fetch(`${readerUrl}/api/v1/traces/${traceId}`, { headers: bearer(KEYS.acme) })
      expect(trace.status).toBe(200)
      const t = (await trace.json()) as { roots: Array<{ name: string }>; totals: { spans: number } }
      expect(t.totals.spans).toBe(1)
      expect(t.roots.map((r) => r.name)).toEqual(['served-clickhouse'])
      const list = (await (await fetch(`${readerUrl}/api/v1/traces`, { headers: bearer(KEYS.acme) })).json()) as { items: Array<{ traceId: string }> }
      expect(list.items.map((i) => i.traceId)).toContain(traceId)

      const ch = client(server.httpUrl, { username: 'spanlens', password: 'pw-for-tests-123' })
      expect(Number(await scalar(ch, 'SELECT count() FROM spanlens.schema_migrations'))).toBeGreaterThan(0)
    } finally {
      await Promise.all(apps.map((a) => a.close()))
      for (const spool of spools) spool.cleanup()
    }
  }, 90_000)
})
