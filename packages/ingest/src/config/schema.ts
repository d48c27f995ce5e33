import { z } from 'zod'
import { parseOriginRule, type OriginRule } from '../http/cors-origins.js'

/**
 * Every setting Spanlens reads, keyed by its environment variable name. The same
 * names are accepted as keys of the optional config file (SPANLENS_CONFIG_FILE);
 * the environment wins over the file. Nothing outside src/config reads process.env.
 */

const int = (min: number, max: number) =>
  z.coerce
    .number({ error: `expected an integer between ${min} and ${max}` })
    .int({ error: `expected an integer between ${min} and ${max}` })
    .min(min, { error: `expected an integer between ${min} and ${max}` })
    .max(max, { error: `expected an integer between ${min} and ${max}` })

const bool = z
  .union([z.boolean(), z.enum(['true', 'false', '1', '0', 'yes', 'no', 'on', 'off'])], {
    error: 'expected true or false',
  })
  .transform((v) => v === true || v === 'true' || v === '1' || v === 'yes' || v === 'on')

const nonEmpty = z.string().trim().min(1, { error: 'expected a non-empty string' })

/** Where ClickHouse's HTTP interface is, as @clickhouse/client takes it. */
export interface ClickHouseEndpoint {
  /** Scheme, host and port (`http://ch.internal:8123`): the client's `url`. */
  url: string
  /** A reverse proxy's prefix (`/clickhouse/`), exactly as written: the client's `pathname`. */
  pathname?: string
}

/**
 * A ClickHouse server's address, or a reverse proxy's address and the path under which it
 * forwards to ClickHouse. clickhouse-js reads more out of a URL than its address, and what it
 * reads wins over the options Spanlens passes: a path becomes the database
 * (http://h:8123/proxy put every table in `proxy` while SPANLENS_CLICKHOUSE_DATABASE
 * stayed empty, and the SQL route then refused every query), userinfo becomes the
 * user and password, a query string becomes settings or, unknown, a throw at start.
 * So the URL is split here, once: the client gets the address as `url` and the path as
 * `pathname`, which it puts in front of every request's path (`/clickhouse/?query=…`,
 * `/clickhouse//ping`, which a proxy merging slashes, as nginx does by default, reads as
 * `/clickhouse/ping`); the other parts each have the variable that says them instead.
 */
const url = z
  .string()
  .trim()
  .transform((v, ctx): ClickHouseEndpoint => {
    let u: URL
    try {
      u = new URL(v)
    } catch {
      u = new URL('invalid:')
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') {
      ctx.addIssue({ code: 'custom', message: 'expected an http:// or https:// URL such as http://localhost:8123' })
    } else if (u.username !== '' || u.password !== '') {
      ctx.addIssue({ code: 'custom', message: 'credentials in the URL are not read; set SPANLENS_CLICKHOUSE_USER and SPANLENS_CLICKHOUSE_PASSWORD' })
    } else if (u.search !== '' || u.hash !== '') {
      ctx.addIssue({
        code: 'custom',
        message: 'expected no query string or fragment (database: SPANLENS_CLICKHOUSE_DATABASE; TLS: https:// and SPANLENS_CLICKHOUSE_CA_CERT)',
      })
    } else {
      return { url: u.origin, ...(u.pathname === '/' ? {} : { pathname: u.pathname }) }
    }
    return z.NEVER
  })

/** `http://n1:8123,http://n2:8123`: each URL checked like SPANLENS_CLICKHOUSE_URL. */
const urlList = z
  .string()
  .transform((v) => v.split(',').map((u) => u.trim()).filter((u) => u !== ''))
  .pipe(z.array(url).min(1, { error: 'expected a comma-separated list of http:// URLs' }))

/** A port 0–65535 (0: a free one), or `off`. Numbers come as numbers from a config file. */
const portOrOff = z.union([z.number(), z.string()]).transform((raw, ctx): number | 'off' => {
  const v = String(raw).trim().toLowerCase()
  if (v === 'off') return 'off'
  const n = Number(v)
  if (v === '' || !Number.isInteger(n) || n < 0 || n > 65535) {
    ctx.addIssue({ code: 'custom', message: 'expected a port between 0 and 65535, or off' })
    return z.NEVER
  }
  return n
})

const identifier = z
  .string()
  .trim()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: 'expected a ClickHouse identifier (letters, digits, _)' })

/** `project:key,project2:key2`; a project may have several keys (key rotation). */
const apiKeyList = z
  .string()
  .trim()
  .transform((raw, ctx) => {
    const out: Array<{ project: string; key: string }> = []
    for (const part of raw.split(',').map((p) => p.trim()).filter(Boolean)) {
      const idx = part.indexOf(':')
      const project = idx > 0 ? part.slice(0, idx).trim() : ''
      const key = idx > 0 ? part.slice(idx + 1).trim() : ''
      if (!/^[A-Za-z0-9_.-]{1,64}$/.test(project) || key.length < 8) {
        ctx.addIssue({
          code: 'custom',
          message:
            'expected project:key pairs separated by commas, project of [A-Za-z0-9_.-] and a key of at least 8 characters',
        })
        return z.NEVER
      }
      out.push({ project, key })
    }
    return out
  })

/** `https://app.example.com,https://*.example.com,http://localhost:5173`, or `*` (http/cors-origins.ts). */
const corsOrigins = z.string().transform((raw, ctx) => {
  const out: OriginRule[] = []
  for (const entry of raw.split(',').map((e) => e.trim()).filter(Boolean)) {
    const rule = parseOriginRule(entry)
    if ('error' in rule) {
      ctx.addIssue({ code: 'custom', message: rule.error })
      return z.NEVER
    }
    out.push(rule)
  }
  return out
})

/** Request header names (RFC 9110 tokens), as browsers send them in a preflight. */
const headerNames = z
  .string()
  .transform((v) => v.split(',').map((h) => h.trim().toLowerCase()).filter(Boolean))
  .pipe(z.array(z.string().regex(/^[!#$%&'*+.^_`|~0-9a-z-]+$/, { error: 'expected header names separated by commas' })))

const REDACT_RULES = ['email', 'phone', 'card', 'secret'] as const
export type RedactRule = (typeof REDACT_RULES)[number]

const redact = z
  .string()
  .trim()
  .transform((raw, ctx): RedactRule[] => {
    const v = raw.toLowerCase()
    if (v === '' || v === 'off' || v === 'false' || v === '0' || v === 'none') return []
    if (v === 'on' || v === 'true' || v === '1' || v === 'all') return [...REDACT_RULES]
    const parts = v.split(',').map((p) => p.trim()).filter(Boolean)
    const bad = parts.filter((p) => !(REDACT_RULES as readonly string[]).includes(p))
    if (bad.length > 0) {
      ctx.addIssue({
        code: 'custom',
        message: `expected off, on, or a comma list of ${REDACT_RULES.join(', ')}; unknown: ${bad.join(', ')}`,
      })
      return z.NEVER
    }
    return parts as RedactRule[]
  })

export const envSchema = z.object({
  SPANLENS_HOST: nonEmpty.default('127.0.0.1'),
  SPANLENS_PORT: int(0, 65535).default(4318),
  // OTLP/gRPC (grpc/server.ts). Default 4317, or 0 when SPANLENS_PORT is 0 (load.ts):
  // servers on a free HTTP port (tests, benches) must not all claim 4317.
  SPANLENS_GRPC_PORT: portOrOff.optional(),
  SPANLENS_GRPC_HOST: nonEmpty.optional(),
  SPANLENS_GRPC_TLS_CERT: nonEmpty.optional(),
  SPANLENS_GRPC_TLS_KEY: nonEmpty.optional(),
  SPANLENS_DATA_DIR: nonEmpty.default('.spanlens'),
  // Default <data dir>/spool. Another volume keeps the spool's synced writes out of ClickHouse's write bursts.
  SPANLENS_SPOOL_DIR: nonEmpty.optional(),
  SPANLENS_LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
      error: 'expected one of fatal, error, warn, info, debug, trace, silent',
    })
    .default('info'),
  SPANLENS_API_KEYS: apiKeyList.optional(),
  SPANLENS_API_KEYS_FILE: nonEmpty.optional(),
  // Keys that only send data (OTLP, POST /api/v1/scores): safe to ship in a browser page (auth.ts).
  SPANLENS_INGEST_KEYS: apiKeyList.optional(),
  // The operator's key for the admin routes (routes/admin.ts); none: those routes do not exist.
  SPANLENS_ADMIN_KEY: z.string().trim().min(16, { error: 'expected a key of at least 16 characters' }).optional(),
  SPANLENS_CORS_ORIGINS: corsOrigins.optional(),
  SPANLENS_CORS_HEADERS: headerNames.optional(),

  SPANLENS_CLICKHOUSE_URL: url.optional(),
  SPANLENS_CLICKHOUSE_USER: nonEmpty.default('default'),
  SPANLENS_CLICKHOUSE_PASSWORD: z.string().default(''),
  SPANLENS_CLICKHOUSE_DATABASE: identifier.default('spanlens'),
  SPANLENS_CLICKHOUSE_CA_CERT: nonEmpty.optional(),
  SPANLENS_CLICKHOUSE_REQUEST_TIMEOUT_MS: int(100, 3_600_000).default(30_000),
  SPANLENS_CLICKHOUSE_CLUSTER: identifier.optional(),
  // Per-node DDL (store/migrate.ts): every node of SPANLENS_CLICKHOUSE_CLUSTER, for clusters
  // without distributed DDL (no Keeper); migrations then run node by node without ON CLUSTER.
  SPANLENS_CLICKHOUSE_NODES: urlList.optional(),
  SPANLENS_RETENTION_DAYS: int(0, 36_500).default(90),
  // Nice value for embedded ClickHouse's threads (store/thread-priority.ts); 0 leaves them alone.
  SPANLENS_EMBEDDED_NICE: int(0, 19).default(10),
  // `spanlens clickhouse serve`: the bundled engine as a ClickHouse server on SPANLENS_DATA_DIR/clickhouse.
  SPANLENS_CLICKHOUSE_SERVE_HOST: nonEmpty.default('127.0.0.1'),
  SPANLENS_CLICKHOUSE_SERVE_HTTP_PORT: int(1, 65535).default(8123),
  SPANLENS_CLICKHOUSE_SERVE_TCP_PORT: int(1, 65535).default(9000),
  SPANLENS_CLICKHOUSE_SERVE_CONFIG_FILE: nonEmpty.optional(),

  // Connections held open at once, HTTP and gRPC together (http/connection-limit.ts).
  // Default from the open-file limit (config/open-files.ts).
  SPANLENS_MAX_CONNECTIONS: int(1, 10_000_000).optional(),
  // A request's headers must be whole this long after its first byte (or the connection's start).
  SPANLENS_HEADERS_TIMEOUT_MS: int(100, 3_600_000).default(10_000),
  SPANLENS_BODY_LIMIT_BYTES: int(1024, 1024 * 1024 * 1024).default(64 * 1024 * 1024),
  SPANLENS_REDACT: redact.default([]),
  SPANLENS_PRICES_FILE: nonEmpty.optional(),
  SPANLENS_SPOOL_MAX_BYTES: int(1024 * 1024, Number.MAX_SAFE_INTEGER).default(1024 * 1024 * 1024),
  SPANLENS_SPOOL_FSYNC: z
    .enum(['always', 'interval', 'never'], { error: 'expected always, interval or never' })
    .default('always'),
  // Bigger inserts cost ClickHouse much less per row (chDB: ~60 us/row at 9k rows, ~38 at 18k,
  // ~30 at 33k). Since segments are read by ClickHouse from the file, not from JS memory,
  // 32 MiB keeps the bench's peak RSS near 800 MiB; 64 MiB reached 983 (bench/README.md).
  SPANLENS_BATCH_MAX_ROWS: int(1, 1_000_000).default(40_000),
  SPANLENS_BATCH_MAX_BYTES: int(1024, 1024 * 1024 * 1024).default(32 * 1024 * 1024),
  // At most 1 s between a span's acknowledgement and the start of its insert; at moderate
  // rates each insert at 1000 ms is twice as big as at 500 ms.
  SPANLENS_BATCH_MAX_AGE_MS: int(1, 1000).default(1000),
  // Default by mode (load.ts): embedded ClickHouse shares the CPU with the event loop.
  SPANLENS_INSERT_CONCURRENCY: int(1, 64).optional(),
  SPANLENS_MAX_CONCURRENT_REQUESTS: int(1, 100_000).default(256),
  // Default half of SPANLENS_MAX_CONCURRENT_REQUESTS (load.ts): one project's slow or
  // abusive clients can hold at most this many, so another project always gets in.
  SPANLENS_MAX_CONCURRENT_REQUESTS_PER_PROJECT: int(1, 100_000).optional(),
  // A body still arriving after this long is refused (408): slow uploads cannot hold slots.
  SPANLENS_BODY_TIMEOUT_MS: int(100, 3_600_000).default(30_000),
  // Share of SPANLENS_SPOOL_MAX_BYTES one project's unconfirmed rows may fill.
  SPANLENS_SPOOL_PROJECT_SHARE: z.coerce
    .number({ error: 'expected a number in (0, 1]' })
    .gt(0, { error: 'expected a number in (0, 1]' })
    .max(1, { error: 'expected a number in (0, 1]' })
    .default(0.5),
  SPANLENS_INGEST_WORKERS: int(0, 64).default(0),
  // jobs/content-merge.ts: how often content from GenAI logs is merged onto its spans.
  SPANLENS_CONTENT_MERGE_INTERVAL_MS: int(100, 3_600_000).default(5000),

  SPANLENS_SLO_FILE: nonEmpty.optional(),
  SPANLENS_SQL_MAX_EXECUTION_SECONDS: int(1, 3600).default(30),
  SPANLENS_SQL_MAX_MEMORY_BYTES: int(1024 * 1024, Number.MAX_SAFE_INTEGER).default(2 * 1024 * 1024 * 1024),
  SPANLENS_SQL_MAX_RESULT_ROWS: int(1, 10_000_000).default(10_000),
  // A 10,000-row `SELECT * FROM spans` of chat spans with ~1 KiB of prompt and completion
  // weighs 23 MB as JSON; 64 MiB admits that with room for longer content. The server holds
  // about 9x a result's bytes while it parses and re-serialises it (a 500 MB result took
  // RSS to 4.4 GB), and no V8 string holds more than 2^29 - 24 characters: at most 256 MiB.
  SPANLENS_SQL_MAX_RESULT_BYTES: int(1024, 256 * 1024 * 1024).default(64 * 1024 * 1024),
  // Every other query route's queries (packages/query/src/db.ts, withQueryLimits). At 10 million
  // spans the slowest route query measured ~9 s (bench/README.md): 60 s stops only the runaway.
  SPANLENS_QUERY_MAX_EXECUTION_SECONDS: int(1, 3600).default(60),
  SPANLENS_QUERY_MAX_MEMORY_BYTES: int(1024 * 1024, Number.MAX_SAFE_INTEGER).default(2 * 1024 * 1024 * 1024),
  // Per-project query admission (packages/query/src/admission.ts); defaults by mode there.
  SPANLENS_QUERY_CONCURRENCY_PER_PROJECT: int(1, 64).optional(),
  SPANLENS_QUERY_QUEUE_PER_PROJECT: int(0, 1000).optional(),
  SPANLENS_QUERY_QUEUE_TIMEOUT_SECONDS: int(1, 3600).optional(),

  SPANLENS_TRUST_PROXY: bool.default(false),
})

export type EnvValues = z.output<typeof envSchema>
export const CONFIG_KEYS = Object.keys(envSchema.shape) as Array<keyof EnvValues>
