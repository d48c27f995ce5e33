import { describe, expect, it } from 'vitest'
import { eventContent } from '../src/normalize/content.js'
import { decodeLogsJson, decodeLogsProtobuf } from '../src/otlp/decode-logs.js'
import { type LogSpec, logsJson, logsJsonAsProtobuf, logsProtobuf } from './helpers/otlp-logs.js'
import { snakeCaseFields } from './helpers/snake-case.js'

const RECORDS: LogSpec[] = [
  { body: 'plain\ttext', severityNumber: 9, severityText: 'INFO', timeNs: '1795387631431000000', observedNs: '1795387631431000001', attributes: { a: 1, b: 1.5, c: true, d: [1, 'x'], e: { f: 'g' } } },
  { body: { content: 'hi', tool_calls: [{ id: 'c1', function: { name: 'f', arguments: '{}' } }] }, traceId: 'ab'.repeat(16), spanId: 'cd'.repeat(8), timeNs: '2', attributes: { 'event.name': 'gen_ai.assistant.message' } },
  { eventName: 'gen_ai.client.inference.operation.details', traceId: 'ab'.repeat(16), spanId: 'cd'.repeat(8), timeNs: '3', attributes: { 'gen_ai.output.messages': [{ role: 'assistant', parts: [{ type: 'text', content: 'x' }], finish_reason: 'length' }] } },
  { body: [1, 2, 3], traceId: '0'.repeat(32), spanId: '0'.repeat(16), timeNs: '0', observedNs: '5' },
]

describe('OTLP logs decoding', () => {
  it('reads the same records from protobuf and from OTLP JSON', () => {
    const fromProto = decodeLogsProtobuf(logsProtobuf(RECORDS))
    const fromJson = decodeLogsJson(Buffer.from(JSON.stringify(logsJson(RECORDS))))
    expect(fromProto).toEqual(fromJson)
    expect(fromProto.rejected).toBe(0)
    expect(fromProto.records.map((r) => [r.traceId, r.spanId, r.eventName, r.severityNumber])).toEqual([
      ['', '', '', 9],
      ['ab'.repeat(16), 'cd'.repeat(8), '', 0],
      ['ab'.repeat(16), 'cd'.repeat(8), 'gen_ai.client.inference.operation.details', 0],
      // All-zero ids mean none.
      ['', '', '', 0],
    ])
    expect(fromProto.records[0]?.attributes).toEqual({ a: 1, b: 1.5, c: true, d: [1, 'x'], e: { f: 'g' } })
  })

  it('reads the same records from OTLP JSON with proto (snake_case) field names', () => {
    const camel = logsJson(RECORDS, { resource: { 'service.name': 'snake', list: [1, 'x', { k: true }] } })
    const snake = snakeCaseFields(camel)
    expect(JSON.stringify(snake)).toContain('"string_value":"snake"')
    expect(decodeLogsJson(Buffer.from(JSON.stringify(snake)))).toEqual(decodeLogsJson(Buffer.from(JSON.stringify(camel))))
  })

  it('refuses a record by itself, naming why, and the whole body only when it does not decode', () => {
    const bad = decodeLogsJson(Buffer.from(JSON.stringify(logsJson([{ body: 'ok' }, { traceId: 'zz' }, { spanId: 'cd'.repeat(8) }]))))
    expect(bad.records).toHaveLength(1)
    expect(bad.rejected).toBe(2)
    expect(bad.problems).toEqual(['log record 1: invalid trace_id (expected 16 bytes or none)', 'log record 2: span_id without trace_id'])
    expect(() => decodeLogsJson(Buffer.from('[]'))).toThrow(/ExportLogsServiceRequest/)
    expect(() => decodeLogsProtobuf(Buffer.from([0x0a, 0x05, 0x12]))).toThrow(/could not be decoded/)
  })
})

describe('a refused log record is named by its position in the request', () => {
  it('counting every record in the order sent, across resources and scopes, in JSON and protobuf alike (JSON counted them within each scope, protobuf named none by place)', () => {
    const scopeLogs = (records: LogSpec[]) => (logsJson(records).resourceLogs as Array<{ scopeLogs: unknown[] }>)[0]?.scopeLogs[0]
    const request = {
      resourceLogs: [
        { scopeLogs: [scopeLogs([{ body: 'a' }, { traceId: 'abcd' }]), scopeLogs([{ body: 'b' }])] },
        { scopeLogs: [scopeLogs([{ spanId: 'cd'.repeat(8) }, { body: 'c' }])] },
      ],
    }
    for (const [format, d] of Object.entries({ json: decodeLogsJson(Buffer.from(JSON.stringify(request))), protobuf: decodeLogsProtobuf(logsJsonAsProtobuf(request)) })) {
      expect(d.problems, format).toEqual(['log record 1: invalid trace_id (expected 16 bytes or none)', 'log record 3: span_id without trace_id'])
      expect(d.records.map((r) => [r.body, r.position]), format).toEqual([['a', 0], ['b', 2], ['c', 4]])
    }
  })
})

describe('severity numbers: an open enum, so a record with one this version does not know is kept, as the Collector keeps it', () => {
  it('stores a severity number outside 0-24 as unspecified, its text as sent, from JSON and protobuf alike (such records were refused)', () => {
    const records: LogSpec[] = [{ severityNumber: 25, severityText: 'CRITICAL' }, { severityNumber: -1 }, { severityNumber: 2 ** 31 - 1 }, { severityNumber: 17, severityText: 'ERROR' }]
    for (const [format, d] of Object.entries({ json: decodeLogsJson(Buffer.from(JSON.stringify(logsJson(records)))), protobuf: decodeLogsProtobuf(logsProtobuf(records)) })) {
      expect(d.rejected, format).toBe(0)
      expect(d.records.map((r) => [r.severityNumber, r.severityText]), format).toEqual([[0, 'CRITICAL'], [0, ''], [0, ''], [17, 'ERROR']])
    }
  })

  it('refuses a JSON severity number that is no int32 or no SeverityNumber name, as a value of the wrong type', () => {
    for (const severityNumber of [1.5, 2 ** 31, 'LOUD', '9']) {
      const d = decodeLogsJson(Buffer.from(JSON.stringify(logsJson([{ severityNumber }]))))
      expect(d.rejected, String(severityNumber)).toBe(1)
      expect(d.problems[0], String(severityNumber)).toContain('log record 0: severityNumber must be an integer enum (int32) or a SeverityNumber name')
    }
  })
})

describe('OTLP JSON log values of the wrong type', () => {
  const decode = (request: unknown) => decodeLogsJson(Buffer.from(JSON.stringify(request)))
  const withRecord = (record: Record<string, unknown>, resource: unknown[] = []) => ({ resourceLogs: [{ resource: { attributes: resource }, scopeLogs: [{ logRecords: [record] }] }] })

  it('refuse their record, naming the field and the type it takes (they were converted)', () => {
    for (const [record, why] of [
      [{ body: { boolValue: 'false' } }, 'log record 0: body: boolValue must be a JSON boolean (true or false), not "false"'],
      [{ body: { kvlistValue: { values: [{ key: 'role', value: { stringValue: 7 } }] } } }, 'log record 0: body."role": stringValue must be a string, not 7'],
      [{ attributes: [{ key: 'n', value: { intValue: 2.7 } }] }, 'log record 0: attribute "n": intValue must be an integer within int64'],
      [{ severityText: 3 }, 'log record 0: severityText must be a string, not 3'],
      [{ timeUnixNano: 1.5 }, 'log record 0: time_unix_nano must be a non-negative integer'],
    ] as const) {
      const d = decode(withRecord(record))
      expect(d, JSON.stringify(record)).toMatchObject({ records: [], rejected: 1 })
      expect(d.problems[0], JSON.stringify(record)).toContain(why)
    }
  })

  it('in a resource, refuse every record of it, not the request (it was a 500)', () => {
    const d = decode(withRecord({ body: { stringValue: 'x' } }, [{ key: 'service.name', value: { doubleValue: 'svc' } }]))
    expect(d).toMatchObject({ records: [], rejected: 1 })
    expect(d.problems[0]).toContain('log record 0: resource attribute "service.name": doubleValue must be a number')
  })

  it('in a scope, refuse every record of it, as in a resource (the scope\'s attributes were not read)', () => {
    const inScope = (attributes: unknown) => ({ resourceLogs: [{ scopeLogs: [{ scope: { name: 's', attributes }, logRecords: [{ body: { stringValue: 'x' } }, {}] }] }] })
    const d = decode(inScope([{ key: 'bad', value: { boolValue: 'no' } }]))
    expect(d).toMatchObject({ records: [], rejected: 2 })
    expect(d.problems).toEqual(['log record 0: scope attribute "bad": boolValue must be a JSON boolean (true or false), not "no"', 'log record 1: scope attribute "bad": boolValue must be a JSON boolean (true or false), not "no"'])
    expect(decode(inScope([{ key: 'ok', value: { boolValue: true } }]))).toMatchObject({ rejected: 0, records: [{ scopeName: 's' }, { scopeName: 's' }] })
  })
})

describe('GenAI event content, the span content code applied to a log record', () => {
  it('reads the details event from structured values and from JSON strings alike', () => {
    const input = [{ role: 'user', parts: [{ type: 'text', content: 'q' }] }]
    const output = [{ role: 'assistant', parts: [{ type: 'text', content: 'a' }], finish_reason: 'max_tokens' }]
    const structured = eventContent('gen_ai.client.inference.operation.details', null, { 'gen_ai.input.messages': input, 'gen_ai.output.messages': output })
    const strings = eventContent('gen_ai.client.inference.operation.details', null, { 'gen_ai.input.messages': JSON.stringify(input), 'gen_ai.output.messages': JSON.stringify(output) })
    expect(structured).toEqual(strings)
    expect(structured).toEqual({ input: JSON.stringify(input), output: JSON.stringify(output), finishReason: 'length' })
    const withInstructions = eventContent('gen_ai.client.inference.operation.details', null, { 'gen_ai.system_instructions': 'be brief', 'gen_ai.input.messages': input })
    expect(JSON.parse(withInstructions.input ?? '')[0]).toEqual({ role: 'system', parts: [{ type: 'text', content: 'be brief' }] })
  })

  it('reads message events from kvlist bodies and from JSON string bodies alike', () => {
    const body = { role: 'tool', id: 'call_1', content: '{"ok":true}' }
    expect(eventContent('gen_ai.tool.message', body, {})).toEqual(eventContent('gen_ai.tool.message', JSON.stringify(body), {}))
    expect(eventContent('gen_ai.tool.message', body, {}).input).toBe('[{"role":"tool","parts":[{"type":"tool_call_response","id":"call_1","response":"{\\"ok\\":true}"}]}]')
    expect(eventContent('gen_ai.user.message', 'just text', {}).input).toBe('[{"role":"user","parts":[{"type":"text","content":"just text"}]}]')
    const choice = eventContent('gen_ai.choice', { finish_reason: 'content_filter', message: { content: null } }, {})
    expect(choice).toEqual({ input: undefined, output: '[{"role":"assistant","parts":[],"finish_reason":"content_filter"}]', finishReason: 'content_filter' })
  })
})
