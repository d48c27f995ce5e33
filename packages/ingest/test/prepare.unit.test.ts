import { describe, expect, it } from 'vitest'
import { PriceTable } from '../src/normalize/cost.js'
import { normalizeSpan } from '../src/normalize/normalize.js'
import { decodeJson } from '../src/otlp/decode.js'
import { prepare } from '../src/pipeline/prepare.js'
import { encodeRow } from '../src/pipeline/row-format.js'
import { jsonRequest, protobufRequest } from './helpers/otlp.js'
import { logsJson, logsProtobuf } from './helpers/otlp-logs.js'

describe('prepare: a request becomes its rows', () => {
  it('writes every row whole when the rows outgrow the first buffer, multibyte text included', () => {
    // ~2 KB per span is the first guess; these rows are several times that, in 1-4 byte UTF-8.
    const texts = Array.from({ length: 30 }, (_, i) => `${'é€😀a'.repeat(200 + i * 40)}\t\\n${i}`)
    const req = jsonRequest(texts.map((t) => ({ attributes: [{ key: 'gen_ai.input.messages', value: { stringValue: t } }] })))
    const ctx = { prices: PriceTable.load() }
    const prepared = prepare('traces', 'json', Buffer.from(JSON.stringify(req)), 'acme', ctx)
    expect(prepared.accepted).toBe(30)
    expect(prepared.batches.map((b) => [b.table, b.rows])).toEqual([['spans', 30]])
    const payload = prepared.batches[0]?.payload as Uint8Array
    const expected = decodeJson(Buffer.from(JSON.stringify(req))).spans.map((s) => `${encodeRow(normalizeSpan(s, 'acme', ctx))}\n`).join('')
    expect(Buffer.from(payload).toString('utf8')).toBe(expected)
    expect(payload.byteLength).toBe(Buffer.byteLength(expected))
  })

  it('accepts a span whose content lists hold null (Vercel AI SDK messages, tool calls, prompt): none is counted as failed', () => {
    const vercel = (key: string, value: string) => ({ name: 'ai.generateText.doGenerate', attributes: [{ key: 'ai.model.id', value: { stringValue: 'gpt-4o' } }, { key, value: { stringValue: value } }] })
    const req = jsonRequest([vercel('ai.prompt.messages', '[null]'), vercel('ai.response.toolCalls', '[null]'), vercel('ai.prompt', '{"messages":[null]}')])
    const prepared = prepare('traces', 'json', Buffer.from(JSON.stringify(req)), 'acme', { prices: PriceTable.load() })
    expect({ accepted: prepared.accepted, failed: prepared.failed, problems: prepared.problems }).toEqual({ accepted: 3, failed: 0, problems: [] })
  })
})

describe('prepare: an item refused after decoding is named by its position in the request', () => {
  const ctx = () => ({ prices: PriceTable.load(), retentionDays: 90 })
  const OLD = '5000'

  it('a log record, counting those refused before it (the 11th record, after 4 refused, was "log record 6")', () => {
    const records = [...Array.from({ length: 6 }, () => ({ body: 'kept' })), ...Array.from({ length: 4 }, () => ({ traceId: 'abcd' })), { timeNs: OLD }]
    for (const [format, body] of [
      ['json', Buffer.from(JSON.stringify(logsJson(records)))],
      ['protobuf', logsProtobuf(records)],
    ] as const) {
      const prepared = prepare('logs', format, body, 'acme', ctx())
      expect({ accepted: prepared.accepted, invalid: prepared.invalid, outOfWindow: prepared.outOfWindow }, format).toEqual({ accepted: 6, invalid: 4, outOfWindow: 1 })
      expect(prepared.problems.at(-1), format).toBe('log record 10: time_unix_nano is older than the 90-day retention (SPANLENS_RETENTION_DAYS); it would be deleted at once')
    }
  })

  it('a span, counting those refused before it', () => {
    const request = jsonRequest([{ name: 'bad', traceId: '00' }, { name: 'kept' }, { name: 'old', startTimeUnixNano: OLD }])
    for (const [format, body] of [
      ['json', Buffer.from(JSON.stringify(request))],
      ['protobuf', protobufRequest(request)],
    ] as const) {
      const prepared = prepare('traces', format, body, 'acme', ctx())
      expect({ accepted: prepared.accepted, invalid: prepared.invalid, outOfWindow: prepared.outOfWindow }, format).toEqual({ accepted: 1, invalid: 1, outOfWindow: 1 })
      expect(prepared.problems.at(-1), format).toMatch(/^span 2 "old" \([0-9a-f]{16}\): start_time_unix_nano is older than the 90-day retention/)
    }
  })

  it('a data point, by its metric\'s position and its own', () => {
    const now = `${Date.now()}000000`
    const request = {
      resourceMetrics: [
        { scopeMetrics: [{ metrics: [{ name: 'dropped', gauge: { dataPoints: [{ asDouble: 1 }] } }] }] },
        { scopeMetrics: [{ metrics: [{ name: 'm', gauge: { dataPoints: [{ timeUnixNano: now, asDouble: 1 }, { timeUnixNano: OLD, asDouble: 2 }] } }] }] },
      ],
    }
    const prepared = prepare('metrics', 'json', Buffer.from(JSON.stringify(request)), 'acme', ctx())
    expect({ accepted: prepared.accepted, invalid: prepared.invalid, outOfWindow: prepared.outOfWindow }).toEqual({ accepted: 1, invalid: 1, outOfWindow: 1 })
    expect(prepared.problems).toEqual([
      'metric 0 "dropped" point 0: missing time_unix_nano',
      'metric 1 "m" point 1: time_unix_nano is older than the 90-day retention (SPANLENS_RETENTION_DAYS); it would be deleted at once',
    ])
  })
})
