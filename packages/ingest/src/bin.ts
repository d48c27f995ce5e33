#!/usr/bin/env node
import { buildServer } from './server.js'
import { loadConfig } from './config/load.js'
import { createLogger } from './logger.js'
import { createStore, migrate } from './store/index.js'
import { isSpanlensError } from './errors.js'
import { runCli } from '@spanlens/query'

const QUERY_COMMANDS = new Set(['traces', 'drift', 'bias', 'slo', 'sql'])

const USAGE = `usage: spanlens <command>

  serve      start the server (OTLP ingest, query API) on SPANLENS_HOST:SPANLENS_PORT
  migrate    apply pending ClickHouse migrations and exit
  traces | drift | bias | slo | sql
             query a running server over HTTP (--url, --api-key; see --help of each)

Configuration comes from SPANLENS_* environment variables (see README.md).`

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv
  switch (command) {
    case 'serve':
      return serve()
    case 'migrate':
      return runMigrate()
    case undefined:
    case '-h':
    case '--help':
    case 'help':
      process.stdout.write(`${USAGE}\n`)
      return command === undefined ? 1 : 0
    default: {
      if (QUERY_COMMANDS.has(command)) return runCli([command, ...rest])
      process.stderr.write(`unknown command ${JSON.stringify(command)}\n${USAGE}\n`)
      return 1
    }
  }
}

async function serve(): Promise<number> {
  const config = loadConfig()
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
  const address = await app.listen({ host: config.host, port: config.port })
  logger.info(
    { address, store: app.spanlens.store.target, projects: config.apiKeys.length === 0 ? ['default'] : [...new Set(config.apiKeys.map((k) => k.project))] },
    'spanlens is listening',
  )
  return -1
}

async function runMigrate(): Promise<number> {
  const config = loadConfig()
  const store = await createStore(config.store)
  try {
    const result = await migrate(store)
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

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exit(code)
  },
  (err: unknown) => {
    if (isSpanlensError(err)) {
      process.stderr.write(`spanlens: ${err.code}: ${err.message}\n`)
      process.exit(2)
    }
    process.stderr.write(`spanlens: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`)
    process.exit(1)
  },
)
