/**
 * What a column table is made of. Each table the spool writes has one
 * (span-columns.ts, log-columns.ts, ...): the one declaration its row type, its
 * insert column list and its TabSeparated encoder (pipeline/row-format.ts) are
 * built from, and that a test compares with `system.columns` after the migrations.
 */

/** How a value is written into its TabSeparated field, and which JavaScript value it takes. */
export interface CodecValues {
  /** Written as is: lower-case hex ids, decimal seconds and fixed words that decode and normalize produce. */
  verbatim: string
  /** Any string: backslash, tab, line breaks and NUL escaped. */
  text: string
  /** Float64; a non-finite value is written as 0. */
  float: number
  /** Nullable(Float64); null and non-finite values are NULL. */
  nullableFloat: number | null
  /** An unsigned integer (UInt8 to UInt64; exact up to 2^53). */
  uint: number
  /** A signed integer (Int32: exponential histogram scales and offsets). */
  int: number
  /** An Array literal of unsigned integers (bucket counts). */
  uintArray: number[]
  /** An Array literal of quoted, escaped strings. */
  stringArray: string[]
  /** A Map literal of quoted, escaped strings. */
  stringMap: Record<string, string>
  /** A Map literal shared by every row of one resource, encoded once per object. */
  sharedStringMap: Readonly<Record<string, string>>
  mapArray: Array<Record<string, string>>
  floatArray: number[]
}
export type Codec = keyof CodecValues

/** A column the insert writes. */
export interface InsertedColumn<N extends string = string, C extends Codec = Codec, V extends string = string> {
  readonly name: N
  /** The ClickHouse type as `system.columns` spells it. */
  readonly type: string
  readonly codec: C
  /** For a verbatim column holding one of a fixed set of words: the set. */
  readonly values?: readonly V[]
}

/** A column ClickHouse fills itself, so it is not in the insert list. */
export interface ComputedColumn {
  readonly name: string
  readonly type: string
  readonly filled: 'materialized' | 'default'
}

export const col = <const N extends string, const C extends Codec>(name: N, type: string, codec: C): InsertedColumn<N, C> => ({ name, type, codec })
export const oneOf = <const N extends string, const V extends string>(name: N, type: string, values: readonly V[]): InsertedColumn<N, 'verbatim', V> => ({
  name,
  type,
  codec: 'verbatim',
  values,
})

export const LC = 'LowCardinality(String)'
export const MAP = 'Map(LowCardinality(String), String)'

/** One row of a table as inserted, one field per inserted column. */
export type RowOf<Columns extends readonly InsertedColumn[]> = {
  -readonly [C in Columns[number] as C['name']]: C extends InsertedColumn<string, 'verbatim', infer V> ? V : CodecValues[C['codec']]
}
