import { SpanlensError } from '../errors.js'

/**
 * Errors of `spanlens clickhouse serve`, with stable codes. Their place is the
 * catalogue (../errors.ts) and docs/errors.md; until they move there, this is
 * their one declaration. A data directory held by another engine is the
 * catalogue's SPANLENS_DATA_DIR_LOCKED.
 */
export const serveErrors = {
  UNSAFE_BIND: Object.assign(
    (host: string) =>
      new SpanlensError(
        'SPANLENS_CLICKHOUSE_UNSAFE_BIND',
        `refusing to serve ClickHouse on ${host} without a password: set SPANLENS_CLICKHOUSE_PASSWORD or bind 127.0.0.1`,
      ),
    { code: 'SPANLENS_CLICKHOUSE_UNSAFE_BIND' },
  ),
  RESERVED_USER: Object.assign(
    (user: string) =>
      new SpanlensError(
        'SPANLENS_CLICKHOUSE_RESERVED_USER',
        `with a password, SPANLENS_CLICKHOUSE_USER cannot be ${user}: the engine's own session logs in as ${user} ` +
          `without a password; choose another name (e.g. spanlens)`,
      ),
    { code: 'SPANLENS_CLICKHOUSE_RESERVED_USER' },
  ),
  PORT_IN_USE: Object.assign(
    (host: string, port: number, what: string, options?: { cause?: unknown }) =>
      new SpanlensError(
        'SPANLENS_CLICKHOUSE_PORT_IN_USE',
        `cannot serve ClickHouse ${what} on ${host}:${port}: the port is in use; stop what holds it or choose another ` +
          `(--${what === 'HTTP' ? 'http' : 'tcp'}-port, SPANLENS_CLICKHOUSE_SERVE_${what}_PORT)`,
        500,
        options,
      ),
    { code: 'SPANLENS_CLICKHOUSE_PORT_IN_USE' },
  ),
  START_FAILED: Object.assign(
    (reason: string, options?: { cause?: unknown }) =>
      new SpanlensError('SPANLENS_CLICKHOUSE_START_FAILED', `ClickHouse server did not start: ${reason}`, 500, options),
    { code: 'SPANLENS_CLICKHOUSE_START_FAILED' },
  ),
  START_TIMEOUT: Object.assign(
    (ms: number, url: string) =>
      new SpanlensError('SPANLENS_CLICKHOUSE_START_TIMEOUT', `ClickHouse server did not answer ${url}/ping within ${ms} ms`),
    { code: 'SPANLENS_CLICKHOUSE_START_TIMEOUT' },
  ),
  UNSUPPORTED_PLATFORM: Object.assign(
    (reason: string) => new SpanlensError('SPANLENS_CLICKHOUSE_UNSUPPORTED_PLATFORM', reason),
    { code: 'SPANLENS_CLICKHOUSE_UNSUPPORTED_PLATFORM' },
  ),
} as const
