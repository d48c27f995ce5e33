import { errors } from '../errors.js'
import { field } from './json-fields.js'
import { WireError } from './wire.js'

/**
 * What every signal's decoder does with a body before its own walk: a protobuf
 * read whose structural damage is a 400, and a JSON body's top-level list.
 */

/** Runs a protobuf wire reader; a WireError (truncated, malformed) becomes 400 SPANLENS_BAD_OTLP. */
export function readWire(read: () => void): void {
  try {
    read()
  } catch (err) {
    if (!(err instanceof WireError)) throw err
    throw errors.BAD_OTLP(`protobuf body could not be decoded: ${err.message}`)
  }
}

/**
 * An OTLP JSON body's resource list (`resourceSpans` or `resource_spans`, …), or a
 * 400 naming what is wrong: unparsable JSON, a body that is not `message` (an
 * object), a list that is not an array. An empty body is an empty request.
 */
export function jsonResourceList(body: Buffer, parse: () => unknown, message: string, camel: string): unknown[] {
  let parsed: unknown
  try {
    parsed = body.length === 0 ? {} : parse()
  } catch (err) {
    throw errors.BAD_OTLP(`JSON body could not be parsed: ${(err as Error).message}`)
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw errors.BAD_OTLP(`JSON body must be an ${message} object`)
  }
  const o = parsed as Record<string, unknown>
  const list = field(o, camel)
  if (list !== undefined && !Array.isArray(list)) throw errors.BAD_OTLP(`${camel} must be an array`)
  return (list as unknown[] | undefined) ?? []
}
