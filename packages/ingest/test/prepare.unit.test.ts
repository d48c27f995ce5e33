import { describe, expect, it } from 'vitest'
import { PriceTable } from '../src/normalize/cost.js'
import { normalizeSpan } from '../src/normalize/normalize.js'
import { decodeJson } from '../src/otlp/decode.js'
import { prepare } from '../src/pipeline/prepare.js'
import { encodeRow } from '../src/pipeline/row-format.js'
import { jsonRequest } from './helpers/otlp.js'

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
