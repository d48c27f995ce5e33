import { readFileSync } from 'node:fs'
import { extname, resolve } from 'node:path'
import { loadSloFile } from '@spanlens/query/slo-file'
import { parse as parseYaml } from 'yaml'
import { errors } from '../errors.js'
import type { CorsOptions } from '../http/cors.js'
import { envMistakes } from './env-mistakes.js'
import { defaultMaxConnections, openFilesLimit } from './open-files.js'
import { type ClickHouseEndpoint, CONFIG_KEYS, envSchema, type EnvValues, type RedactRule } from './schema.js'

export interface ApiKey {
  project: string
  key: string
  /** `ingest` (SPANLENS_INGEST_KEYS): sends data only, reads nothing (auth.ts). Absent: the key does both. */
  access?: 'ingest'
}

export interface StoreConfig {
  mode: 'embedded' | 'remote'
  /** Embedded: the chDB data directory (absolute). */
  dataDir: string
  /**
   * Remote: ClickHouse's HTTP interface (scheme, host, port), or a reverse proxy's in front
   * of it with `pathname`, its prefix; the two as @clickhouse/client takes them.
   */
  url?: string
  pathname?: string
  username: string
  password: string
  database: string
  caCertPath?: string
  requestTimeoutMs: number
  /**
   * Remote: how often ClickHouse sends a progress header while a statement reads
   * (progressIntervalMs below): a query running to its time limit keeps its connection
   * busy, so clickhouse-js's request timeout (an idle timer) is left to a store that
   * answers nothing.
   */
  progressIntervalMs: number
  cluster?: string
  /**
   * Per-node DDL: the HTTP URL of every node of `cluster`. Migrations and retention run
   * on each node without ON CLUSTER and with non-replicated engines (shards without replicas).
   */
  nodes?: ClickHouseEndpoint[]
  retentionDays: number
  /** Embedded only: nice value given to ClickHouse's threads, 0 to leave them alone. */
  embeddedNice: number
}

/** `spanlens clickhouse serve`; it serves StoreConfig.dataDir to StoreConfig.username/password. */
interface ClickHouseServeConfig {
  host: string
  httpPort: number
  tcpPort: number
  /** Extra ClickHouse config (remote_servers, macros, ...) merged into the generated one. */
  configFile?: string
}

/** The OTLP/gRPC receiver (grpc/server.ts). */
export interface GrpcConfig {
  host: string
  /** 0: a free port. */
  port: number
  /** PEM files; without them the receiver serves plaintext (h2c). */
  tls?: { certPath: string; keyPath: string }
}

export interface IngestConfig {
  bodyLimitBytes: number
  redact: RedactRule[]
  pricesFile?: string
  spoolDir: string
  spoolMaxBytes: number
  spoolFsync: 'always' | 'interval' | 'never'
  batchMaxRows: number
  batchMaxBytes: number
  batchMaxAgeMs: number
  insertConcurrency: number
  /** OTLP requests decoded/spooled at once; more get 429 + Retry-After. */
  maxConcurrentRequests: number
  /** Of those, how many one project may hold. */
  maxConcurrentRequestsPerProject: number
  /** How long a request body may take to arrive. */
  bodyTimeoutMs: number
  /** Fraction of spoolMaxBytes one project's unconfirmed rows may take. */
  spoolProjectShare: number
  /** Spans older than this (by start time) would be dropped by the TTL at once: refused. 0 = no limit. */
  retentionDays: number
  /** Worker threads for decode/normalize/encode; 0 runs them on the event loop. */
  workers: number
  /** How often the content merge runs (jobs/content-merge.ts). */
  contentMergeIntervalMs: number
}

export interface QueryConfig {
  sloFile?: string
  sqlMaxExecutionSeconds: number
  sqlMaxMemoryBytes: number
  sqlMaxResultRows: number
  sqlMaxResultBytes: number
  /** Every other query route's limits per query. */
  maxExecutionSeconds: number
  maxMemoryBytes: number
  /** Overrides of the per-mode admission defaults; absent keys keep them. */
  admission: { perProject?: number; queuePerProject?: number; queueTimeoutMs?: number }
}

export interface SpanlensConfig {
  host: string
  port: number
  /** Connections the HTTP and gRPC listeners hold open at once; more are closed as they come. */
  maxConnections: number
  /** How long a request's headers may take to arrive (Node's headersTimeout). */
  headersTimeoutMs: number
  /** Undefined when SPANLENS_GRPC_PORT is off. */
  grpc: GrpcConfig | undefined
  logLevel: EnvValues['SPANLENS_LOG_LEVEL']
  trustProxy: boolean
  /** Empty: no keys configured, single `default` project, loopback only. */
  apiKeys: ApiKey[]
  /** SPANLENS_ADMIN_KEY: the operator's key for the admin routes; undefined: they are not registered. */
  adminKey?: string | undefined
  /** Which browser origins may send to the routes that take data in (http/cors.ts). */
  cors: CorsOptions
  /** What the environment seems to have meant and is not in force (config/env-mistakes.ts); the server logs them at start. */
  warnings?: string[]
  store: StoreConfig
  clickhouseServe: ClickHouseServeConfig
  ingest: IngestConfig
  query: QueryConfig
}

export interface LoadConfigOptions {
  env?: Record<string, string | undefined>
  /** Base for relative paths; defaults to the process working directory. */
  cwd?: string
  /** The process's open-file limit; read from the system when absent (config/open-files.ts). */
  openFiles?: number | undefined
  /** Win over the environment and the file (command-line flags). */
  overrides?: Partial<Record<keyof EnvValues, string>>
}

/** Parses configuration once from a config file (optional) and the environment. */
export function loadConfig(options: LoadConfigOptions = {}): SpanlensConfig {
  const env = options.env ?? process.env
  const cwd = options.cwd ?? process.cwd()
  const raw: Record<string, unknown> = {}

  /** The settings whose value is the config file's: an error about one names the file too. */
  const fromFile = new Set<string>()
  const file = env.SPANLENS_CONFIG_FILE
  const filePath = file !== undefined && file.trim() !== '' ? resolve(cwd, file) : undefined
  if (filePath !== undefined) {
    const values = readConfigFile(filePath)
    Object.assign(raw, values)
    for (const key of Object.keys(values)) fromFile.add(key)
  }
  for (const key of CONFIG_KEYS) {
    const value = env[key]
    if (value !== undefined && value !== '') {
      raw[key] = value
      fromFile.delete(key)
    }
  }
  for (const [key, value] of Object.entries(options.overrides ?? {})) {
    if (value !== undefined && value !== '') {
      raw[key] = value
      fromFile.delete(key)
    }
  }

  const parsed = envSchema.safeParse(raw)
  if (!parsed.success) {
    const details = parsed.error.issues
      .map((issue) => {
        const name = String(issue.path[0] ?? 'config')
        const got = raw[name]
        const shown = name.includes('PASSWORD') || name.includes('KEYS') ? '(hidden)' : JSON.stringify(typeof got === 'string' ? maskCredentials(got) : got)
        // A list's issue is about one of its entries (SPANLENS_CLICKHOUSE_NODES).
        const entry = typeof issue.path[1] === 'number' ? `entry ${issue.path[1] + 1}: ` : ''
        const where = fromFile.has(name) ? ` (in ${filePath})` : ''
        return `${name}${where}: ${entry}${issue.message}${got === undefined ? '' : `, got ${shown}`}`
      })
      .join('; ')
    throw errors.CONFIG_INVALID(details)
  }
  const v = parsed.data
  if (v.SPANLENS_CLICKHOUSE_NODES && !(v.SPANLENS_CLICKHOUSE_CLUSTER && v.SPANLENS_CLICKHOUSE_URL)) {
    throw errors.CONFIG_INVALID('SPANLENS_CLICKHOUSE_NODES: needs SPANLENS_CLICKHOUSE_CLUSTER and SPANLENS_CLICKHOUSE_URL')
  }
  if ((v.SPANLENS_GRPC_TLS_CERT === undefined) !== (v.SPANLENS_GRPC_TLS_KEY === undefined)) {
    throw errors.CONFIG_INVALID('SPANLENS_GRPC_TLS_CERT and SPANLENS_GRPC_TLS_KEY: set both or neither')
  }
  const apiKeys = [...(v.SPANLENS_API_KEYS ?? [])]
  if (v.SPANLENS_API_KEYS_FILE) apiKeys.push(...readKeysFile(resolve(cwd, v.SPANLENS_API_KEYS_FILE)))
  if (v.SPANLENS_INGEST_KEYS && apiKeys.length === 0) {
    // Keys configured make the server closed to a caller without one: with ingest keys alone, nobody could read.
    throw errors.CONFIG_INVALID('SPANLENS_INGEST_KEYS: needs SPANLENS_API_KEYS or SPANLENS_API_KEYS_FILE too (an ingest key cannot read the data it sends)')
  }
  apiKeys.push(...(v.SPANLENS_INGEST_KEYS ?? []).map((k) => ({ ...k, access: 'ingest' as const })))
  checkKeysUnambiguous(apiKeys)
  if (v.SPANLENS_ADMIN_KEY !== undefined && apiKeys.some((k) => k.key === v.SPANLENS_ADMIN_KEY)) {
    // A project's key would then also act on every project's spool.
    throw errors.CONFIG_INVALID('SPANLENS_ADMIN_KEY: is also a key of SPANLENS_API_KEYS or SPANLENS_INGEST_KEYS; give the admin routes a key of their own')
  }

  const dataDir = resolve(cwd, v.SPANLENS_DATA_DIR)
  const openFiles = 'openFiles' in options ? options.openFiles : openFilesLimit()
  const warnings = envMistakes(env, [...CONFIG_KEYS, 'SPANLENS_CONFIG_FILE'], apiKeys.length > 0)
  if (v.SPANLENS_MAX_CONNECTIONS !== undefined && openFiles !== undefined && v.SPANLENS_MAX_CONNECTIONS >= openFiles) {
    warnings.push(
      `SPANLENS_MAX_CONNECTIONS is ${v.SPANLENS_MAX_CONNECTIONS}, not below this process's open-file limit (${openFiles}): ` +
        'connections can take the descriptors the spool and the store need; raise the limit (ulimit -n, LimitNOFILE) or lower the setting',
    )
  }
  return {
    host: v.SPANLENS_HOST,
    port: v.SPANLENS_PORT,
    maxConnections: v.SPANLENS_MAX_CONNECTIONS ?? defaultMaxConnections(openFiles),
    headersTimeoutMs: v.SPANLENS_HEADERS_TIMEOUT_MS,
    grpc: grpcConfig(v, cwd),
    logLevel: v.SPANLENS_LOG_LEVEL,
    trustProxy: v.SPANLENS_TRUST_PROXY,
    apiKeys,
    adminKey: v.SPANLENS_ADMIN_KEY,
    cors: { origins: v.SPANLENS_CORS_ORIGINS ?? [], headers: v.SPANLENS_CORS_HEADERS ?? [] },
    warnings,
    store: {
      mode: v.SPANLENS_CLICKHOUSE_URL ? 'remote' : 'embedded',
      dataDir: resolve(dataDir, 'clickhouse'),
      ...v.SPANLENS_CLICKHOUSE_URL,
      username: v.SPANLENS_CLICKHOUSE_USER,
      password: v.SPANLENS_CLICKHOUSE_PASSWORD,
      database: v.SPANLENS_CLICKHOUSE_DATABASE,
      ...(v.SPANLENS_CLICKHOUSE_CA_CERT ? { caCertPath: resolve(cwd, v.SPANLENS_CLICKHOUSE_CA_CERT) } : {}),
      requestTimeoutMs: v.SPANLENS_CLICKHOUSE_REQUEST_TIMEOUT_MS,
      progressIntervalMs: progressIntervalMs(v.SPANLENS_CLICKHOUSE_REQUEST_TIMEOUT_MS, 1000 * Math.max(v.SPANLENS_QUERY_MAX_EXECUTION_SECONDS, v.SPANLENS_SQL_MAX_EXECUTION_SECONDS)),
      ...(v.SPANLENS_CLICKHOUSE_CLUSTER ? { cluster: v.SPANLENS_CLICKHOUSE_CLUSTER } : {}),
      ...(v.SPANLENS_CLICKHOUSE_NODES ? { nodes: v.SPANLENS_CLICKHOUSE_NODES } : {}),
      retentionDays: v.SPANLENS_RETENTION_DAYS,
      embeddedNice: v.SPANLENS_EMBEDDED_NICE,
    },
    clickhouseServe: {
      host: v.SPANLENS_CLICKHOUSE_SERVE_HOST,
      httpPort: v.SPANLENS_CLICKHOUSE_SERVE_HTTP_PORT,
      tcpPort: v.SPANLENS_CLICKHOUSE_SERVE_TCP_PORT,
      ...(v.SPANLENS_CLICKHOUSE_SERVE_CONFIG_FILE ? { configFile: resolve(cwd, v.SPANLENS_CLICKHOUSE_SERVE_CONFIG_FILE) } : {}),
    },
    ingest: {
      bodyLimitBytes: v.SPANLENS_BODY_LIMIT_BYTES,
      redact: v.SPANLENS_REDACT,
      ...(v.SPANLENS_PRICES_FILE ? { pricesFile: resolve(cwd, v.SPANLENS_PRICES_FILE) } : {}),
      spoolDir: v.SPANLENS_SPOOL_DIR ? resolve(cwd, v.SPANLENS_SPOOL_DIR) : resolve(dataDir, 'spool'),
      spoolMaxBytes: v.SPANLENS_SPOOL_MAX_BYTES,
      spoolFsync: v.SPANLENS_SPOOL_FSYNC,
      batchMaxRows: v.SPANLENS_BATCH_MAX_ROWS,
      batchMaxBytes: v.SPANLENS_BATCH_MAX_BYTES,
      batchMaxAgeMs: v.SPANLENS_BATCH_MAX_AGE_MS,
      // Embedded, a second concurrent insert only takes CPU from the event loop: the
      // ingest bench measured 1 faster and with lower acknowledgement latency on 2 cores.
      insertConcurrency: v.SPANLENS_INSERT_CONCURRENCY ?? (v.SPANLENS_CLICKHOUSE_URL ? 2 : 1),
      maxConcurrentRequests: v.SPANLENS_MAX_CONCURRENT_REQUESTS,
      maxConcurrentRequestsPerProject: Math.min(
        v.SPANLENS_MAX_CONCURRENT_REQUESTS,
        v.SPANLENS_MAX_CONCURRENT_REQUESTS_PER_PROJECT ?? Math.max(1, Math.ceil(v.SPANLENS_MAX_CONCURRENT_REQUESTS / 2)),
      ),
      bodyTimeoutMs: v.SPANLENS_BODY_TIMEOUT_MS,
      spoolProjectShare: v.SPANLENS_SPOOL_PROJECT_SHARE,
      retentionDays: v.SPANLENS_RETENTION_DAYS,
      workers: v.SPANLENS_INGEST_WORKERS,
      contentMergeIntervalMs: v.SPANLENS_CONTENT_MERGE_INTERVAL_MS,
    },
    query: {
      ...(v.SPANLENS_SLO_FILE ? { sloFile: checkedSloFile(resolve(cwd, v.SPANLENS_SLO_FILE)) } : {}),
      sqlMaxExecutionSeconds: v.SPANLENS_SQL_MAX_EXECUTION_SECONDS,
      sqlMaxMemoryBytes: v.SPANLENS_SQL_MAX_MEMORY_BYTES,
      sqlMaxResultRows: v.SPANLENS_SQL_MAX_RESULT_ROWS,
      sqlMaxResultBytes: v.SPANLENS_SQL_MAX_RESULT_BYTES,
      maxExecutionSeconds: v.SPANLENS_QUERY_MAX_EXECUTION_SECONDS,
      maxMemoryBytes: v.SPANLENS_QUERY_MAX_MEMORY_BYTES,
      admission: {
        ...(v.SPANLENS_QUERY_CONCURRENCY_PER_PROJECT !== undefined ? { perProject: v.SPANLENS_QUERY_CONCURRENCY_PER_PROJECT } : {}),
        ...(v.SPANLENS_QUERY_QUEUE_PER_PROJECT !== undefined ? { queuePerProject: v.SPANLENS_QUERY_QUEUE_PER_PROJECT } : {}),
        ...(v.SPANLENS_QUERY_QUEUE_TIMEOUT_SECONDS !== undefined ? { queueTimeoutMs: v.SPANLENS_QUERY_QUEUE_TIMEOUT_SECONDS * 1000 } : {}),
      },
    },
  }
}

/**
 * A value as it may be shown in an error: the user and password of each URL in it
 * (`http://user:pass@host`, or `user:pass@host` without a scheme) replaced by `***`.
 * Everything up to the last `@` of a comma-separated entry goes, so a password with
 * `/`, `:` or `@` in it is hidden whole, whether or not the URL parses.
 */
function maskCredentials(value: string): string {
  return value
    .split(',')
    .map((entry) => {
      const at = entry.lastIndexOf('@')
      if (at < 0) return entry
      const scheme = /^\s*[A-Za-z][A-Za-z0-9+.-]*:\/\//.exec(entry)?.[0] ?? ''
      const start = scheme.length <= at ? scheme.length : 0
      return `${entry.slice(0, start)}***${entry.slice(at)}`
    })
    .join(',')
}

/**
 * A missing or invalid SLO file stops start-up (SPANLENS_SLO_FILE_INVALID naming the file and
 * the problem), as every other bad setting does. Once running, the server re-reads the file
 * when it changes, and a bad edit is answered by the SLO routes until it is fixed.
 */
function checkedSloFile(path: string): string {
  loadSloFile(path)
  return path
}

function grpcConfig(v: EnvValues, cwd: string): GrpcConfig | undefined {
  const port = v.SPANLENS_GRPC_PORT ?? (v.SPANLENS_PORT === 0 ? 0 : 4317)
  if (port === 'off') return undefined
  const { SPANLENS_GRPC_TLS_CERT: cert, SPANLENS_GRPC_TLS_KEY: key } = v
  return {
    host: v.SPANLENS_GRPC_HOST ?? v.SPANLENS_HOST,
    port,
    ...(cert && key ? { tls: { certPath: resolve(cwd, cert), keyPath: resolve(cwd, key) } } : {}),
  }
}

function readConfigFile(path: string): Record<string, unknown> {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    throw errors.CONFIG_FILE_UNREADABLE(path, (err as Error).message, { cause: err })
  }
  let data: unknown
  try {
    data = extname(path) === '.json' ? JSON.parse(text) : parseYaml(text)
  } catch (err) {
    throw errors.CONFIG_FILE_UNREADABLE(path, `not valid ${extname(path) === '.json' ? 'JSON' : 'YAML'}: ${(err as Error).message}`, { cause: err })
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw errors.CONFIG_FILE_UNREADABLE(path, 'expected an object of SPANLENS_* keys')
  }
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(data)) {
    if (key === 'SPANLENS_CONFIG_FILE') continue
    if (!(CONFIG_KEYS as string[]).includes(key)) {
      throw errors.CONFIG_INVALID(`${key} (in ${path}): unknown setting; expected one of ${CONFIG_KEYS.join(', ')}`)
    }
    out[key] = typeof value === 'number' || typeof value === 'boolean' ? value : value === null ? undefined : String(value)
  }
  return out
}

/**
 * A key opens one project with one access. Given twice the same way (in the list and
 * the file) it is harmless; given for two projects, or as both a full and an ingest
 * key, which one a request gets would depend on the order of the lists.
 */
function checkKeysUnambiguous(keys: readonly ApiKey[]): void {
  const seen = new Map<string, ApiKey>()
  for (const k of keys) {
    const first = seen.get(k.key)
    if (!first) seen.set(k.key, k)
    else if (first.project !== k.project || first.access !== k.access) {
      const as = (x: ApiKey) => `${x.access === 'ingest' ? 'an ingest key' : 'a key'} of project ${x.project}`
      throw errors.CONFIG_INVALID(`API keys: one key is given as ${as(first)} and as ${as(k)}; give each key once`)
    }
  }
}

/** One `project:key` per line; `#` comments and blank lines ignored. */
function readKeysFile(path: string): ApiKey[] {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    throw errors.CONFIG_FILE_UNREADABLE(path, (err as Error).message, { cause: err })
  }
  const joined = text
    .split('\n')
    .map((l) => l.replace(/#.*$/, '').trim())
    .filter(Boolean)
    .join(',')
  const parsed = envSchema.shape.SPANLENS_API_KEYS.safeParse(joined)
  if (!parsed.success || parsed.data === undefined) {
    throw errors.CONFIG_INVALID(`SPANLENS_API_KEYS_FILE (${path}): ${parsed.error?.issues[0]?.message ?? 'no keys found'}`)
  }
  return parsed.data
}

/**
 * clickhouse-js's request timeout counts from the last byte received, and a query that
 * aggregates sends nothing until its end: one running 30–60 s under the default limits met
 * the 30 s timeout first and answered 503 SPANLENS_STORE_UNREACHABLE while ClickHouse ran on.
 * With progress headers (as clickhouse-js's docs advise for long queries) ClickHouse sends one
 * at most every `interval` while the query reads, and its own limit answers. A third of the
 * timeout leaves two headers' room for a late one. Node reads at most 16 KiB of headers, ~80 of
 * ClickHouse's progress headers: a sixtieth of the longest query limit keeps a query that runs to
 * its limit under that, as long as that is below half the timeout (the defaults: 10 s for 30 s
 * and 60 s). A longer limit needs a longer timeout (docs/configuration.md).
 */
function progressIntervalMs(requestTimeoutMs: number, longestLimitMs: number): number {
  return Math.max(100, Math.floor(Math.min(requestTimeoutMs / 2, Math.max(requestTimeoutMs / 3, longestLimitMs / 60))))
}
