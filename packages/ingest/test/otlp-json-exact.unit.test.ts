import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { decodeJson } from '../src/otlp/decode.js'
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

describe('longIntegersQuoted', () => {
  it('quotes long integer literals outside strings and nothing else', () => {
    expect(longIntegersQuoted('{"a":12345678901234567,"b":[-12345678901234567, 1234567890123456.5, 1e1234567890123456789]}')).toBe(
      '{"a":"12345678901234567","b":["-12345678901234567", 1234567890123456.5, 1e1234567890123456789]}',
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
      // A double of 1e15 or more is written as a long integer literal too: it becomes its text.
      return { text, expected: /^-?\d{16,}$/.test(text) ? text : (JSON.parse(text) as unknown) }
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
