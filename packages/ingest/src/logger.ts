import pino, { type Logger } from 'pino'

/** JSON logs; credentials are never written, span content never reaches a log call. */
export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { service: 'spanlens' },
    redact: {
      paths: ['req.headers.authorization', 'req.headers["x-api-key"]', 'headers.authorization'],
      censor: '[redacted]',
    },
  })
}
