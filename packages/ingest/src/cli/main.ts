import { parseCliArgs } from '@spanlens/query/cli-args'
import { loadConfig, type LoadConfigOptions } from '../config/load.js'
import { isSpanlensError } from '../errors.js'
import { packageVersion } from '../version.js'

const QUERY_COMMANDS = new Set(['traces', 'drift', 'bias', 'slo', 'sql'])
/** The server commands `help <command>` forwards to `<command> --help`. */
const HELP_TOPICS = new Set(['serve', 'migrate', 'clickhouse', 'dead-letter'])

const USAGE = `usage: spanlens <command>

  serve      start the server (OTLP ingest, query API) on SPANLENS_HOST:SPANLENS_PORT,
             and OTLP/gRPC ingest on SPANLENS_GRPC_PORT (4317; off to turn it off)
  migrate    apply pending ClickHouse migrations and exit
  clickhouse serve [--data-dir DIR] [--host H] [--http-port P] [--tcp-port P] [--config-file F]
             run the bundled ClickHouse engine as a server on SPANLENS_DATA_DIR/clickhouse
             (HTTP 8123 and native TCP 9000 on 127.0.0.1 by default; see docs/clickhouse.md)
  dead-letter list | show <name> | replay [<name>...] | drop <name> | stuck | set-aside <segment>
             rows ClickHouse refused after they were acknowledged, and spool segments
             whose inserts keep failing (see dead-letter --help)
  traces | drift | bias | slo | sql
             query a running server over HTTP (--url, --api-key; see --help of each)
  help <command>, --version

Configuration comes from SPANLENS_* environment variables (see README.md).`

/**
 * Runs one `spanlens` command: its exit code, or -1 for a server that keeps running (serve,
 * which exits on a signal). Output goes to process.stdout and process.stderr; bin.ts turns
 * the code and a thrown error into the process's exit.
 */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv
  switch (command) {
    case 'serve':
      return noOptions('serve', SERVE_USAGE, rest) ?? serve()
    case 'migrate':
      return noOptions('migrate', MIGRATE_USAGE, rest) ?? runMigrate()
    case 'clickhouse':
      return clickhouse(rest)
    case 'dead-letter': {
      const { runDeadLetter } = await import('./dead-letter.js')
      // The config is read once the arguments are known good.
      return runDeadLetter(rest, () => loadConfig(), { out: (line) => process.stdout.write(`${line}\n`), err: (line) => process.stderr.write(`${line}\n`) })
    }
    case '-v':
    case '--version':
    case 'version':
      process.stdout.write(`spanlens ${packageVersion()}\n`)
      return 0
    case 'help':
      // `help traces` is `traces --help`.
      if (rest[0] !== undefined && (QUERY_COMMANDS.has(rest[0]) || HELP_TOPICS.has(rest[0]))) return main([rest[0], '--help'])
      process.stdout.write(`${USAGE}\n`)
      return 0
    case undefined:
    case '-h':
    case '--help':
      process.stdout.write(`${USAGE}\n`)
      return command === undefined ? 1 : 0
    default: {
      if (QUERY_COMMANDS.has(command)) {
        const { runCli } = await import('@spanlens/query')
        return runCli([command, ...rest])
      }
      process.stderr.write(`unknown command ${JSON.stringify(command)}\n${USAGE}\n`)
      return 1
    }
  }
}

const SERVE_USAGE = `usage: spanlens serve

Starts the server: OTLP ingest and the query API on SPANLENS_HOST:SPANLENS_PORT
(127.0.0.1:4318), OTLP/gRPC ingest on SPANLENS_GRPC_PORT (4317; off to turn it off),
data in SPANLENS_DATA_DIR (.spanlens) or the ClickHouse of SPANLENS_CLICKHOUSE_URL.
It takes no options: configuration is SPANLENS_* environment variables (README.md,
docs/ingest.md). SIGTERM or SIGINT stops it after flushing the spool.`

const MIGRATE_USAGE = `usage: spanlens migrate

Applies pending ClickHouse migrations and exits: on SPANLENS_DATA_DIR (.spanlens), or
on the ClickHouse of SPANLENS_CLICKHOUSE_URL. It takes no options: configuration is
SPANLENS_* environment variables (README.md). \`spanlens serve\` also migrates at start.`

/**
 * A command that takes no options or arguments: undefined to run it, or the exit
 * code after printing its usage (-h/--help: 0) or refusing what it was given (1).
 * Checked before any config is read: \`serve --help\` must not start a server.
 */
function noOptions(name: string, usage: string, args: string[]): number | undefined {
  let help: boolean | undefined
  try {
    ;({
      values: { help },
    } = parseCliArgs({ args, options: { help: { type: 'boolean', short: 'h' } }, allowPositionals: false }))
  } catch (err) {
    process.stderr.write(`spanlens ${name}: ${(err as Error).message}\n${usage}\n`)
    return 1
  }
  if (!help) return undefined
  process.stdout.write(`${usage}\n`)
  return 0
}

// Commands import what they use when they run: the engine process of
// `clickhouse serve` must not load chdb's Node addon (a second engine binding).
async function serve(): Promise<number> {
  const { buildServer } = await import('../server.js')
  const { createLogger } = await import('../logger.js')
  const { assertCanListen, listenError } = await import('../listen.js')
  const config = loadConfig()
  const http = { transport: 'HTTP', host: config.host, port: config.port } as const
  // Before the store opens and migrations run: an address taken or not this machine's
  // stops start-up with its code, not a stack trace once the schema has been touched.
  await assertCanListen(http)
  if (config.grpc) await assertCanListen({ transport: 'gRPC', host: config.grpc.host, port: config.grpc.port })
  const logger = createLogger(config.logLevel)
  const app = await buildServer(config, { logger })
  let closing = false
  const shutdown = (signal: string) => {
    if (closing) return
    closing = true
    logger.info({ signal }, 'shutting down: no new requests, flushing the spool')
    app.close().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed')
        process.exit(1)
      },
    )
  }
  process.on('SIGTERM', () => shutdown('SIGTERM'))
  process.on('SIGINT', () => shutdown('SIGINT'))
  // Started while ClickHouse was unreachable, and refused once it answered (the opener logged
  // it): the server stops as start-up would have, with the same code, to be restarted fixed.
  app.spanlens.storeOpened.catch((err: unknown) => {
    if (closing) return
    closing = true
    void app.close().finally(() => {
      process.stderr.write(`spanlens: ${isSpanlensError(err) ? `${err.code}: ${err.message}` : String(err)}\n`)
      process.exit(isSpanlensError(err) ? 2 : 1)
    })
  })
  // Taken in the moment since the check above: the same typed error, the store closed first.
  const address = await app.listen({ host: config.host, port: config.port }).catch(async (err: unknown) => {
    await app.close()
    throw listenError(err, http) ?? err
  })
  const grpc = await app.spanlens.grpc?.listen().catch(async (err: unknown) => {
    await app.close()
    throw err
  })
  logger.info(
    { address, grpc, store: app.spanlens.store.target, projects: config.apiKeys.length === 0 ? ['default'] : [...new Set(config.apiKeys.map((k) => k.project))] },
    'spanlens is listening',
  )
  return -1
}

async function runMigrate(): Promise<number> {
  const { createStore, migrate } = await import('../store/index.js')
  const config = loadConfig()
  const store = await createStore(config.store)
  try {
    // Progress on stderr, the result on stdout: a backfill over a large store runs for minutes.
    const result = await migrate(store, {
      log: (msg, fields) => {
        if (msg === 'applying migration') process.stderr.write(`applying ${String(fields?.file)}${fields?.node ? ` on ${String(fields.node)}` : ''}\n`)
      },
    })
    process.stdout.write(
      result.applied.length === 0
        ? `schema is up to date (${result.alreadyApplied} migrations applied earlier) on ${store.target}\n`
        : `applied ${result.applied.join(', ')} on ${store.target}\n`,
    )
    return 0
  } finally {
    await store.close()
  }
}

const CLICKHOUSE_USAGE = `usage: spanlens clickhouse serve [options]

  --data-dir DIR      SPANLENS_DATA_DIR (default .spanlens); the engine's data is DIR/clickhouse
  --host HOST         SPANLENS_CLICKHOUSE_SERVE_HOST (default 127.0.0.1); another address needs
                      SPANLENS_CLICKHOUSE_PASSWORD
  --http-port PORT    SPANLENS_CLICKHOUSE_SERVE_HTTP_PORT (default 8123)
  --tcp-port PORT     SPANLENS_CLICKHOUSE_SERVE_TCP_PORT (default 9000)
  --config-file FILE  SPANLENS_CLICKHOUSE_SERVE_CONFIG_FILE: ClickHouse XML/YAML merged into the
                      generated config (remote_servers, macros)

The user is SPANLENS_CLICKHOUSE_USER (default "default") with SPANLENS_CLICKHOUSE_PASSWORD.`

async function clickhouse(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv
  if (sub === '__engine') {
    // Internal: the engine process that serveClickHouse spawns (clickhouse-server/engine.ts).
    const { runEngineFromParent } = await import('../clickhouse-server/engine.js')
    return runEngineFromParent()
  }
  if (sub !== 'serve') {
    process.stdout.write(`${CLICKHOUSE_USAGE}\n`)
    return sub === '-h' || sub === '--help' ? 0 : 1
  }
  let parsed
  try {
    parsed = parseClickHouseArgs(rest)
  } catch (err) {
    process.stderr.write(`spanlens clickhouse serve: ${(err as Error).message}\n${CLICKHOUSE_USAGE}\n`)
    return 1
  }
  const values = parsed.values
  if (values.help) {
    process.stdout.write(`${CLICKHOUSE_USAGE}\n`)
    return 0
  }
  const overrides: LoadConfigOptions['overrides'] = {
    SPANLENS_DATA_DIR: values['data-dir'],
    SPANLENS_CLICKHOUSE_SERVE_HOST: values.host,
    SPANLENS_CLICKHOUSE_SERVE_HTTP_PORT: values['http-port'],
    SPANLENS_CLICKHOUSE_SERVE_TCP_PORT: values['tcp-port'],
    SPANLENS_CLICKHOUSE_SERVE_CONFIG_FILE: values['config-file'],
  }
  const { serveClickHouse } = await import('../clickhouse-server/serve.js')
  return serveClickHouse(loadConfig({ overrides }))
}

function parseClickHouseArgs(args: string[]) {
  return parseCliArgs({
    args,
    options: {
      'data-dir': { type: 'string' },
      host: { type: 'string' },
      'http-port': { type: 'string' },
      'tcp-port': { type: 'string' },
      'config-file': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  })
}
