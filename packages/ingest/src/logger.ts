import pino, { type DestinationStream, type Logger } from 'pino'

/**
 * JSON logs; credentials are never written, span content never reaches a log call.
 * An error is logged with its own message and its cause as a nested `err.cause` (message
 * and stack): our errors quote their cause's message already (`SLO file … is invalid:
 * ENOENT: …`), and pino's default serializer appends every cause's message to the error's
 * own, which would write that text twice.
 */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  const options = {
    level,
    base: { service: 'spanlens' },
    serializers: { err: pino.stdSerializers.errWithCause },
    redact: {
      paths: ['req.headers.authorization', 'req.headers["x-api-key"]', 'headers.authorization'],
      censor: '[redacted]',
    },
  }
  return destination ? pino(options, destination) : pino(options)
}
