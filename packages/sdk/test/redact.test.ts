import { describe, expect, it } from 'vitest'
import OpenAI from 'openai'
import { flush, getStats, observe, wrapOpenAI } from '../src/index.js'
import { byName, json, useHarness } from './helpers/harness.js'

const h = useHarness()
const ai = () => wrapOpenAI(new OpenAI({ apiKey: 'sk-test', baseURL: `${h.llm.url}/v1`, maxRetries: 0 }))
const SECRET = 'Mail ada@example.com or call +1 415-555-0100, card 4111 1111 1111 1111, key sk-proj-abcdefghijklmnopqrstuv, order 1234567890123'

describe('redaction', () => {
  it('applies the built-in patterns to captured content before export', async () => {
    h.start()
    await ai().chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: SECRET }] })
    await flush()
    const msgs = json(byName(h.receiver.spans, 'chat gpt-4o').attributes['gen_ai.input.messages']) as { parts: { content: string }[] }[]
    expect(msgs[0]?.parts[0]?.content).toBe(
      'Mail [REDACTED_EMAIL] or call [REDACTED_PHONE], card [REDACTED_CARD], key [REDACTED_API_KEY], order 1234567890123',
    )
  })

  it('runs user functions after the built-ins, and can turn built-ins off', async () => {
    h.start({ redact: { builtins: false, custom: (v) => v.replaceAll('Ada', '[NAME]') } })
    const f = observe('greet', (name: string) => `hello ${name} at ada@example.com`)
    f('Ada')
    await flush()
    const s = byName(h.receiver.spans, 'greet')
    expect(s.attributes['input.value']).toBe('[NAME]')
    expect(s.attributes['output.value']).toBe('hello [NAME] at ada@example.com')
  })

  it('replaces the value when a redact hook throws, and the app never sees the error', async () => {
    h.start({
      redact: () => {
        throw new Error('hook bug')
      },
    })
    const r = await ai().chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] })
    expect(r.choices).toHaveLength(1)
    await flush()
    const s = byName(h.receiver.spans, 'chat gpt-4o')
    expect(s.attributes['gen_ai.input.messages']).toBe('[REDACTION_FAILED]')
    expect(s.attributes['gen_ai.usage.input_tokens']).toBe(12)
    expect(getStats().redactionFailures).toBeGreaterThan(0)
  })
})
