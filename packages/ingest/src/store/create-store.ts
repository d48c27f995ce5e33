import { createReadStream, existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { createClient, type ClickHouseClient, type ClickHouseClientConfigOptions } from '@clickhouse/client'
import type { Logger } from 'pino'
import type { StreamQuery } from '@spanlens/query'
import type { StoreConfig } from '../config/load.js'
import type { ClickHouseEndpoint } from '../config/schema.js'
import { clientLog } from './client-log.js'
import { GatewayUnavailable, gatewayStatus } from './gateway-status.js'

type ClientLog = ReturnType<typeof clientLog>
import { errors, isClientTimeout, isSpanlensError } from '../errors.js'
import { ensureWritableDir } from '../writable-dir.js'
import { CallGate, gateCalls } from './call-gate.js'
import { cancelRunning } from './chdb-cancel.js'
import { streamChdb } from './chdb-stream.js'
import { quoteString, scopeSettings, type ClientConnection } from './scoped-settings.js'
import { storeRefusal } from './refusal.js'
import { guardLeftovers, LeftoverGuard } from './store-leftover-output.js'
import { lowerForeignThreadPriority } from './thread-priority.js'

export interface RawInsert {
  table: string
  columns: readonly string[]
  /** A text row format (chdb's raw insert takes text formats only); WithNames: the first line names `columns`. */
  format: 'TabSeparated' | 'TabSeparatedWithNames' | 'JSONCompactEachRow' | 'JSONEachRow'
  /** The payload, already in `format`. */
  body: Buffer[]
  settings?: Record<string, string | number | boolean>
  /**
   * Asked as the insert ends: the caller inserts again as soon as this one is confirmed (a spool
   * backlog). Embedded, the engine is then kept for that insert rather than passed to a waiting
   * query (call-gate.ts).
   */
  followedBy?: () => boolean
}

/** Rows already in `format`, in a file (a sealed spool segment). */
export interface FileInsert extends Omit<RawInsert, 'body'> {
  path: string
}

/** The one storage seam: a @clickhouse/client plus the facts the rest of the code needs. */
export interface Store {
  readonly client: ClickHouseClient
  readonly mode: 'embedded' | 'remote'
  readonly database: string
  readonly cluster: string | undefined
  /**
   * Per-node DDL (SPANLENS_CLICKHOUSE_NODES): a client for each node of `cluster`;
   * migrations and retention run on each by itself, without ON CLUSTER.
   */
  readonly nodes?: readonly StoreNode[]
  readonly retentionDays: number
  /** Human-readable location, safe to log (no credentials). */
  readonly target: string
  /**
   * Inserts a pre-encoded payload. Remote: one streamed HTTP insert through the
   * client. Embedded: chdb's zero-copy raw insert, because the client path turns
   * the payload into one JS string first, which blocked the event loop for
   * 30-100 ms per batch in the ingest benchmark.
   */
  insertRaw(insert: RawInsert): Promise<void>
  /**
   * Inserts a file's rows. Embedded: ClickHouse reads the file itself
   * (`INSERT ... FROM INFILE`): no copy in JS memory, and chDB parses a file
   * with ~35% less CPU per row than the same bytes inline (bench/README.md).
   * Remote: the file streamed as the body of one HTTP insert.
   */
  insertFile(insert: FileInsert): Promise<void>
  /**
   * Embedded only: one statement's output as chDB produces it, a block at a time, in the
   * query lane of the call gate for as long as it is read (chdb-stream.ts). The client's
   * `exec` hands over chDB's output only once all of it is in memory; over HTTP it streams.
   */
  readonly streamQuery?: StreamQuery
  close(): Promise<void>
  /**
   * Embedded only: what the one-call-at-a-time engine is doing. /readyz reads it
   * so that a long analyst query is reported as a busy store, not an unreachable one.
   */
  readonly activity?: () => StoreActivity
}

export interface StoreNode {
  readonly client: ClickHouseClient
  /** The node's URL without credentials. */
  readonly target: string
}

interface StoreActivity {
  /** When the call now running started (epoch ms), or null when the engine is idle. */
  busySince: number | null
  /** Calls waiting for the engine. */
  queued: number
  /** Bytes of a failed call's output thrown away so that no later call received them. */
  leftoverBytesDiscarded: number
}

export interface CreateStoreOptions {
  /** Where @clickhouse/client's own warnings go (client-log.ts); silent without one. */
  logger?: Logger
}

/** A store whose clients exist, and what is left to open it. */
export interface ConnectedStore {
  readonly store: Store
  /**
   * Remote: reaches ClickHouse (every node with SPANLENS_CLICKHOUSE_NODES) and creates the
   * database where it is missing; rejects with SPANLENS_STORE_UNREACHABLE or
   * SPANLENS_STORE_REFUSED. Embedded: nothing, the engine opened in connectStore.
   */
  bootstrap(): Promise<void>
}

/** Opens the store: its clients, then the database. Fails at once when ClickHouse cannot be reached. */
export async function createStore(config: StoreConfig, options: CreateStoreOptions = {}): Promise<Store> {
  const { store, bootstrap } = await connectStore(config, options)
  try {
    await bootstrap()
  } catch (err) {
    await store.close().catch(() => undefined)
    throw err
  }
  return store
}

/**
 * The store's clients before any request to a remote ClickHouse: `spanlens serve` starts while
 * ClickHouse is unreachable and bootstraps in the background (store-opener.ts). A setting the
 * client refuses still fails here. Embedded, the engine opens here, as in createStore.
 */
export async function connectStore(config: StoreConfig, options: CreateStoreOptions = {}): Promise<ConnectedStore> {
  const log = clientLog(options.logger)
  if (config.mode === 'embedded') return { store: await openEmbedded(config, log), bootstrap: async () => undefined }
  return connectRemote(config, log)
}

async function openEmbedded(config: StoreConfig, log: ClientLog): Promise<Store> {
  const dir = config.dataDir
  ensureWritableDir(dir)
  // Loaded here, not at import: libchdb is ~170 ms to load and exists only for Linux (glibc) and
  // macOS on x64 and arm64, and a server on a ClickHouse URL never needs it.
  let engine: typeof import('chdb/connection')
  try {
    engine = await import('chdb/connection')
  } catch (err) {
    throw errors.CLICKHOUSE_UNSUPPORTED_PLATFORM(
      `the embedded store's engine (libchdb) does not load on ${process.platform}-${process.arch}: ${(err as Error).message}. Set SPANLENS_CLICKHOUSE_URL to use a ClickHouse server instead`,
      { cause: err },
    )
  }
  let connection
  try {
    connection = engine.createChdbConnection({ path: dir })
  } catch (err) {
    // libchdb refuses a directory locked by another process (or a second directory
    // in this process). Tell the two apart by the lock file ClickHouse keeps.
    const message = (err as Error).message
    if (/only one active data directory per process/.test(message)) {
      throw errors.DATA_DIR_UNUSABLE(dir, message, { cause: err })
    }
    if (existsSync(join(dir, 'status'))) throw errors.DATA_DIR_LOCKED(dir, { cause: err })
    throw errors.DATA_DIR_UNUSABLE(dir, message, { cause: err })
  }
  // chdb types its Connection against @clickhouse/client-common 1.23.0, structurally
  // the same interface that @clickhouse/client 1.23.1 bundles under its own name.
  // chDB runs one call at a time: queue them in JS, not in libuv's threadpool (call-gate.ts).
  const gate = new CallGate(1)
  const chdb = connection.chdb
  const leftovers = new LeftoverGuard(
    async (sql) => Buffer.from((await chdb.queryAsync(sql, { format: 'TabSeparated' })).bytes()).toString('utf8'),
    (reason, cause) => errors.STORE_UNREACHABLE(`embedded:${dir}`, reason, { cause }),
  )
  // Order matters: the gate is outermost, so a failed call's drain runs before
  // the slot passes to the next caller.
  const scoped = guardLeftovers(scopeSettings(connection as unknown as ClientConnection), leftovers)
  const client = createClient({ connection: gateCalls(scoped, gate), log })
  const db = quoteIdent(config.database)
  try {
    await client.command({ query: `CREATE DATABASE IF NOT EXISTS ${db}` })
    // The embedded connection ignores the client's `database` option; USE is
    // session state in chDB and applies to every later query of this client.
    await client.command({ query: `USE ${db}` })
  } catch (err) {
    await client.close().catch(() => undefined)
    throw errors.DATA_DIR_UNUSABLE(dir, (err as Error).message, { cause: err })
  }
  const stopLoweringPriority = lowerForeignThreadPriority(config.embeddedNice)
  return {
    client,
    mode: 'embedded',
    database: config.database,
    cluster: undefined,
    retentionDays: config.retentionDays,
    target: `embedded:${dir}`,
    async insertRaw(insert) {
      await gate.run('ingest', () =>
        leftovers.run(() =>
          chdb.rawInsert({
            table: `${config.database}.${insert.table}`,
            columns: insert.columns,
            format: insert.format,
            values: insert.body.length === 1 ? (insert.body[0] as Buffer) : Buffer.concat(insert.body),
            ...(insert.settings ? { settings: insert.settings } : {}),
          }),
        ),
        insert.followedBy ? { holdFor: insert.followedBy } : {},
      )
    },
    async insertFile(insert) {
      const target = `${db}.${quoteIdent(insert.table)} (${insert.columns.map(quoteIdent).join(', ')})`
      await gate.run('ingest', () =>
        scoped.command({
          query: `INSERT INTO ${target} FROM INFILE ${quoteString(insert.path)} COMPRESSION 'none' FORMAT ${insert.format}`,
          ...(insert.settings ? { clickhouse_settings: insert.settings } : {}),
        }),
        insert.followedBy ? { holdFor: insert.followedBy } : {},
      )
    },
    streamQuery: (params, read) => gate.run('query', () => leftovers.run(() => streamChdb(chdb, params, read))),
    close: async () => {
      stopLoweringPriority()
      // A statement still running through the gate (a migration cut short) would hold the
      // process's exit until it ends: cancelled and waited for (chdb-cancel.ts). Closed first, so
      // that no statement starts after the cancel (the connection's teardown waits for the
      // running one). A call whose caller stopped waiting has left the gate: not seen here.
      const running = gate.activity().busySince != null
      await client.close()
      if (running) await cancelRunning(dir)
    },
    activity: () => ({ ...gate.activity(), leftoverBytesDiscarded: leftovers.discardedBytes }),
  }
}

function connectRemote(config: StoreConfig, log: ClientLog): ConnectedStore {
  const main: ClickHouseEndpoint = { url: config.url as string, ...(config.pathname ? { pathname: config.pathname } : {}) }
  const safeTarget = endpointTarget(main)
  const tls = config.caCertPath ? { ca_cert: readCaCert(config.caCertPath) } : undefined
  const common = {
    username: config.username,
    password: config.password,
    request_timeout: config.requestTimeoutMs,
    application: 'spanlens',
    log,
    ...(tls ? { tls } : {}),
  }
  const perNode = config.cluster !== undefined && config.nodes !== undefined
  const nodeEndpoints = perNode ? (config.nodes as ClickHouseEndpoint[]) : []
  // createClient throws on what it cannot take from a URL; the config check refuses that
  // first, and anything it missed still stops start-up as a configuration error.
  const connect = (target: ClickHouseEndpoint, variable: string, options: Omit<ClickHouseClientConfigOptions, 'url' | 'pathname'>): ClickHouseClient => {
    try {
      return createClient({
        ...common,
        ...options,
        // Every statement of every client: a query or insert still reading sends a header at most every
        // progressIntervalMs, so only a store that answers nothing meets the request timeout (load.ts).
        clickhouse_settings: { send_progress_in_http_headers: 1, http_headers_progress_interval_ms: String(config.progressIntervalMs), ...options.clickhouse_settings },
        url: target.url,
        ...(target.pathname ? { pathname: target.pathname } : {}),
      })
    } catch (err) {
      throw errors.CONFIG_INVALID(`${variable}: ClickHouse's client refused ${endpointTarget(target)}: ${(err as Error).message}`, { cause: err })
    }
  }
  const client = connect(main, 'SPANLENS_CLICKHOUSE_URL', {
    database: config.database,
    ...(config.cluster ? { clickhouse_settings: clusterSettings(config.requestTimeoutMs) } : {}),
  })
  const nodes = perNode
    ? nodeEndpoints.map((n) => ({
        client: connect(n, 'SPANLENS_CLICKHOUSE_NODES', { database: config.database }),
        target: endpointTarget(n),
      }))
    : undefined
  const store: Store = {
    client,
    mode: 'remote',
    database: config.database,
    cluster: config.cluster,
    ...(nodes ? { nodes } : {}),
    retentionDays: config.retentionDays,
    target: safeTarget,
    insertRaw: (insert) => streamInsert(client, insert, Readable.from(insert.body, { objectMode: false })),
    insertFile: (insert) => streamInsert(client, insert, createReadStream(insert.path)),
    close: async () => {
      await Promise.all([client, ...(nodes ?? []).map((n) => n.client)].map((c) => c.close()))
    },
  }
  // The database may not exist yet: create it through a client bound to `default`,
  // on every node when DDL runs node by node.
  const bootstrap = async (): Promise<void> => {
    for (const target of perNode ? nodeEndpoints : [main]) {
      const variable = perNode ? 'SPANLENS_CLICKHOUSE_NODES' : 'SPANLENS_CLICKHOUSE_URL'
      const admin = connect(target, variable, { database: 'default' })
      try {
        await answersAsClickHouse(admin, target, variable, { ca: tls?.ca_cert, timeoutMs: config.requestTimeoutMs })
        await ensureDatabase(admin, config.database, config.cluster && !perNode ? config.cluster : undefined)
      } catch (err) {
        if (isSpanlensError(err)) throw err
        throw (
          storeRefusal(endpointTarget(target), err, { cluster: config.cluster }) ??
          errors.STORE_UNREACHABLE(endpointTarget(target), (err as Error).message, { cause: err })
        )
      } finally {
        await admin.close().catch(() => undefined)
      }
    }
  }
  return { store, bootstrap }
}

/**
 * Stops start-up on an address that answers HTTP but is not ClickHouse's HTTP interface: a
 * reverse proxy's prefix that forwards elsewhere or nowhere, or a path meant as the database on
 * ClickHouse itself, which answers its 404 `There is no handle /spanlens/ping`. Without this the
 * first query reported that page as the store's error, with the query text in it. ClickHouse
 * answers /ping without a login, so a wrong password still reaches storeRefusal. A proxy that
 * answers for a ClickHouse that is down (502, 503, 504: gateway-status.ts) is the store
 * unreachable, which `spanlens serve` starts through and retries (store-opener.ts).
 */
async function answersAsClickHouse(
  client: ClickHouseClient,
  endpoint: ClickHouseEndpoint,
  variable: string,
  probe: { ca: Buffer | undefined; timeoutMs: number },
): Promise<void> {
  const pong = await client.ping()
  if (pong.success) return
  const err = pong.error
  const target = endpointTarget(endpoint)
  // A socket, TLS or DNS error has Node's code; clickhouse-js's own timeout says so.
  if (typeof (err as { code?: unknown }).code === 'string' || isClientTimeout(err)) throw err
  const gateway = await gatewayStatus(endpoint, probe)
  if (gateway !== undefined) {
    const down = new GatewayUnavailable(gateway)
    throw errors.STORE_UNREACHABLE(target, down.message, { cause: down })
  }
  const said = (err.message.trim().split('\n')[0] ?? '').slice(0, 200)
  throw errors.STORE_UNREACHABLE(
    target,
    `it answers HTTP, but not /ping as ClickHouse does (${JSON.stringify(said)}): ${variable} must be ClickHouse's address, or a reverse proxy's followed by the path under which it forwards to ClickHouse`,
    { cause: err },
  )
}

/** An endpoint as one URL safe to log or show (`http://proxy:8080/clickhouse/`). */
function endpointTarget(e: ClickHouseEndpoint): string {
  return redactUrl(`${e.url}${e.pathname ?? '/'}`)
}

/**
 * Creates the database only when it is missing: CREATE DATABASE IF NOT EXISTS needs the
 * CREATE DATABASE grant even for a database that exists, so a user given every right on
 * a database made for it could not start. With `onCluster` (distributed DDL) the check is
 * on this node: a database made in advance must be made ON CLUSTER, on every node.
 */
async function ensureDatabase(client: ClickHouseClient, database: string, onCluster: string | undefined): Promise<void> {
  // Not EXISTS DATABASE, which a user without SHOW DATABASES on the name fails with ACCESS_DENIED;
  // system.databases lists what the user may see, so a database it cannot use reads as missing.
  const rs = await client.query({
    query: 'SELECT count() AS n FROM system.databases WHERE name = {db:String}',
    query_params: { db: database },
    format: 'JSONEachRow',
  })
  const [row] = await rs.json<{ n: number | string }>()
  if (Number(row?.n) > 0) return
  await client.command({ query: `CREATE DATABASE IF NOT EXISTS ${quoteIdent(database)}${onCluster ? ` ON CLUSTER ${quoteIdent(onCluster)}` : ''}` })
}

/**
 * Every query and insert of a cluster client reads and writes Distributed tables.
 * - distributed_foreground_insert: an insert is confirmed once the shards have its
 *   rows (spans, scores, schema_migrations alike); an async insert would be
 *   confirmed while still queued on the node that took it.
 * - distributed_product_mode = 'local': an IN/JOIN subquery over a Distributed
 *   table runs on each shard against the shard's local table. spans and scores
 *   are both sharded by cityHash64(trace_id), and every subquery the API runs
 *   matches on trace_id, so a trace's rows and its subquery's rows are on the
 *   same shard: the answer equals a single server's, with no subquery sent
 *   shard to shard ('allow') nor broadcast ('global'). A query that joins on
 *   anything else needs GLOBAL IN/JOIN written out (docs/clickhouse.md).
 * - handshake_timeout_ms: a hung shard fails a query or insert in seconds (shardHandshakeMs).
 */
function clusterSettings(requestTimeoutMs: number) {
  return {
    distributed_foreground_insert: 1,
    distributed_product_mode: 'local',
    handshake_timeout_ms: shardHandshakeMs(requestTimeoutMs),
  } as const
}

/**
 * How long the node Spanlens asks waits for a shard's native-protocol handshake. A shard whose
 * process hangs (stopped, or a host that accepts connections and answers nothing) holds every
 * query and insert for ClickHouse's default 10 s per try, 3 tries: measured 30.05 s to
 * ALL_CONNECTION_TRIES_FAILED, just after clickhouse-js's own 30 s request timeout, so a route
 * answered 502 `see the server log` after 30 s instead of 503 SPANLENS_STORE_UNREACHABLE. With
 * 2 s the same read fails in 6 s as the shard's failure; a quarter of a shorter request timeout
 * keeps the 3 tries inside it, so that ClickHouse's answer, not the client's timeout, reaches the route.
 */
function shardHandshakeMs(requestTimeoutMs: number): number {
  return Math.max(100, Math.min(2000, Math.floor(requestTimeoutMs / 4)))
}

/** Remote: one HTTP insert whose body is streamed from `values`. */
async function streamInsert(client: ClickHouseClient, insert: Omit<RawInsert, 'body'>, values: Readable): Promise<void> {
  const columns = insert.columns.map(quoteIdent).join(', ')
  const result = await client.exec({
    query: `INSERT INTO ${quoteIdent(insert.table)} (${columns}) FORMAT ${insert.format}`,
    values,
    ...(insert.settings ? { clickhouse_settings: insert.settings } : {}),
  })
  result.stream.resume()
}

function readCaCert(path: string): Buffer {
  try {
    return readFileSync(path)
  } catch (err) {
    throw errors.CONFIG_INVALID(`SPANLENS_CLICKHOUSE_CA_CERT: cannot read ${path}: ${(err as Error).message}`)
  }
}

/** A URL safe to log or show: without credentials, and nothing of it when it does not parse. */
function redactUrl(raw: string): string {
  try {
    const u = new URL(raw)
    u.username = ''
    u.password = ''
    return u.toString()
  } catch {
    return '(a URL that does not parse)'
  }
}

export function quoteIdent(name: string): string {
  return `\`${name.replace(/\\/g, '\\\\').replace(/`/g, '\\`')}\``
}
