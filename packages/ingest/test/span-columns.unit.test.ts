import { createHash } from 'node:crypto'
import { SPAN_KINDS } from '@spanlens/query'
import { describe, expect, it } from 'vitest'
import { PriceTable } from '../src/normalize/cost.js'
import { normalizeSpan } from '../src/normalize/normalize.js'
import { CODECS, compileEncoder, encodeRow, encoderSource, LEGACY_SPAN_COLUMNS } from '../src/pipeline/row-format.js'
import { SPANS } from '../src/pipeline/tables.js'
import { SPAN_INSERT_COLUMNS, type SpanRow } from '../src/schema/span-columns.js'
import { CODEC_TYPES, sample } from './helpers/codec-types.js'

describe('the span row encoder, made from the column table', () => {
  it('writes every inserted column, in table order, each through its codec', () => {
    const row = Object.fromEntries(SPAN_INSERT_COLUMNS.map((c, i) => [c.name, sample(c.codec, i)])) as unknown as SpanRow
    const fields = encodeRow(row).split('\t')
    expect(fields).toHaveLength(SPAN_INSERT_COLUMNS.length)
    SPAN_INSERT_COLUMNS.forEach((c, i) => {
      const encode = CODECS[c.codec] as (v: unknown) => string
      expect(fields[i], c.name).toBe(encode(row[c.name]))
    })
    expect(SPANS.columns).toEqual(SPAN_INSERT_COLUMNS.map((c) => c.name))
  })

  it('escapes by class: strings and literals escaped, verbatim fields and numbers as they are', () => {
    expect(CODECS.text("a\tb\nc\rd\0e\\f'g")).toBe("a\\tb\\nc\\rd\\0e\\\\f'g")
    expect(CODECS.stringArray(["it's\t"])).toBe("['it\\'s\\t']")
    expect(CODECS.stringMap({ "k'": 'v\n' })).toBe("{'k\\'':'v\\n'}")
    expect(CODECS.mapArray([{ a: "'" }, {}])).toBe("[{'a':'\\''},{}]")
    expect(CODECS.verbatim('1700000000.000000001')).toBe('1700000000.000000001')
    expect([CODECS.float(Number.NaN), CODECS.nullableFloat(null), CODECS.nullableFloat(Infinity), CODECS.uint(7)]).toEqual(['0', '\\N', '\\N', '7'])
    expect(CODECS.floatArray([0.5, Number.NaN])).toBe('[0.5,0]')
  })

  it("never writes an unsigned integer past its column type's largest value, which ClickHouse would wrap around", () => {
    const row = Object.fromEntries(SPAN_INSERT_COLUMNS.map((c, i) => [c.name, sample(c.codec, i)])) as unknown as SpanRow
    const fields = encodeRow({ ...row, input_tokens: 2 ** 32, total_tokens: 2 ** 32 + 7, output_tokens: 2 ** 32 - 1, cache_read_tokens: 9 }).split('\t')
    const at = (name: string) => fields[SPAN_INSERT_COLUMNS.findIndex((c) => c.name === name)]
    expect([at('input_tokens'), at('total_tokens'), at('output_tokens'), at('cache_read_tokens')]).toEqual(['4294967295', '4294967295', '4294967295', '9'])
    // UInt64: 2^64 − 1 reaches JavaScript as 2^64 (and was stored as 384).
    expect([CODECS.uint(2 ** 64), CODECS.uint(2 ** 70), CODECS.uint(2 ** 53)]).toEqual(['18446744073709551615', '18446744073709551615', '9007199254740992'])
    expect(CODECS.uintArray([2 ** 64, 3])).toBe('[18446744073709551615,3]')
    const flags = compileEncoder<{ flags: number; n: number }>([
      { name: 'flags', type: 'UInt32', codec: 'uint' },
      { name: 'n', type: 'UInt8', codec: 'uint' },
    ])
    expect(flags({ flags: 2 ** 32 + 1, n: 256 })).toBe('4294967295\t255')
    expect(() => compileEncoder([{ name: 'x', type: 'Int64', codec: 'uint' }])).toThrow('column x: codec uint needs an unsigned integer type, not Int64')
    expect(() => compileEncoder([{ name: 'xs', type: 'Array(UInt32)', codec: 'uintArray' }])).toThrow('column xs: codec uintArray writes Array(UInt64)')
  })

  it('gives each column a codec whose text its ClickHouse type reads', () => {
    for (const c of SPAN_INSERT_COLUMNS) expect(c.type, `${c.name} (${c.codec})`).toMatch(CODEC_TYPES[c.codec])
  })

  it('is a plain join of one call per column, readable as the source it runs', () => {
    const source = encoderSource(SPAN_INSERT_COLUMNS)
    expect(source.split('\n')).toHaveLength(SPAN_INSERT_COLUMNS.length + 2)
    expect(encodeRow.toString()).toContain(source)
    expect(source).toContain('  text(r.project_id),\n  r.trace_id,')
    expect(source).toContain('  mapArray(r["events.attributes"]),')
  })

  it('keeps the layout spool segments written before the column line hold', () => {
    // Segments outlive the process: a `t3` segment names its columns in its first line,
    // but c1/t1/t2 segments of spans name none and are read with LEGACY_SPAN_COLUMNS, the
    // insert list of their time. Each of those columns must still be inserted with the type
    // and codec it was written with: the fingerprint is the one the t2 layout had.
    const byName = new Map<string, (typeof SPAN_INSERT_COLUMNS)[number]>(SPAN_INSERT_COLUMNS.map((c) => [c.name, c]))
    const layout = LEGACY_SPAN_COLUMNS.map((name) => `${name} ${byName.get(name)?.type} ${byName.get(name)?.codec}`).join('\n')
    expect({ t2: createHash('sha256').update(layout).digest('hex').slice(0, 16) }).toEqual({ t2: '891bcdf1c82586f0' })
    // Columns added since come after in the insert list or between, never in place of one.
    expect(SPAN_INSERT_COLUMNS.map((c) => c.name).filter((n) => LEGACY_SPAN_COLUMNS.includes(n))).toEqual(LEGACY_SPAN_COLUMNS)
  })

  it('holds in kind only the span kinds the query API filters by', () => {
    expect(SPAN_INSERT_COLUMNS.find((c) => c.name === 'kind')?.values).toEqual(SPAN_KINDS)
  })

  it('is what normalize produces: one field per inserted column, in the same order', () => {
    const row = normalizeSpan(
      {
        resource: {}, scopeName: '', scopeVersion: '', scopeAttributes: {}, traceId: 'ab'.repeat(16), spanId: 'cd'.repeat(8), parentSpanId: '', name: 'x',
        kind: 3, startNs: '1700000000000000000', endNs: '1700000000000000001', attributes: {}, events: [], links: [], statusCode: 0, statusMessage: '',
      },
      'p',
      { prices: PriceTable.load(undefined) },
    )
    expect(Object.keys(row)).toEqual(SPANS.columns)
  })
})
