import { ClickHouseLogLevel, type ErrorLogParams, type LogParams, type Logger as ClientLogger, type WarnLogParams } from '@clickhouse/client'
import type { Logger } from 'pino'

/**
 * @clickhouse/client's own log lines, through pino. By default the client writes
 * every failed request to stderr itself (multi-line, not JSON, whatever
 * SPANLENS_LOG_LEVEL says) and also throws the error to its caller, which logs it
 * with `{ err }` where it decides what the failure means. So the client's errors
 * go to debug, its warnings (retried sockets, unexpected replies) stay warnings,
 * and without a logger (a library caller of createStore) it is silent. A failed ping
 * is the one warning that is a request's error returned to its caller too (the store's
 * open, /readyz's check): at debug with the errors, or a server waiting for an
 * unreachable ClickHouse logged a warning per attempt to open it and per probe.
 */
export function clientLog(logger: Logger | undefined): { LoggerClass: new () => ClientLogger; level: ClickHouseLogLevel } {
  if (!logger) return { LoggerClass: Silent, level: ClickHouseLogLevel.OFF }
  const log = logger.child({ component: 'clickhouse-client' })
  const fields = ({ module, args }: LogParams) => ({ module, ...args })
  class ToPino implements ClientLogger {
    trace(p: LogParams) {
      log.trace(fields(p), p.message)
    }
    debug(p: LogParams) {
      log.debug(fields(p), p.message)
    }
    info(p: LogParams) {
      log.debug(fields(p), p.message)
    }
    warn(p: WarnLogParams) {
      const line = { ...fields(p), ...(p.err ? { err: p.err } : {}) }
      if (p.message === PING_FAILED) log.debug(line, p.message)
      else log.warn(line, p.message)
    }
    error(p: ErrorLogParams) {
      log.debug({ ...fields(p), err: p.err }, p.message)
    }
  }
  return { LoggerClass: ToPino, level: ClickHouseLogLevel.WARN }
}

/** What @clickhouse/client 1.23 warns when `ping()` fails, before it returns the error (`<op>: HTTP request error.`). */
const PING_FAILED = 'Ping: HTTP request error.'

class Silent implements ClientLogger {
  trace() {}
  debug() {}
  info() {}
  warn() {}
  error() {}
}
