import { createHash } from 'node:crypto'

/** What the served ClickHouse listens on, stores in and lets in. */
export interface ServedClickHouse {
  /** The data directory (`--path`); ClickHouse locks it while it runs. */
  dataDir: string
  host: string
  httpPort: number
  tcpPort: number
  username: string
  /** Empty: no password (loopback only, enforced by the caller). */
  password: string
  /** Merged into the generated config (remote_servers, macros, ...), through config.d/. */
  extraConfigFile?: string
}

/**
 * The statement that keeps clickhouse-local serving: one row a second for
 * ages, cancelled by `stopStatement` (KILL QUERY) when the engine is asked to
 * stop. It needs no privilege, which matters when a password is set (see
 * engineUsersXml). `token` tells this engine's statement from anyone else's.
 */
export function blockingStatement(token: string): string {
  return `SELECT sleepEachRow(1), 'spanlens-engine-${token}' FROM numbers(1000000000000000) SETTINGS max_block_size = 1 FORMAT Null`
}

/** Ends blockingStatement; its own text starts with KILL, so it never matches itself. */
export function stopStatement(token: string): string {
  return `KILL QUERY WHERE startsWith(query, 'SELECT sleepEachRow(1), \\'spanlens-engine-${token}\\'') SYNC`
}

/**
 * argv for chdb_query_cmdline. `--ignore-error`: without it, the cancelled
 * blocking statement made the engine process exit with 1 from inside
 * clickhouse-local instead of returning. It also hides a failed
 * `SYSTEM START LISTEN`, so the supervisor checks both listeners itself.
 */
export function engineArgv(served: ServedClickHouse, configFile: string, token: string): string[] {
  return [
    'clickhouse',
    `--config-file=${configFile}`,
    `--path=${served.dataDir}`,
    '--ignore-error',
    '--multiquery',
    `--query=SYSTEM START LISTEN TCP; SYSTEM START LISTEN HTTP; ${blockingStatement(token)}`,
  ]
}

/** The user clickhouse-local's own session logs in as, always without a password. */
export const ENGINE_SESSION_USER = 'default'

/**
 * The generated main config. clickhouse-local reads users only from the file
 * that `users_config` names (without it, a built-in `default` user with no
 * password), so the users are in a file of their own.
 */
export function engineConfigXml(served: ServedClickHouse, usersFile: string): string {
  return `<clickhouse>
  <listen_host>${xmlText(served.host)}</listen_host>
  <http_port>${served.httpPort}</http_port>
  <tcp_port>${served.tcpPort}</tcp_port>
  <users_config>${xmlText(usersFile)}</users_config>
</clickhouse>
`
}

/**
 * Users: the served user with the password (as its SHA-256) and every
 * privilege; and, when that is not `default`, a `default` user for
 * clickhouse-local's own session. That session always logs in as `default`,
 * without a password, from 127.0.0.1 (it has no --user/--password options:
 * `Unrecognized option '--password=...'`), and clickhouse-local has no
 * writable user storage to change it afterwards (`no writeable access storage`).
 * So that `default` may log in from 127.0.0.1 only and holds only SYSTEM LISTEN,
 * enough to start the listeners; its blocking statement needs no privilege.
 */
export function engineUsersXml(served: ServedClickHouse): string {
  if (served.password !== '' && served.username === ENGINE_SESSION_USER) {
    throw new Error(
      `with a password, the served user cannot be ${ENGINE_SESSION_USER}: clickhouse-local's own session logs in as ` +
        `${ENGINE_SESSION_USER} without one; set SPANLENS_CLICKHOUSE_USER to another name (e.g. spanlens)`,
    )
  }
  const auth =
    served.password === ''
      ? '<password></password>'
      : `<password_sha256_hex>${createHash('sha256').update(served.password).digest('hex')}</password_sha256_hex>`
  const user = xmlName(served.username)
  const sessionUser =
    user === ENGINE_SESSION_USER
      ? ''
      : `
    <${ENGINE_SESSION_USER}>
      <password></password>
      <networks><ip>127.0.0.1</ip></networks>
      <profile>default</profile>
      <quota>default</quota>
      <grants><query>GRANT SYSTEM LISTEN ON *.*</query></grants>
    </${ENGINE_SESSION_USER}>`
  return `<clickhouse>
  <profiles><default/></profiles>
  <quotas><default/></quotas>
  <users>
    <${user}>
      ${auth}
      <networks><ip>::/0</ip></networks>
      <profile>default</profile>
      <quota>default</quota>
      <access_management>1</access_management>
    </${user}>${sessionUser}
  </users>
</clickhouse>
`
}

function xmlText(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
}

/** A user name is an XML element name in users config; refuse what would not parse as one. */
function xmlName(value: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_.-]*$/.test(value)) {
    throw new Error(`ClickHouse user name ${JSON.stringify(value)} must be letters, digits, _ . - (starting with a letter or _)`)
  }
  return value
}

/** Run over HTTP once /ping answers: succeeds only if this engine also serves the native port. */
export function tcpCheckStatement(served: ServedClickHouse, connectHost: string): string {
  const address = connectHost.includes(':') ? `[${connectHost}]:${served.tcpPort}` : `${connectHost}:${served.tcpPort}`
  return `SELECT tcpPort() FROM remote(${sqlString(address)}, system.one, ${sqlString(served.username)}, ${sqlString(served.password)})`
}

function sqlString(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`
}

/** What the engine process gets from the supervisor, as its first IPC message (it holds the password). */
export interface EngineSpec {
  argv: string[]
  /** The supervisor's temporary directory (config, users), removed when the engine ends. */
  runtimeDir: string
  /** How this process ends the blocking statement: this SQL over HTTP, as the served user. */
  stop: { url: string; username: string; password: string; sql: string }
}

/** Exit codes the supervisor reads. */
export const ENGINE_EXIT = { stopped: 0, returnedOnItsOwn: 3, failedToStart: 4, abandoned: 5 } as const
