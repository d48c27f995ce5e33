import { TupleParam } from '@clickhouse/client'

/**
 * The most bytes one query parameter takes as it travels. clickhouse-js sends each parameter in
 * the URL's query string, and a served ClickHouse reads it as an HTML form field of at most
 * `http_max_field_value_size` (128 KiB by default): a longer one fails the query with "HTML Form
 * Exception: Field value too long" (10,000 trace ids, ~410 KB, did). Room is left under the
 * default for a server configured a little lower. The whole URL may hold 1 MiB (http_max_uri_size).
 */
export const MAX_PARAM_BYTES = 96 * 1024

/**
 * The bytes `value` takes as a query parameter in the URL: clickhouse-js's text of it (a
 * string with its backslashes, quotes, tabs and line breaks escaped, and quoted inside an array
 * or tuple; numbers as written), form-encoded.
 */
export function paramBytes(value: unknown): number {
  return encodedBytes(value, false)
}

/**
 * `values` in consecutive groups, each within MAX_PARAM_BYTES as one array parameter: what a
 * list too long for one parameter is sent as, a parameter or a query per group. An item over
 * the limit by itself is a group alone (whoever sends it decides what to do with it).
 */
export function* paramGroups<T>(values: Iterable<T>): Generator<T[]> {
  let group: T[] = []
  let bytes = BRACKETS
  for (const v of values) {
    const size = encodedBytes(v, true)
    if (group.length > 0 && bytes + COMMA + size > MAX_PARAM_BYTES) {
      yield group
      group = []
      bytes = BRACKETS
    }
    bytes += (group.length > 0 ? COMMA : 0) + size
    group.push(v)
  }
  if (group.length > 0) yield group
}

/** An array's brackets, and the comma between two items, form-encoded. */
const BRACKETS = 6
const COMMA = 3

function encodedBytes(value: unknown, inside: boolean): number {
  if (Array.isArray(value)) return BRACKETS + value.reduce((n: number, v) => n + encodedBytes(v, true), 0) + COMMA * Math.max(0, value.length - 1)
  // Parentheses instead of brackets: the same bytes.
  if (value instanceof TupleParam) return encodedBytes(value.values, true)
  if (typeof value === 'string') return (inside ? 6 : 0) + formBytes(value.replace(ESCAPED, (c) => ESCAPES[c] as string))
  return formBytes(String(value))
}

/** What clickhouse-js escapes in a string parameter, wherever it stands. */
const ESCAPED = /[\\'\t\n\r]/g
const ESCAPES: Record<string, string> = { '\\': '\\\\', "'": "\\'", '\t': '\\t', '\n': '\\n', '\r': '\\r' }

/** Form-encoded bytes: a byte outside `A-Za-z0-9*-._` and space (`+`) is `%XX`. */
function formBytes(s: string): number {
  let n = 0
  for (const byte of Buffer.from(s)) n += (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5a) || (byte >= 0x61 && byte <= 0x7a) || byte === 0x2a || byte === 0x2d || byte === 0x2e || byte === 0x5f || byte === 0x20 ? 1 : 3
  return n
}
