import { z } from 'zod'
import { errors } from './errors.js'

/**
 * An OTLP id as every route takes it, in a path, a filter or a body: `digits` hex digits in
 * either case, not all zero (OpenTelemetry's invalid id, which no span carries), read in
 * lower case, the case ingest stores every id in (ingest's otlp/values.ts, idToHex).
 */
const hexId = (digits: number, what: string) =>
  z
    .string()
    .regex(new RegExp(`^[0-9a-fA-F]{${digits}}$`), { error: `expected a ${digits}-hex-digit ${what} id` })
    .refine((v) => /[1-9a-fA-F]/.test(v), { error: `expected a ${digits}-hex-digit ${what} id, not all zeros (no span has it)` })
    .transform((v) => v.toLowerCase())

export const TRACE_ID = hexId(32, 'trace')
export const SPAN_ID = hexId(16, 'span')

/** The trace id of a route's path, in lower case; anything else is a 400 naming it. */
export function traceIdParam(raw: string): string {
  const parsed = TRACE_ID.safeParse(raw)
  if (!parsed.success) throw errors.BAD_REQUEST(`traceId: ${parsed.error.issues[0]?.message ?? 'expected a trace id'}, got ${JSON.stringify(raw.slice(0, 40))}`)
  return parsed.data
}

/**
 * A session or user id of a route's path, as stored (any text, case kept); an empty one
 * is a 400 naming it: it would read every span without one, as if that were a session or a user.
 */
export function labelParam(name: 'sessionId' | 'userId', raw: string): string {
  if (raw === '') throw errors.BAD_REQUEST(`${name}: empty; the path names no ${name === 'sessionId' ? 'session' : 'user'}`)
  return raw
}
