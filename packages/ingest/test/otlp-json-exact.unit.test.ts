import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { decodeJson, MAX_TIME_NS } from '../src/otlp/decode.js'
import { decodeLogsJson } from '../src/otlp/decode-logs.js'
import { decodeMetricsJson } from '../src/otlp/decode-metrics.js'
import { longIntegersQuoted } from '../src/otlp/exact-json.js'

// Bodies are written as text: JSON.stringify cannot write an integer past 2^53 exactly.
const TRACE = 'ab'.repeat(16)
const SPAN = 'cd'.repeat(8)
const body = (text: string) => Buffer.from(text)

describe('OTLP JSON integers past 2^53 sent as JSON numbers are read exactly, as the Collector does', () => {
  it('keeps a span\'s nanosecond times and an int attribute exact (JSON.parse moved them by 256 ns and 1)', () => {
    const d = decodeJson(
      body(`{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"${TRACE}","spanId":"${SPAN}","name":"op",
        "startTimeUnixNano":1767225600000000001,"endTimeUnixNano":1767225600123456789,
        "attributes":[{"key":"big","value":{"intValue":9007199254740993}},{"key":"small","value":{"intValue":7}},
          {"key":"d","value":{"doubleValue":12345678901234567890}},{"key":"f","value":{"doubleValue":1.5e300}},
          {"key":"s","value":{"stringValue":"order 12345678901234567890, \\"quoted\\" 9007199254740993"}}],
        "events":[{"name":"e","timeUnixNano":1767225600000000003}]}]}]}]}`),
    )
    expect(d.rejected).toBe(0)
    const span = d.spans[0]
    expect(span).toMatchObject({ startNs: '1767225600000000001', endNs: '1767225600123456789' })
    expect(span?.events[0]?.timeNs).toBe('1767225600000000003')
    expect(span?.attributes).toEqual({
      big: '9007199254740993',
      small: 7,
      // A double field holds the nearest double either way.
      d: 12345678901234567890,
      f: 1.5e300,
      s: 'order 12345678901234567890, "quoted" 9007199254740993',
    })
  })

  it('refuses an int64 past its range sent as a number, as it does the same digits as a string', () => {
    const d = decodeJson(
      body(`{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"${TRACE}","spanId":"${SPAN}","name":"op","startTimeUnixNano":"1",
        "attributes":[{"key":"k","value":{"intValue":9223372036854775808}}]}]}]}]}`),
    )
    expect(d).toMatchObject({ spans: [], rejected: 1 })
    expect(d.problems[0]).toContain('intValue must be an integer within int64')
  })

  it('counts each span once when the body is read again: the first read\'s results are dropped', () => {
    const spans = [1, 2, 3].map((i) => `{"traceId":"${TRACE}","spanId":"${'0'.repeat(15)}${i}","name":"op${i}","startTimeUnixNano":1767225600000000001,"endTimeUnixNano":"1767225600000000002"}`)
    const bad = `{"traceId":"${TRACE}","spanId":"${SPAN}","name":"bad","kind":"NOPE"}`
    const d = decodeJson(body(`{"resourceSpans":[{"scopeSpans":[{"spans":[${spans.join(',')},${bad}]}]}]}`))
    expect(d.spans.map((s) => s.name)).toEqual(['op1', 'op2', 'op3'])
    expect(d.rejected).toBe(1)
    expect(d.problems).toHaveLength(1)
  })

  it('keeps log record times exact', () => {
    const d = decodeLogsJson(
      body(`{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"timeUnixNano":1767225600000000001,"observedTimeUnixNano":1767225600000000002,
        "body":{"intValue":9007199254740995}}]}]}]}`),
    )
    expect(d.rejected).toBe(0)
    expect(d.records[0]).toMatchObject({ timeNs: '1767225600000000001', observedNs: '1767225600000000002', body: '9007199254740995' })
  })

  it('keeps metric point times exact', () => {
    const d = decodeMetricsJson(
      body(`{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"name":"m","sum":{"aggregationTemporality":1,"dataPoints":[
        {"startTimeUnixNano":1767225600000000001,"timeUnixNano":1767225600000000009,"asInt":5}]}}]}]}]}`),
    )
    expect(d.rejected).toBe(0)
    expect(d.points[0]).toMatchObject({ startNs: '1767225600000000001', timeNs: '1767225600000000009' })
  })
})

describe('OTLP JSON 64-bit integers written with a fraction of zeros or an exponent are read exactly, as proto3 JSON allows', () => {
  const span = (fields: string) => body(`{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"${TRACE}","spanId":"${SPAN}","name":"op",${fields}}]}]}]}`)

  it('keeps a time written 1796600219921456789.0 exact beside its sibling written as an integer (it was rounded, and the span refused as ending before it started)', () => {
    const d = decodeJson(span('"startTimeUnixNano":1796600219921456789.0,"endTimeUnixNano":1796600219921456789'))
    expect(d.problems).toEqual([])
    expect(d.spans[0]).toMatchObject({ startNs: '1796600219921456789', endNs: '1796600219921456789' })
  })

  it('reads every integral form of a time and an int64 as its exact value, and refuses every other form naming the field (fast-check)', () => {
    /** Ways proto3 JSON writes the integer v: digits, a fraction of zeros, the point moved into an exponent, trailing zeros moved out of one. */
    const integral = (v: bigint): fc.Arbitrary<string> => {
      const sign = v < 0n ? '-' : ''
      const digits = (v < 0n ? -v : v).toString()
      return fc.oneof(
        fc.constant(`${sign}${digits}`),
        fc.integer({ min: 1, max: 5 }).map((k) => `${sign}${digits}.${'0'.repeat(k)}`),
        fc.tuple(fc.integer({ min: 1, max: digits.length }), fc.integer({ min: 0, max: 3 }), fc.constantFrom('e', 'E', 'e+')).map(([point, zeros, e]) => {
          const fraction = digits.slice(point) + '0'.repeat(zeros)
          return `${sign}${digits.slice(0, point)}${fraction ? `.${fraction}` : ''}${e}${digits.length - point}`
        }),
        // JSON has no leading zeros: 0 has no such form.
        fc.integer({ min: 1, max: 4 }).map((k) => (v === 0n ? digits : `${sign}${digits}${'0'.repeat(k)}e-${k}`)),
      )
    }
    /** A form whose value is v plus a fraction that is not zero. */
    const fractional = (v: bigint): fc.Arbitrary<string> =>
      fc.tuple(fc.stringMatching(/^[0-9]{0,3}[1-9]$/), fc.boolean()).map(([fraction, exponent]) => {
        const text = `${v}.${fraction}`
        return exponent ? `${v}${fraction}e-${fraction.length}` : text
      })
    const asJson = (text: string, quoted: boolean) => (quoted ? `"${text}"` : text)
    const time = fc.bigInt({ min: 1n, max: BigInt(MAX_TIME_NS) })
    const int64 = fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n })
    const exact = (v: bigint) => (Number.isSafeInteger(Number(v)) ? Number(v) : v.toString())
    fc.assert(
      fc.property(
        time.chain((t) => fc.tuple(fc.constant(t), integral(t), integral(t), fc.boolean(), fc.boolean())),
        int64.chain((i) => fc.tuple(fc.constant(i), integral(i), fc.boolean())),
        ([t, start, end, startQuoted, endQuoted], [i, int, intQuoted]) => {
          const d = decodeJson(
            span(`"startTimeUnixNano":${asJson(start, startQuoted)},"endTimeUnixNano":${asJson(end, endQuoted)},
              "attributes":[{"key":"i","value":{"intValue":${asJson(int, intQuoted)}}},{"key":"d","value":{"doubleValue":${asJson(start, startQuoted)}}}]`),
          )
          expect(d.problems).toEqual([])
          expect(d.spans[0]).toMatchObject({ startNs: t.toString(), endNs: t.toString() })
          // A double field holds what JSON.parse makes of the same text.
          expect(d.spans[0]?.attributes).toEqual({ i: exact(i), d: Number(start) })
        },
      ),
      { seed: 20261207, numRuns: 400 },
    )
    fc.assert(
      // Past 2^52 a double holds no fraction, so every one must be seen in the text; below it, one a double holds.
      fc.property(fc.oneof(fc.bigInt({ min: 2n ** 52n, max: BigInt(MAX_TIME_NS) }).chain((t) => fractional(t)), fc.bigInt({ min: 1n, max: 2n ** 50n }).map((t) => `${t}.5`)), fc.boolean(), (text, quoted) => {
        const d = decodeJson(span(`"startTimeUnixNano":${asJson(text, quoted)},"endTimeUnixNano":"${MAX_TIME_NS}"`))
        expect(d.spans).toEqual([])
        expect(d.problems[0]).toContain('start_time_unix_nano must be a non-negative integer')
      }),
      { seed: 20261207, numRuns: 300 },
    )
  })

  it('reads counts, metric values and log times in the same forms', () => {
    const metrics = decodeMetricsJson(
      body(`{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"name":"h","histogram":{"aggregationTemporality":1,"dataPoints":[
        {"startTimeUnixNano":1.767225600000000001e18,"timeUnixNano":"17672256000000000090e-1","count":"3.0e0","bucketCounts":[1.0,"2e0"],"explicitBounds":[1]}]}},
        {"name":"g","gauge":{"dataPoints":[{"timeUnixNano":1767225600000000009.000,"asInt":"-9.0e15"},{"timeUnixNano":"1767225600000000009","asInt":1.5}]}}]}]}]}`),
    )
    expect(metrics.points.map((p) => [p.startNs, p.timeNs, p.count, p.bucketCounts, p.value])).toEqual([
      ['1767225600000000001', '1767225600000000009', 3, [1, 2], null],
      ['0', '1767225600000000009', 0, [], -9e15],
    ])
    expect(metrics.problems).toEqual(['metric 1 "g" point 1: as_int must be an integer within int64 (a JSON number or a decimal string), not 1.5'])
    const logs = decodeLogsJson(body(`{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"timeUnixNano":1767225600000000001.0,"observedTimeUnixNano":"1.767225600000000002E18"}]}]}]}`))
    expect(logs.records[0]).toMatchObject({ timeNs: '1767225600000000001', observedNs: '1767225600000000002' })
  })
})

describe('longIntegersQuoted', () => {
  it('quotes the literals outside strings that may be 64-bit integers past 2^52 and nothing else', () => {
    expect(longIntegersQuoted('{"a":12345678901234567,"b":[-12345678901234567, 1234567890123456.5, 1e1234567890123456789, 123456789012345.5, 1.5e300]}')).toBe(
      '{"a":"12345678901234567","b":["-12345678901234567", "1234567890123456.5", 1e1234567890123456789, 123456789012345.5, 1.5e300]}',
    )
    // A fraction or an exponent: quoted when the value has 16 to 20 digits before its point.
    expect(longIntegersQuoted('[1796600219921456789.0, 1.7966002199214568e18, 17966002199214567890e-1, 0.001e18, 0.001e17, 1e19, 1e20, -9.2e18]')).toBe(
      '["1796600219921456789.0", "1.7966002199214568e18", "17966002199214567890e-1", "0.001e18", 0.001e17, "1e19", 1e20, "-9.2e18"]',
    )
    expect(longIntegersQuoted('{"a":123456789012345,"b":"12345678901234567\\"12345678901234567"}')).toBe('{"a":123456789012345,"b":"12345678901234567\\"12345678901234567"}')
    // Not JSON before, not JSON after: the parse refuses it the same way.
    expect(() => JSON.parse(longIntegersQuoted('{"a":12345678901234567'))).toThrow()
  })

  it('parses to what JSON.parse gives, with each long integer as its exact decimal text (fast-check)', () => {
    const big = fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n })
    const value: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
      node: fc.oneof(
        { depthSize: 'small' },
        big.map((b) => ({ big: b })),
        fc.double({ noNaN: true, noDefaultInfinity: true }),
        fc.string({ unit: 'binary' }),
        fc.boolean(),
        fc.constant(null),
        fc.array(tie('node'), { maxLength: 4 }),
        fc.dictionary(fc.string(), tie('node'), { maxKeys: 4 }),
      ),
    })).node
    // Writes the value as JSON with big integers as bare literals; `expected` is what the exact parse must give.
    const write = (v: unknown): { text: string; expected: unknown } => {
      if (v !== null && typeof v === 'object' && 'big' in v && typeof (v as { big: unknown }).big === 'bigint') {
        const b = (v as { big: bigint }).big
        const digits = (b < 0n ? -b : b).toString().length
        return { text: b.toString(), expected: digits >= 16 ? b.toString() : Number(b) }
      }
      if (Array.isArray(v)) {
        const parts = v.map(write)
        return { text: `[${parts.map((p) => p.text).join(',')}]`, expected: parts.map((p) => p.expected) }
      }
      if (v !== null && typeof v === 'object') {
        const entries = Object.entries(v).map(([k, x]) => [k, write(x)] as const)
        return {
          text: `{${entries.map(([k, p]) => `${JSON.stringify(k)}:${p.text}`).join(',')}}`,
          expected: Object.fromEntries(entries.map(([k, p]) => [k, p.expected])),
        }
      }
      const text = JSON.stringify(v)
      // A double of 1e15 or more is written as a long integer literal too, or with a fraction
      // below 1e20 (2^53 at most): it becomes its text.
      const long = /^-?\d{16,}$/.test(text) || (typeof v === 'number' && /[.eE]/.test(text) && Math.abs(v) >= 1e15 && Math.abs(v) < 1e20)
      return { text, expected: long ? text : (JSON.parse(text) as unknown) }
    }
    fc.assert(
      fc.property(value, (v) => {
        const { text, expected } = write(v)
        expect(JSON.parse(longIntegersQuoted(text))).toEqual(expected)
      }),
      { numRuns: 300 },
    )
  })
})
