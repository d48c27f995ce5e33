import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Store } from '@spanlens/ingest'
import { contentText } from '../src/content/text.js'
import { openStore } from './helpers/store.js'

let store: Store
let close: () => Promise<void>
beforeAll(async () => {
  ;({ store, close } = await openStore())
})
afterAll(async () => close())

/** contentText of each value, in order, as ClickHouse computes it. */
async function texts(values: string[], partChars?: number): Promise<string[]> {
  const rs = await store.client.query({
    query: `SELECT ${contentText('v', partChars)} AS t FROM (SELECT arrayJoin(arrayZip(range(length({vs:Array(String)})), {vs:Array(String)})) AS iv, iv.2 AS v) ORDER BY iv.1`,
    query_params: { vs: values },
    format: 'JSONEachRow',
  })
  return (await rs.json<{ t: string }>()).map((r) => r.t)
}

// Text with what JSON escapes (quotes, backslashes, line breaks, control characters) and any script.
const text = fc.string({ unit: 'binary', maxLength: 40 })
const part = fc.oneof(
  text.map((content) => ({ type: 'text', content })),
  fc.record({ type: fc.constant('tool_call'), name: text, arguments: text }),
  fc.record({ type: fc.constant('tool_call_response'), id: text, response: text }),
)
const message = fc.record({ role: fc.constantFrom('system', 'user', 'assistant', 'tool'), parts: fc.array(part, { minLength: 1, maxLength: 4 }) })

describe('the text of a stored content value', () => {
  it('of structured messages, in any key order and spacing, is their text parts one a line, unescaped', async () => {
    const cases = fc.sample(
      fc.tuple(fc.array(message, { minLength: 1, maxLength: 4 }), fc.boolean(), fc.boolean()),
      { seed: 20250601, numRuns: 300 },
    )
    const stored = cases.map(([msgs, partsFirst, spaced]) => {
      const ordered = msgs.map((m) => (partsFirst ? { parts: m.parts, role: m.role } : m))
      return spaced ? JSON.stringify(ordered, null, 2) : JSON.stringify(ordered)
    })
    const expected = cases.map(([msgs]) =>
      msgs.flatMap((m) => m.parts.flatMap((p) => ('content' in p && p.type === 'text' ? [p.content] : []))).join('\n'),
    )
    expect(await texts(stored)).toEqual(expected)
  })

  it('of anything else (plain prompts, JSON that is no message list, broken JSON) is the value itself', async () => {
    const values = fc.sample(fc.oneof(text, fc.constantFrom('[{not json', '["a","b"]', '{"role":"user"}', '[1, 2]', ' [ {"broken": ')), {
      seed: 20250601,
      numRuns: 300,
    })
    expect(await texts(values)).toEqual(values)
  })

  it('cuts each text part, and a plain value, to its first partChars characters', async () => {
    const long = 'é'.repeat(10)
    const stored = JSON.stringify([{ role: 'system', parts: [{ type: 'text', content: long }] }, { role: 'user', parts: [{ type: 'text', content: 'hi' }] }])
    expect(await texts([stored, long], 4)).toEqual(['éééé\nhi', 'éééé'])
  })
})
