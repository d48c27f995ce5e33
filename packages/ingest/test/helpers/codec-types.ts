import type { Codec, CodecValues } from '../../src/schema/columns.js'

const STRING = '(?:LowCardinality\\(String\\)|String)'
const MAP = 'Map\\(LowCardinality\\(String\\), String\\)'

/** The ClickHouse types each codec's text is valid for: what a column's declared type must match (every column table). */
export const CODEC_TYPES: Record<Codec, RegExp> = {
  verbatim: new RegExp(`^(?:${STRING}|DateTime64\\(9\\)|UInt64)$`),
  text: new RegExp(`^${STRING}$`),
  float: /^Float64$/,
  nullableFloat: /^Nullable\(Float64\)$/,
  uint: /^UInt(?:8|16|32|64)$/,
  int: /^Int32$/,
  uintArray: /^Array\(UInt64\)$/,
  stringArray: new RegExp(`^Array\\((?:${STRING}|DateTime64\\(9\\))\\)$`),
  stringMap: new RegExp(`^${MAP}$`),
  sharedStringMap: new RegExp(`^${MAP}$`),
  mapArray: new RegExp(`^Array\\(${MAP}\\)$`),
  floatArray: /^Array\(Float(?:32|64)\)$/,
}

/** A value for column i that no other column has, and that needs escaping wherever the codec escapes. */
export function sample(codec: Codec, i: number): CodecValues[Codec] {
  const s = `c${i}\t'\\`
  switch (codec) {
    case 'verbatim':
      return `v${i}`
    case 'text':
      return s
    case 'float':
      return i + 0.5
    case 'nullableFloat':
      return i % 2 === 0 ? null : i + 0.25
    case 'uint':
      return i
    case 'int':
      return -i
    case 'uintArray':
      return [i, 0]
    case 'stringArray':
      return [s, `${i}`]
    case 'stringMap':
    case 'sharedStringMap':
      return { [s]: s }
    case 'mapArray':
      return [{ [s]: s }, {}]
    case 'floatArray':
      return [i, -0.5]
  }
}
