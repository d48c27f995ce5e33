import type { Codec, CodecValues } from '../schema/columns.js'
import { SPAN_INSERT_COLUMNS, type SpanRow } from '../schema/span-columns.js'

/**
 * How rows sit in the spool and travel to ClickHouse: TabSeparated with an
 * explicit column list. The ingest bench drove the choice: on 1-2 KB LLM spans
 * whose content is JSON full of quotes, JSON.stringify paid for escaping every
 * quote and was the largest single cost on the event loop; TSV only escapes
 * backslash, tab and line breaks at the top level (quotes inside Map and Array
 * literals), and ClickHouse parses it with less work than JSON. It is text,
 * which chdb's zero-copy raw insert requires.
 *
 * The format tag is part of every segment's name, so a segment written by an
 * earlier version is replayed in its own format and layout, never misread.
 * Since `t3` a segment holds the rows of one table, named in the file name
 * (`<name>.<table>.t3.seg`), and starts with its column list: the file is
 * TabSeparatedWithNames, so ClickHouse reads the columns the rows were written
 * with, whatever the table's column table says today.
 */
export const SPOOL_FORMAT = 't3'

/** Every tag a spool segment may carry, and the ClickHouse format of its file. */
export const SEGMENT_FORMATS = {
  /** Before TSV: JSONCompactEachRow (kept so an upgrade replays an old spool). */
  c1: 'JSONCompactEachRow',
  t1: 'TabSeparated',
  t2: 'TabSeparated',
  t3: 'TabSeparatedWithNames',
} as const

/**
 * How a segment's records sit on disk. `framed`: each record's header inline
 * before its rows (segment-file.ts), read back into memory for the insert.
 * `plain`: nothing but rows in the segment (after its column line, from `t3`),
 * so ClickHouse reads the file itself, and the headers in a sidecar index
 * (segment-index.ts).
 */
export type SegmentLayout = 'framed' | 'plain'

export function segmentLayout(tag: SegmentTag): SegmentLayout {
  return tag === 'c1' || tag === 't1' ? 'framed' : 'plain'
}
export type SegmentTag = keyof typeof SEGMENT_FORMATS
export type InsertFormat = (typeof SEGMENT_FORMATS)[SegmentTag]
/** The format of rows without a column line: what isolated rows and dead letters are inserted as. */
export type RowFormat = Exclude<InsertFormat, 'TabSeparatedWithNames'>

export const rowFormat = (format: InsertFormat): RowFormat => (format === 'TabSeparatedWithNames' ? 'TabSeparated' : format)

/** A tag this version can read (from a segment's file name). */
export function isSegmentTag(tag: string): tag is SegmentTag {
  return Object.prototype.hasOwnProperty.call(SEGMENT_FORMATS, tag)
}

/**
 * The columns of segments written before `t3`, which name none: they hold `spans`
 * rows in the insert list of that time, before migration 015's scope_version and
 * scope_attributes (span-columns.unit.test.ts checks each still has the type and
 * codec it was written with).
 */
export const LEGACY_SPAN_COLUMNS: readonly string[] = [
  ...['project_id', 'trace_id', 'span_id', 'parent_span_id', 'name', 'kind', 'span_kind', 'service_name', 'scope_name', 'start_time', 'end_time'],
  ...['duration_ms', 'status_code', 'status_message', 'error_type', 'provider', 'operation', 'request_model', 'response_model'],
  ...['input_tokens', 'output_tokens', 'total_tokens', 'cache_read_tokens', 'cache_write_tokens', 'reasoning_tokens', 'cost_usd', 'ttft_ms'],
  ...['finish_reason', 'input', 'output', 'user_id', 'session_id', 'environment', 'release', 'tags', 'attributes', 'resource_attributes'],
  ...['events.time', 'events.name', 'events.attributes', 'links.trace_id', 'links.span_id', 'links.attributes', 'embedding'],
]

/** A `t3` segment's first line: its column names, as TabSeparatedWithNames reads them. */
export const columnLine = (columns: readonly string[]): Buffer => Buffer.from(`${columns.map(tsvField).join('\t')}\n`)

// TabSeparated escaping (ClickHouse "escaped" text): at the top level of a
// field only backslash, tab and line breaks need it; inside the quoted
// literals of arrays and maps the single quote does too. NUL is escaped so a
// segment stays valid text for every reader.
const FIELD_SPECIAL = /[\\\t\n\r\0]/
const FIELD_SPECIAL_ALL = /[\\\t\n\r\0]/g
const QUOTED_SPECIAL = /[\\'\t\n\r\0]/
const QUOTED_SPECIAL_ALL = /[\\'\t\n\r\0]/g
const ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r', '\0': '\\0', "'": "\\'" }
const escapeChar = (c: string): string => ESCAPES[c] as string

/**
 * Whether a field needs escaping. On long strings (prompts, completions) five
 * indexOf scans are ~8x faster than the character class, which V8 runs one
 * character at a time; on short ones the regex wins.
 */
function needsEscape(s: string): boolean {
  if (s.length < 64) return FIELD_SPECIAL.test(s)
  return s.indexOf('\\') !== -1 || s.indexOf('\t') !== -1 || s.indexOf('\n') !== -1 || s.indexOf('\r') !== -1 || s.indexOf('\0') !== -1
}

/** A String field. */
function tsvField(s: string): string {
  return needsEscape(s) ? s.replace(FIELD_SPECIAL_ALL, escapeChar) : s
}

/** A string inside an Array or Map literal: quoted, escaped once (the field is not escaped again). */
function quoted(s: string): string {
  const special = s.length < 64 ? QUOTED_SPECIAL.test(s) : s.indexOf("'") !== -1 || needsEscape(s)
  return `'${special ? s.replace(QUOTED_SPECIAL_ALL, escapeChar) : s}'`
}

function stringArray(values: readonly string[]): string {
  if (values.length === 0) return '[]'
  let out = '['
  for (let i = 0; i < values.length; i++) out += (i === 0 ? '' : ',') + quoted(values[i] as string)
  return `${out}]`
}

function stringMap(m: Readonly<Record<string, string>>): string {
  let out = '{'
  let first = true
  for (const key in m) {
    out += `${first ? '' : ','}${quoted(key)}:${quoted(m[key] as string)}`
    first = false
  }
  return `${out}}`
}

/** The resource's Map literal, encoded once for all the rows that share its object (normalize.ts). */
const encodedResources = new WeakMap<object, string>()
function resourceMap(m: Readonly<Record<string, string>>): string {
  let encoded = encodedResources.get(m)
  if (encoded === undefined) {
    encoded = stringMap(m)
    if (Object.isFrozen(m)) encodedResources.set(m, encoded)
  }
  return encoded
}

function mapArray(maps: ReadonlyArray<Readonly<Record<string, string>>>): string {
  if (maps.length === 0) return '[]'
  let out = '['
  for (let i = 0; i < maps.length; i++) out += (i === 0 ? '' : ',') + stringMap(maps[i] as Record<string, string>)
  return `${out}]`
}

/** Float64: non-finite values are not valid measurements; 0 keeps the row. */
const float = (n: number): string => (Number.isFinite(n) ? String(n) : '0')

/**
 * An unsigned integer of `bits` bits, no greater than the type's largest value:
 * ClickHouse reads a larger one modulo 2^bits, so it would store a histogram count
 * of 2^64 − 1 (which JavaScript holds as 2^64) as 384, and a token total of 2^32 as 0.
 * What produces the values keeps to each column's range (normalize.ts,
 * decode-metrics.ts); this keeps an oversight from wrapping around.
 */
function unsigned(bits: number): (n: number) => string {
  const bound = 2 ** bits
  const largest = (2n ** BigInt(bits) - 1n).toString()
  return (n) => (n >= bound ? largest : String(n))
}

/** The field of each unsigned ClickHouse type the `uint` and `uintArray` codecs write. */
const UNSIGNED = { UInt8: unsigned(8), UInt16: unsigned(16), UInt32: unsigned(32), UInt64: unsigned(64) } as const
type UnsignedType = keyof typeof UNSIGNED
const uint64 = UNSIGNED.UInt64

/**
 * Each codec of the column table, as a function from the row's value to its
 * field. Array and Map literals are read by ClickHouse straight from the field,
 * so their quoted strings are escaped once, by quoted(), and the literal is not
 * escaped again.
 */
export const CODECS: { readonly [C in Codec]: (v: CodecValues[C]) => string } = {
  // Ids are lower-case hex, times digits, the fixed words come from normalize's lists.
  verbatim: (s) => s,
  text: tsvField,
  float,
  nullableFloat: (n) => (n === null || !Number.isFinite(n) ? '\\N' : String(n)),
  // Without the column's type, as UInt64; the encoder calls its type's own (UNSIGNED).
  uint: uint64,
  int: (n) => String(n),
  uintArray: (xs) => `[${xs.map(uint64).join(',')}]`,
  stringArray,
  stringMap,
  sharedStringMap: resourceMap,
  mapArray,
  floatArray: (xs) => `[${xs.map(float).join(',')}]`,
}

/**
 * The encoder's source, made from the column table: one array of fields joined
 * by tabs, the same code one would write by hand (a 44-element join was the
 * fastest row encoding measured, bench/README.md), with each codec called
 * directly. Verbatim fields are read without a call.
 */
export function encoderSource(columns: ReadonlyArray<{ name: string; codec: Codec; type: string }>): string {
  const fields = columns.map(({ name, codec, type }) => {
    const value = /^[a-z_]+$/.test(name) ? `r.${name}` : `r[${JSON.stringify(name)}]`
    if (codec === 'verbatim') return value
    if (codec === 'uint') return `${unsignedType(name, type)}(${value})`
    if (codec === 'uintArray' && type !== 'Array(UInt64)') throw new Error(`column ${name}: codec uintArray writes Array(UInt64), not ${type}`)
    return `${codec}(${value})`
  })
  return `return [\n  ${fields.join(',\n  ')},\n].join('\\t')`
}

/** The unsigned type of a `uint` column, which its field is clamped to; a column table naming another is a mistake caught at load. */
function unsignedType(name: string, type: string): UnsignedType {
  if (!(type in UNSIGNED)) throw new Error(`column ${name}: codec uint needs an unsigned integer type, not ${type}`)
  return type as UnsignedType
}

/** A table's row encoder, compiled once from its column table. */
export function compileEncoder<R>(columns: ReadonlyArray<{ name: string; codec: Codec; type: string }>): (r: R) => string {
  const names = Object.keys(CODECS) as Codec[]
  const types = Object.keys(UNSIGNED) as UnsignedType[]
  // Built once at load, from the table above (no input reaches the source); the codecs are its parameters.
  const make = new Function(...names, ...types, `return function encodeRow(r) {\n${encoderSource(columns)}\n}`) as (
    ...codecs: Array<(v: never) => string>
  ) => (r: R) => string
  return make(...names.map((n) => CODECS[n]), ...types.map((t) => UNSIGNED[t]))
}

/** One `spans` TabSeparated line (without the newline), in the column table's order. */
export const encodeRow: (r: SpanRow) => string = compileEncoder(SPAN_INSERT_COLUMNS)
