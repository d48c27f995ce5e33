import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { SpanlensError } from '../src/errors.js'
import { decodeJson, decodeProtobuf } from '../src/otlp/decode.js'
import { uint64Decimal } from '../src/otlp/wire.js'
import { otlpTypes } from './helpers/proto.js'
import { snakeCaseFields } from './helpers/snake-case.js'

/**
 * The receiver decodes protobuf with its own wire reader (otlp/decode-protobuf.ts)
 * and OTLP JSON with an object walker. Both must yield the same spans for the
 * same request; protobufjs, which encoded every recorded payload's library,
 * is the reference for turning protobuf into that JSON.
 */

const T = () => otlpTypes().request
const fixtureRoot = fileURLToPath(new URL('./fixtures/otlp/', import.meta.url))

function protobufFixtures(): Array<[string, Buffer]> {
  const out: Array<[string, Buffer]> = []
  for (const dir of readdirSync(fixtureRoot, { withFileTypes: true })) {
    if (!dir.isDirectory()) continue
    for (const f of readdirSync(join(fixtureRoot, dir.name))) {
      // *.logs.pb are ExportLogsServiceRequest bodies, not traces.
      if (f.endsWith('.pb') && !f.endsWith('.logs.pb')) out.push([`${dir.name}/${f}`, readFileSync(join(fixtureRoot, dir.name, f))])
    }
  }
  return out
}

/** What protobufjs makes of the body, as OTLP JSON (ids base64, which OTLP JSON receivers accept too). */
function viaJson(body: Buffer) {
  const object = T().toObject(T().decode(body), { longs: String, bytes: String, defaults: false })
  return decodeJson(Buffer.from(JSON.stringify(object)))
}

function encode(request: Record<string, unknown>): Buffer {
  return Buffer.from(T().encode(T().fromObject(request)).finish())
}

const id = (hex: string) => Buffer.from(hex, 'hex')
const TRACE = '5b8efff798038103d269b633813fc60c'
const SPAN = 'eee19b7ec3c1b174'

function request(span: Record<string, unknown>, resourceAttributes: unknown[] = []) {
  return {
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'svc' } }, ...resourceAttributes] },
        scopeSpans: [{ scope: { name: 'scope', version: '1.2.3' }, spans: [{ traceId: id(TRACE), spanId: id(SPAN), name: 'op', startTimeUnixNano: '1767225600000000001', endTimeUnixNano: '1767225600500000000', ...span }] }],
      },
    ],
  }
}

/** A span as OTLP JSON writes it (hex ids). */
const jspan = (over: Record<string, unknown> = {}) => ({ traceId: TRACE, spanId: SPAN, name: 'op', startTimeUnixNano: '1767225600000000001', endTimeUnixNano: '1767225600500000000', ...over })
const jsonBody = (resourceSpans: unknown) => Buffer.from(JSON.stringify({ resourceSpans }))

describe('protobuf decoding', () => {
  const fixtures = protobufFixtures()

  it('has recorded payloads to compare with', () => {
    expect(fixtures.length).toBeGreaterThan(30)
  })

  it.each(fixtures)('reads %s exactly as protobufjs + the OTLP JSON path do', (_name, body) => {
    const ours = decodeProtobuf(body)
    expect(ours.spans.length).toBeGreaterThan(0)
    expect(ours).toEqual(viaJson(body))
  })

  it.each(fixtures)('reads %s the same from OTLP JSON with proto (snake_case) field names', (_name, body) => {
    const object = T().toObject(T().decode(body), { longs: String, bytes: String, defaults: false })
    const camel = decodeJson(Buffer.from(JSON.stringify(object)))
    expect(JSON.stringify(snakeCaseFields(object))).toMatch(/"resource_spans".*"start_time_unix_nano".*"string_value"/)
    expect(decodeJson(Buffer.from(JSON.stringify(snakeCaseFields(object))))).toEqual(camel)
  })

  it('keeps int64 exact, negative ints, doubles, bools, bytes, empty strings and nested values', () => {
    const attrs = [
      { key: 'neg', value: { intValue: '-42' } },
      { key: 'min_safe', value: { intValue: String(Number.MIN_SAFE_INTEGER) } },
      { key: 'big', value: { intValue: '9223372036854775807' } },
      { key: 'very_neg', value: { intValue: '-9223372036854775808' } },
      { key: 'past_safe', value: { intValue: '9007199254740993' } },
      { key: 'pi', value: { doubleValue: 3.14159 } },
      { key: 'no', value: { boolValue: false } },
      { key: 'blob', value: { bytesValue: Buffer.from([0, 255, 7]) } },
      { key: 'empty', value: { stringValue: '' } },
      { key: 'novalue' },
      { key: 'list', value: { arrayValue: { values: [{ stringValue: 'a' }, { intValue: 1 }, { arrayValue: {} }] } } },
      { key: 'kv', value: { kvlistValue: { values: [{ key: 'x', value: { stringValue: 'ü🚀' } }] } } },
    ]
    const body = encode(request({ attributes: attrs, kind: 3, status: { code: 2, message: 'boom' } }))
    const [span] = decodeProtobuf(body).spans
    expect(span?.attributes).toEqual({
      neg: -42,
      min_safe: Number.MIN_SAFE_INTEGER,
      big: '9223372036854775807',
      very_neg: '-9223372036854775808',
      past_safe: '9007199254740993',
      pi: 3.14159,
      no: false,
      blob: Buffer.from([0, 255, 7]).toString('base64'),
      empty: '',
      novalue: null,
      list: ['a', 1, []],
      kv: { x: 'ü🚀' },
    })
    expect(span).toMatchObject({ traceId: TRACE, spanId: SPAN, kind: 3, statusCode: 2, statusMessage: 'boom', startNs: '1767225600000000001', scopeVersion: '1.2.3' })
    expect(decodeProtobuf(body)).toEqual(viaJson(body))
  })

  it('reads events, links, and a resource that comes after its spans', () => {
    const body = encode(
      request({
        events: [{ timeUnixNano: '1767225600100000000', name: 'gen_ai.choice', attributes: [{ key: 'index', value: { intValue: 0 } }] }],
        links: [{ traceId: id('0af7651916cd43dd8448eb211c80319c'), spanId: id('b7ad6b7169203331'), attributes: [{ key: 'l', value: { stringValue: 'v' } }] }],
      }),
    )
    // Move resource (field 1 of ResourceSpans) behind scope_spans (field 2): protobuf allows any order.
    const decoded = T().decode(body) as unknown as { resourceSpans: Array<Record<string, unknown>> }
    const rs = decoded.resourceSpans[0] as Record<string, unknown>
    const ResourceSpans = T().lookupType('opentelemetry.proto.trace.v1.ResourceSpans')
    const resourceOnly = Buffer.from(ResourceSpans.encode(ResourceSpans.create({ resource: rs.resource })).finish())
    const scopesOnly = Buffer.from(ResourceSpans.encode(ResourceSpans.create({ scopeSpans: rs.scopeSpans })).finish())
    const inner = Buffer.concat([scopesOnly, resourceOnly])
    const reordered = Buffer.concat([Buffer.from([0x0a]), varint(inner.length), inner])
    const [span] = decodeProtobuf(reordered).spans
    expect(span?.resource).toEqual({ 'service.name': 'svc' })
    expect(span?.events).toEqual([{ timeNs: '1767225600100000000', name: 'gen_ai.choice', attributes: { index: 0 } }])
    expect(span?.links).toEqual([{ traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', attributes: { l: 'v' } }])
  })

  it('skips unknown fields of every wire type, as protobuf requires', () => {
    const body = encode(request({ attributes: [{ key: 'a', value: { stringValue: 'b' } }] }))
    // Unknown fields 99 (varint), 100 (fixed64), 101 (bytes), 102 (fixed32) appended to the request.
    const unknown = Buffer.concat([
      Buffer.from([0x98, 0x06, 0x96, 0x01]),
      Buffer.from([0xa1, 0x06, 1, 2, 3, 4, 5, 6, 7, 8]),
      Buffer.from([0xaa, 0x06, 0x03, 0x61, 0x62, 0x63]),
      Buffer.from([0xb5, 0x06, 1, 2, 3, 4]),
    ])
    expect(decodeProtobuf(Buffer.concat([unknown, body, unknown])).spans).toEqual(decodeProtobuf(body).spans)
  })

  it('cuts nesting deeper than the limit without recursing into it', () => {
    // protobufjs refuses to encode this deep, so the bytes are written by hand.
    let value = field(1, Buffer.from('leaf')) // AnyValue.string_value
    for (let i = 0; i < 5000; i++) value = field(6, field(1, Buffer.concat([field(1, Buffer.from('k')), field(2, value)])))
    const span = Buffer.concat([
      field(1, id(TRACE)),
      field(2, id(SPAN)),
      Buffer.from([0x39]), // start_time_unix_nano, fixed64
      Buffer.from('0100e4f7a2e88618', 'hex'),
      Buffer.from([0x41]), // end_time_unix_nano, fixed64
      Buffer.from('0100e4f7a2e88618', 'hex'),
      field(9, Buffer.concat([field(1, Buffer.from('deep')), field(2, value)])),
    ])
    const body = field(1, field(2, field(2, span)))
    const [decoded] = decodeProtobuf(body).spans
    expect(JSON.stringify(decoded?.attributes)).toContain('[max depth exceeded]')
  })

  it('rejects only the spans with invalid ids, keeping the rest', () => {
    const times = { startTimeUnixNano: '1767225600000000000', endTimeUnixNano: '1767225600000000001' }
    const body = encode({
      resourceSpans: [
        {
          scopeSpans: [
            {
              spans: [
                { traceId: id(TRACE), spanId: id(SPAN), name: 'good', ...times },
                { traceId: id('abcd'), spanId: id(SPAN), name: 'short trace id', ...times },
                { traceId: id(TRACE), spanId: id('abcd'), name: 'short span id', ...times },
              ],
            },
          ],
        },
      ],
    })
    const decoded = decodeProtobuf(body)
    expect(decoded.spans.map((s) => s.name)).toEqual(['good'])
    expect(decoded.rejected).toBe(2)
    expect(decoded.problems.join('\n')).toMatch(/trace_id[\s\S]*span_id/)
  })

  it('reads 64-bit timestamps into the same decimal text as BigInt does, at every edge', () => {
    const edges = [0n, 1n, 999_999_999n, 1_000_000_000n, 2n ** 32n - 1n, 2n ** 32n, 2n ** 53n - 1n, 2n ** 53n + 1n, 1_790_000_000_123_456_789n, 2n ** 64n - 1n]
    let seed = 7
    const rand32 = () => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0
      return seed
    }
    const randoms = Array.from({ length: 20_000 }, () => (BigInt(rand32() >>> (rand32() % 32)) << 32n) | BigInt(rand32()))
    for (const v of [...edges, ...randoms]) {
      expect(uint64Decimal(Number(v >> 32n), Number(v & 0xffffffffn)), String(v)).toBe(v.toString())
    }
  })

  it('rejects a span that ends before it starts, comparing the full 64-bit times, or that lacks either time (one without its end was stored as 0 ms long)', () => {
    const cases = [
      ['same', '1767225600000000001', '1767225600000000001'],
      ['later by 1 ns', '1767225600000000001', '1767225600000000002'],
      ['earlier by 1 ns', '1767225600000000002', '1767225600000000001'],
      ['fewer digits', '1767225600000000000', '999999999999999999'],
      ['more digits', '999999999999999999', '1767225600000000000'],
      ['no end', '1767225600000000000', '0'],
      ['no start', '0', '1767225600000000000'],
      ['neither', '0', '0'],
    ]
    const spans = cases.map(([name, start, end], i) => ({ traceId: TRACE, spanId: `000000000000000${i + 1}`, name, startTimeUnixNano: start, endTimeUnixNano: end }))
    const pbSpans = spans.map((s) => ({ ...s, traceId: id(s.traceId), spanId: id(s.spanId) }))
    // Absent, as protobuf cannot tell from 0 and OTLP JSON can.
    const absent = spans.map(({ startTimeUnixNano, endTimeUnixNano, ...s }) => ({ ...s, ...(startTimeUnixNano === '0' ? {} : { startTimeUnixNano }), ...(endTimeUnixNano === '0' ? {} : { endTimeUnixNano }) }))
    for (const [format, decoded] of Object.entries({
      protobuf: decodeProtobuf(encode({ resourceSpans: [{ scopeSpans: [{ spans: pbSpans }] }] })),
      'JSON, 0': decodeJson(Buffer.from(JSON.stringify({ resourceSpans: [{ scopeSpans: [{ spans }] }] }))),
      'JSON, absent': decodeJson(Buffer.from(JSON.stringify({ resourceSpans: [{ scopeSpans: [{ spans: absent }] }] }))),
    })) {
      expect(decoded.spans.map((s) => s.name), format).toEqual(['same', 'later by 1 ns', 'more digits'])
      expect(decoded.problems, format).toEqual([
        'span 2 "earlier by 1 ns" (0000000000000003): end_time_unix_nano is before start_time_unix_nano',
        'span 3 "fewer digits" (0000000000000004): end_time_unix_nano is before start_time_unix_nano',
        'span 5 "no end" (0000000000000006): end_time_unix_nano: missing (absent or 0)',
        'span 6 "no start" (0000000000000007): start_time_unix_nano: missing (absent or 0)',
        'span 7 "neither" (0000000000000008): start_time_unix_nano: missing (absent or 0)',
      ])
    }
  })

  it('turns any damaged body into SPANLENS_BAD_OTLP or a partial result, never another error', () => {
    const [, body] = fixtures[0] as [string, Buffer]
    let seed = 12345
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff
      return seed % n
    }
    let refused = 0
    for (let i = 0; i < 3000; i++) {
      const damaged = Buffer.from(body.subarray(0, i % 3 === 0 ? rand(body.length) : body.length))
      for (let k = 0; k < 1 + rand(4); k++) damaged[rand(damaged.length)] = rand(256)
      try {
        decodeProtobuf(damaged)
      } catch (err) {
        expect(err).toBeInstanceOf(SpanlensError)
        expect((err as SpanlensError).code).toBe('SPANLENS_BAD_OTLP')
        refused++
      }
    }
    expect(refused).toBeGreaterThan(0)
  })
})

describe('ids', () => {
  const OTHER_TRACE = '0af7651916cd43dd8448eb211c80319c'
  const OTHER_SPAN = 'b7ad6b7169203331'
  /** The same span through both decoders: protobuf (ids as bytes) and OTLP JSON (ids as hex). */
  function both(span: Record<string, unknown>, hexIds: Record<string, unknown> = span) {
    const json = decodeJson(Buffer.from(JSON.stringify({ resourceSpans: [{ scopeSpans: [{ spans: [{ traceId: TRACE, spanId: SPAN, name: 'op', startTimeUnixNano: '1767225600000000001', endTimeUnixNano: '1767225600500000000', ...hexIds }] }] }] })))
    return { protobuf: decodeProtobuf(encode(request(span))), json }
  }

  it('reads an all-zero parent_span_id as no parent: the span is a root, listed with its trace', () => {
    for (const [format, decoded] of Object.entries(both({ parentSpanId: Buffer.alloc(8) }, { parentSpanId: '0'.repeat(16) }))) {
      expect(decoded.rejected, format).toBe(0)
      expect(decoded.spans[0]?.parentSpanId, format).toBe('')
    }
  })

  it('refuses a span that is its own parent, naming it', () => {
    for (const [format, decoded] of Object.entries(both({ parentSpanId: id(SPAN) }, { parentSpanId: SPAN }))) {
      expect(decoded, format).toMatchObject({ spans: [], rejected: 1 })
      expect(decoded.problems[0], format).toBe(`span 0 "op" (${SPAN}): parent_span_id is the span's own span_id`)
    }
  })

  it('refuses a span with a link whose ids are malformed, naming the link (the id was stored as "invalid")', () => {
    const cases: Array<[string, Record<string, unknown>, Record<string, unknown>, RegExp]> = [
      ['3-byte trace id', { traceId: id('abcdef'), spanId: id(OTHER_SPAN) }, { traceId: 'abcdef', spanId: OTHER_SPAN }, /link 0: invalid trace_id/],
      ['not an id', { traceId: id(OTHER_TRACE), spanId: id('abcd') }, { traceId: OTHER_TRACE, spanId: 'not-an-id' }, /link 0: invalid span_id/],
      ['all-zero trace id', { traceId: Buffer.alloc(16), spanId: id(OTHER_SPAN) }, { traceId: '0'.repeat(32), spanId: OTHER_SPAN }, /link 0: invalid trace_id/],
      ['no span id', { traceId: id(OTHER_TRACE) }, { traceId: OTHER_TRACE }, /link 0: invalid span_id/],
    ]
    for (const [name, pb, json, why] of cases) {
      const good = { traceId: id(OTHER_TRACE), spanId: id(OTHER_SPAN) }
      const decoded = both({ links: [good, pb] }, { links: [{ traceId: OTHER_TRACE, spanId: OTHER_SPAN }, json] })
      for (const [format, d] of Object.entries(decoded)) {
        expect(d, `${name}, ${format}`).toMatchObject({ spans: [], rejected: 1 })
        expect(d.problems[0], `${name}, ${format}`).toMatch(new RegExp(why.source.replace('link 0', 'link 1')))
      }
    }
    for (const [format, d] of Object.entries(both({ links: [{ traceId: id(OTHER_TRACE), spanId: id(OTHER_SPAN) }] }, { links: [{ traceId: OTHER_TRACE, spanId: OTHER_SPAN }] }))) {
      expect(d.spans[0]?.links, format).toEqual([{ traceId: OTHER_TRACE, spanId: OTHER_SPAN, attributes: {} }])
    }
  })
})

describe('OTLP JSON values: a value of the wrong type refuses its span, named, never converted', () => {
  const withAttribute = (value: unknown) => decodeJson(jsonBody([{ scopeSpans: [{ spans: [jspan({ attributes: [{ key: 'k', value }] })] }] }]))

  it.each<[unknown, string]>([
    [{ boolValue: 'false' }, 'boolValue must be a JSON boolean (true or false), not "false"'],
    [{ boolValue: 0 }, 'boolValue must be a JSON boolean (true or false), not 0'],
    [{ doubleValue: 'abc' }, 'doubleValue must be a number'],
    [{ doubleValue: '' }, 'doubleValue must be a number'],
    [{ doubleValue: '0x10' }, 'doubleValue must be a number'],
    [{ doubleValue: ' 1' }, 'doubleValue must be a number'],
    [{ doubleValue: '1e400' }, 'doubleValue must be a number'],
    [{ doubleValue: true }, 'doubleValue must be a number'],
    [{ stringValue: { a: 1 } }, 'stringValue must be a string, not an object'],
    [{ stringValue: 5 }, 'stringValue must be a string, not 5'],
    [{ intValue: 2.7 }, 'intValue must be an integer within int64'],
    [{ intValue: '2.7' }, 'intValue must be an integer within int64'],
    [{ intValue: '15e-1' }, 'intValue must be an integer within int64'],
    [{ intValue: '1.0000000000000000001' }, 'intValue must be an integer within int64'],
    [{ intValue: '9223372036854775808' }, 'intValue must be an integer within int64'],
    [{ intValue: '-9223372036854775809' }, 'intValue must be an integer within int64'],
    [{ intValue: 1e19 }, 'intValue must be an integer within int64'],
    [{ intValue: true }, 'intValue must be an integer within int64'],
    [{ bytesValue: 5 }, 'bytesValue must be a base64 string'],
    [{ bytesValue: 'not base64!' }, 'bytesValue must be a base64 string'],
    [{ arrayValue: 'x' }, 'arrayValue must be an object'],
    [{ arrayValue: { values: 'x' } }, 'values must be a list'],
    [{ kvlistValue: [] }, 'kvlistValue must be an object'],
    [{ kvlistValue: { values: [{ key: 5, value: { stringValue: 'v' } }] } }, 'key must be a string'],
    [{ kvlistValue: { values: ['kv'] } }, 'a KeyValue must be an object'],
    ['plain', 'value must be an AnyValue object, not "plain"'],
    [[1], 'value must be an AnyValue object, not a list'],
    [{ stringValue: 'a', intValue: 1 }, 'more than one value (stringValue, intValue)'],
  ])('%j', (value, why) => {
    const d = withAttribute(value)
    expect(d).toMatchObject({ spans: [], rejected: 1 })
    expect(d.problems[0]).toContain(`span 0 "op" (${SPAN}): attribute "k`)
    expect(d.problems[0]).toContain(why)
  })

  it('names the path down to a nested value', () => {
    const value = { kvlistValue: { values: [{ key: 'inner', value: { arrayValue: { values: [{ intValue: 1 }, { boolValue: 'no' }] } } }] } }
    expect(withAttribute(value).problems[0]).toBe(`span 0 "op" (${SPAN}): attribute "k"."inner"[1]: boolValue must be a JSON boolean (true or false), not "no"`)
    const d = decodeJson(jsonBody([{ scopeSpans: [{ spans: [jspan({ events: [{ name: 'e' }, { name: 'e', attributes: [{ key: 'x', value: { intValue: 'x' } }] }] })] }] }]))
    expect(d.problems[0]).toContain('event 1: attribute "x": intValue must be')
  })

  it('reads every form proto3 JSON allows, as the values were sent', () => {
    const forms: Array<[unknown, unknown]> = [
      [{ boolValue: false }, false],
      [{ doubleValue: 1.5 }, 1.5],
      [{ doubleValue: 3 }, 3],
      [{ doubleValue: '1.5' }, 1.5],
      [{ doubleValue: '-2e3' }, -2000],
      [{ doubleValue: 'NaN' }, Number.NaN],
      [{ doubleValue: 'Infinity' }, Number.POSITIVE_INFINITY],
      [{ doubleValue: '-Infinity' }, Number.NEGATIVE_INFINITY],
      [{ intValue: 7 }, 7],
      [{ intValue: '-7' }, -7],
      [{ intValue: '9223372036854775807' }, '9223372036854775807'],
      [{ intValue: '-9223372036854775808' }, '-9223372036854775808'],
      [{ intValue: '9007199254740993' }, '9007199254740993'],
      [{ intValue: '1e3' }, 1000],
      [{ intValue: 1e3 }, 1000],
      [{ intValue: '-2.50e1' }, -25],
      [{ intValue: 7.0 }, 7],
      [{ intValue: '9223372036854775807.000' }, '9223372036854775807'],
      [{ stringValue: '' }, ''],
      [{ bytesValue: 'AP8H' }, 'AP8H'],
      [{ arrayValue: {} }, []],
      [{ kvlistValue: { values: [{ key: 'a' }] } }, { a: null }],
      [{}, null],
      [null, null],
    ]
    for (const [value, expected] of forms) {
      const d = withAttribute(value)
      expect(d.rejected, JSON.stringify(value)).toBe(0)
      expect(d.spans[0]?.attributes.k, JSON.stringify(value)).toEqual(expected)
    }
  })

  it('refuses a value whose JSON type is wrong, and reads every right one as sent (fast-check)', () => {
    interface Case {
      value: unknown
      /** What the attribute must read as; absent when the value must be refused. */
      expected?: unknown
    }
    const isJsonNumberText = (s: string) => {
      try {
        return s === s.trim() && typeof JSON.parse(s) === 'number' && Number.isFinite(JSON.parse(s))
      } catch {
        return false
      }
    }
    const INT64 = { min: -(2n ** 63n), max: 2n ** 63n - 1n }
    const good: fc.Arbitrary<Case> = fc.oneof(
      fc.string().map((s) => ({ value: { stringValue: s }, expected: s })),
      fc.boolean().map((b) => ({ value: { boolValue: b }, expected: b })),
      fc.maxSafeInteger().map((n) => ({ value: { intValue: n }, expected: n })),
      fc.bigInt(INT64).map((b) => ({ value: { intValue: b.toString() }, expected: Number.isSafeInteger(Number(b)) ? Number(b) : b.toString() })),
      fc.double({ noNaN: true, noDefaultInfinity: true }).filter((d) => !Object.is(d, -0)).map((d) => ({ value: { doubleValue: d }, expected: d })),
      fc.double({ noNaN: true, noDefaultInfinity: true }).filter((d) => !Object.is(d, -0)).map((d) => ({ value: { doubleValue: String(d) }, expected: d })),
      fc.constantFrom<[string, number]>(['NaN', Number.NaN], ['Infinity', Number.POSITIVE_INFINITY], ['-Infinity', Number.NEGATIVE_INFINITY]).map(([s, d]) => ({ value: { doubleValue: s }, expected: d })),
      fc.uint8Array({ maxLength: 20 }).map((b) => ({ value: { bytesValue: Buffer.from(b).toString('base64') }, expected: Buffer.from(b).toString('base64') })),
    )
    const other = fc.oneof(fc.constant({}), fc.constant([]), fc.constant({ stringValue: 'x' }))
    const bad: fc.Arbitrary<Case> = fc.oneof(
      fc.oneof(fc.integer(), fc.boolean(), other).map((v) => ({ value: { stringValue: v } })),
      fc.oneof(fc.string(), fc.integer(), other).map((v) => ({ value: { boolValue: v } })),
      fc.double({ noNaN: true, noDefaultInfinity: true }).filter((d) => !Number.isInteger(d) || Math.abs(d) >= 2 ** 63).map((d) => ({ value: { intValue: d } })),
      // Not a number's text: which of those are integers is the property test of 64-bit integers below.
      fc.string().filter((s) => !/^[-+\d.eE]+$/.test(s)).map((s) => ({ value: { intValue: s } })),
      fc.oneof(fc.bigInt({ min: INT64.max + 1n }), fc.bigInt({ max: INT64.min - 1n })).map((b) => ({ value: { intValue: b.toString() } })),
      fc.oneof(fc.boolean(), other).map((v) => ({ value: { intValue: v } })),
      fc.string().filter((s) => !isJsonNumberText(s) && !['NaN', 'Infinity', '-Infinity'].includes(s)).map((s) => ({ value: { doubleValue: s } })),
      fc.oneof(fc.boolean(), other).map((v) => ({ value: { doubleValue: v } })),
      fc.oneof(fc.integer(), fc.boolean(), other, fc.constantFrom('a b', 'ab$', '@@')).map((v) => ({ value: { bytesValue: v } })),
      fc.oneof(fc.string(), fc.integer(), fc.boolean()).map((v) => ({ value: v })),
    )
    // Some values nested in a list or a kvlist, to check the walk down.
    const nested = (c: fc.Arbitrary<Case>) =>
      fc.oneof(
        c,
        c.map((x) => ({ value: { arrayValue: { values: [x.value] } }, ...('expected' in x ? { expected: [x.expected] } : {}) })),
        c.map((x) => ({ value: { kvlistValue: { values: [{ key: 'n', value: x.value }] } }, ...('expected' in x ? { expected: { n: x.expected } } : {}) })),
      )
    fc.assert(
      fc.property(fc.array(fc.oneof({ weight: 4, arbitrary: nested(good) }, { weight: 1, arbitrary: nested(bad) }), { minLength: 1, maxLength: 6 }), (cases) => {
        const d = decodeJson(jsonBody([{ scopeSpans: [{ spans: [jspan({ attributes: cases.map((c, i) => ({ key: `k${i}`, value: c.value })) })] }] }]))
        const firstBad = cases.findIndex((c) => !('expected' in c))
        if (firstBad < 0) {
          expect(d.rejected).toBe(0)
          expect(d.spans[0]?.attributes).toEqual(Object.fromEntries(cases.map((c, i) => [`k${i}`, c.expected])))
        } else {
          expect(d.spans).toEqual([])
          expect(d.problems[0]).toContain(`attribute "k${firstBad}"`)
        }
      }),
      { seed: 20261206, numRuns: 400 },
    )
  })

  it('refuses every span of a resource or scope it cannot read, keeping the others (a wrong-typed resource attribute was a 500, a scope attribute was not read)', () => {
    const good = { scopeSpans: [{ spans: [jspan({ name: 'kept' })] }] }
    const d = decodeJson(
      jsonBody([
        { resource: { attributes: [{ key: 'service.name', value: { intValue: 'svc' } }] }, scopeSpans: [{ spans: [jspan(), jspan()] }] },
        { resource: 'svc', scopeSpans: [{ spans: [jspan()] }] },
        { scopeSpans: [{ scope: { name: 7 }, spans: [jspan()] }] },
        { scopeSpans: [{ scope: { name: 'sc', attributes: [{ key: 'bad', value: { boolValue: 'no' } }] }, spans: [jspan()] }] },
        { scopeSpans: [{ scope: { name: 'sc', attributes: 'none' }, spans: [jspan()] }] },
        good,
      ]),
    )
    expect(d.spans.map((s) => s.name)).toEqual(['kept'])
    expect(d.rejected).toBe(6)
    expect(d.problems).toEqual([
      `span 0 "op" (${SPAN}): resource attribute "service.name": intValue must be an integer within int64 (a JSON number or a decimal string), not "svc"`,
      `span 1 "op" (${SPAN}): resource attribute "service.name": intValue must be an integer within int64 (a JSON number or a decimal string), not "svc"`,
      `span 2 "op" (${SPAN}): resource must be an object, not "svc"`,
      `span 3 "op" (${SPAN}): scope name must be a string, not 7`,
      `span 4 "op" (${SPAN}): scope attribute "bad": boolValue must be a JSON boolean (true or false), not "no"`,
    ])
    expect(d.spans[0]).toMatchObject({ position: 6, scopeName: '' })
  })

  it('checks a scope\'s attributes and keeps none of them (no column holds them), its name and version read as before', () => {
    const scope = { name: 'sc', version: '2', attributes: [{ key: 'k', value: { stringValue: 'v' } }] }
    const d = decodeJson(jsonBody([{ scopeSpans: [{ scope, spans: [jspan()] }] }]))
    expect(d.rejected).toBe(0)
    expect(d.spans[0]).toMatchObject({ scopeName: 'sc', scopeVersion: '2', attributes: {} })
    expect(decodeProtobuf(encode({ resourceSpans: [{ scopeSpans: [{ scope, spans: [{ traceId: id(TRACE), spanId: id(SPAN), name: 'op', startTimeUnixNano: '1767225600000000001', endTimeUnixNano: '1767225600500000000' }] }] }] }))).toEqual(d)
  })

  it('refuses with SPANLENS_BAD_OTLP a body whose lists are not lists: nothing in them can be counted (they were skipped)', () => {
    for (const resourceSpans of [[5], [{ scopeSpans: 'x' }], [{ scopeSpans: [7] }], [{ scopeSpans: [{ spans: {} }] }]]) {
      expect(() => decodeJson(jsonBody(resourceSpans)), JSON.stringify(resourceSpans)).toThrow(expect.objectContaining({ code: 'SPANLENS_BAD_OTLP' }))
    }
    expect(decodeJson(jsonBody([null, { scopeSpans: [null] }]))).toEqual({ spans: [], rejected: 0, problems: [] })
  })

  it('refuses a span kind, status code or time that is not what its field holds (a time of 1.5 was stored as 1)', () => {
    for (const [over, why] of [
      [{ kind: 1.5 }, 'kind must be an integer enum (int32) or a SpanKind name, not 1.5'],
      [{ kind: 2 ** 31 }, 'kind must be an integer enum (int32)'],
      [{ kind: 'SPAN_KIND_BOGUS' }, 'kind must be an integer enum (int32) or a SpanKind name, not "SPAN_KIND_BOGUS"'],
      [{ status: { code: '3' } }, 'status.code must be an integer enum (int32) or a StatusCode name'],
      [{ startTimeUnixNano: 1767225600000000.5 }, 'start_time_unix_nano must be a non-negative integer'],
      [{ status: { code: 1, message: 5 } }, 'status.message must be a string'],
    ] as const) {
      const d = decodeJson(jsonBody([{ scopeSpans: [{ spans: [jspan(over)] }] }]))
      expect(d.rejected, JSON.stringify(over)).toBe(1)
      expect(d.problems[0], JSON.stringify(over)).toContain(why)
    }
  })
})

describe('enums: proto3 enums are open, so a value this version does not know keeps its span, as the Collector does', () => {
  it('stores a span kind outside 0-5 as unspecified and a status code outside 0-2 as unset, from protobuf and JSON alike (such spans were refused)', () => {
    const cases: Array<[Record<string, unknown>, number, number]> = [
      [{ kind: 9, status: { code: 7, message: 'm' } }, 0, 0],
      [{ kind: -1, status: { code: -3 } }, 0, 0],
      [{ kind: 2 ** 31 - 1, status: { code: 2 ** 31 - 1 } }, 0, 0],
      [{ kind: 5, status: { code: 2 } }, 5, 2],
      [{ kind: 'SPAN_KIND_CLIENT', status: { code: 'STATUS_CODE_ERROR' } }, 3, 2],
    ]
    for (const [over, kind, statusCode] of cases) {
      const json = decodeJson(jsonBody([{ scopeSpans: [{ spans: [jspan(over)] }] }]))
      expect(json.rejected, JSON.stringify(over)).toBe(0)
      expect(json.spans[0], JSON.stringify(over)).toMatchObject({ kind, statusCode })
      if (typeof over.kind !== 'number') continue
      const pb = decodeProtobuf(encode(request(over)))
      expect(pb.rejected, JSON.stringify(over)).toBe(0)
      expect(pb.spans[0], JSON.stringify(over)).toMatchObject({ kind, statusCode, statusMessage: (over.status as { message?: string }).message ?? '' })
    }
  })
})

describe('a refused span is named by its position in the request', () => {
  it('counting every span in the order sent, across resources and scopes, in JSON and protobuf alike (JSON counted them within each scope, protobuf named none by place)', () => {
    const span = (n: number, over: Record<string, unknown> = {}) => jspan({ spanId: `00000000000000${String(n).padStart(2, '0')}`, name: `s${n}`, ...over })
    const resourceSpans = [
      { scopeSpans: [{ spans: [span(1), span(2, { traceId: 'abcd' })] }, { spans: [span(3, { parentSpanId: '0000000000000003' }), span(4)] }] },
      { scopeSpans: [{ spans: [] }, { spans: [span(5), span(6, { startTimeUnixNano: '1767225600600000000' })] }] },
    ]
    const pbSpan = (s: Record<string, unknown>) => ({ ...s, traceId: id(s.traceId as string), spanId: id(s.spanId as string), ...(s.parentSpanId ? { parentSpanId: id(s.parentSpanId as string) } : {}) })
    const protobuf = encode({ resourceSpans: resourceSpans.map((rs) => ({ scopeSpans: rs.scopeSpans.map((ss) => ({ spans: ss.spans.map(pbSpan) })) })) })
    const expected = [
      'span 1 "s2" (0000000000000002): invalid trace_id (expected 16 non-zero bytes)',
      'span 2 "s3" (0000000000000003): parent_span_id is the span\'s own span_id',
      'span 5 "s6" (0000000000000006): end_time_unix_nano is before start_time_unix_nano',
    ]
    for (const [format, d] of Object.entries({ json: decodeJson(jsonBody(resourceSpans)), protobuf: decodeProtobuf(protobuf) })) {
      expect(d.problems, format).toEqual(expected)
      expect(d.spans.map((s) => [s.name, s.position]), format).toEqual([['s1', 0], ['s4', 3], ['s5', 4]])
    }
  })
})

describe('scope attributes are read as resource attributes are, and dropped', () => {
  const times = Buffer.concat([Buffer.from([0x39]), Buffer.from('0100e4f7a2e88618', 'hex'), Buffer.from([0x41]), Buffer.from('0100e4f7a2e88618', 'hex')])
  const span = Buffer.concat([field(1, id(TRACE)), field(2, id(SPAN)), field(5, Buffer.from('op')), times])
  const keyValue = (value: Buffer) => Buffer.concat([field(1, Buffer.from('k')), value])
  // AnyValue whose length (5) runs past its KeyValue's end.
  const damaged = keyValue(Buffer.from([0x12, 0x05, 0x0a]))
  const good = keyValue(field(2, field(1, Buffer.from('v'))))
  /** ResourceSpans { resource { attributes }, scope_spans { scope { name, attributes }, spans } }. */
  const body = (resourceAttribute: Buffer, scopeAttribute: Buffer) =>
    field(1, Buffer.concat([field(1, field(1, resourceAttribute)), field(2, Buffer.concat([field(1, Buffer.concat([field(1, Buffer.from('sc')), field(3, scopeAttribute)])), field(2, span)]))]))

  it('refuses a protobuf body whose scope attribute is damaged with SPANLENS_BAD_OTLP, as one whose resource attribute is (the scope\'s were skipped unread)', () => {
    expect(decodeProtobuf(body(good, good))).toMatchObject({ rejected: 0, spans: [{ scopeName: 'sc', resource: { k: 'v' } }] })
    expect(() => decodeProtobuf(body(damaged, good))).toThrow(expect.objectContaining({ code: 'SPANLENS_BAD_OTLP' }))
    expect(() => decodeProtobuf(body(good, damaged))).toThrow(expect.objectContaining({ code: 'SPANLENS_BAD_OTLP' }))
  })
})

/** A length-delimited field: tag, length, bytes. */
function field(n: number, bytes: Buffer): Buffer {
  return Buffer.concat([varint((n << 3) | 2), varint(bytes.length), bytes])
}

function varint(n: number): Buffer {
  const bytes: number[] = []
  while (n > 0x7f) {
    bytes.push((n & 0x7f) | 0x80)
    n >>>= 7
  }
  bytes.push(n)
  return Buffer.from(bytes)
}
