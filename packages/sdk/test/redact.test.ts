import { describe, expect, it } from 'vitest'
import OpenAI from 'openai'
import { flush, getStats, observe, score, span, wrapOpenAI } from '../src/index.js'
import { BOUNDARY_SCAN, MAX_MARK_LENGTH } from '../src/redact-cut.js'
import { byName, json, useHarness } from './helpers/harness.js'
import type { ReceivedSpan } from './helpers/receiver.js'

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

  it('finds secrets at the start of a line in messages, tool definitions and tool call arguments, and keeps them JSON', async () => {
    h.start()
    const prompt = `Line one\n${KEY}\n${CARD}\n${PHONE}\n${EMAIL}\n\t${KEY}\n"${KEY}" inline ${KEY}`
    await ai().chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'system', content: `sys\n${KEY}` }, { role: 'user', content: prompt }] })
    // The fake model calls the tool with the schema's `const`: a key after a line break in the arguments.
    await ai().chat.completions.create({
      model: 'gpt-4o-tools',
      messages: [{ role: 'user', content: 'call the tool' }],
      tools: [{ type: 'function', function: { name: 'send', description: `send to\n${EMAIL}`, parameters: { type: 'object', properties: { to: { type: 'string', const: `x\n${KEY}` } } } } }],
    })
    await observe('fn', (x: string) => x)(prompt)
    await flush()
    const chat = byName(h.receiver.spans, 'chat gpt-4o')
    const tools = byName(h.receiver.spans, 'chat gpt-4o-tools')
    for (const [s, key] of [[chat, 'gen_ai.input.messages'], [chat, 'gen_ai.output.messages'], [tools, 'gen_ai.tool.definitions'], [tools, 'gen_ai.output.messages']] as const) {
      const text = s.attributes[key] as string
      expect(() => JSON.parse(text), key).not.toThrow()
      expect(leaks(text), key).toEqual([])
    }
    expect(JSON.stringify(json(tools.attributes['gen_ai.output.messages']))).toContain('"arguments":{"to":"x\\n[REDACTED_API_KEY]"}')
    expect((json(chat.attributes['gen_ai.input.messages']) as { parts: { content: string }[] }[])[1]?.parts[0]?.content).toBe(
      'Line one\n[REDACTED_API_KEY]\n[REDACTED_CARD]\n[REDACTED_PHONE]\n[REDACTED_EMAIL]\n\t[REDACTED_API_KEY]\n"[REDACTED_API_KEY]" inline [REDACTED_API_KEY]',
    )
    expect(leaks(String(byName(h.receiver.spans, 'fn').attributes['input.value']))).toEqual([])
  })

  it('redacts a card followed by its expiry date or CVV', async () => {
    h.start()
    await ai().chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'My card is 4111111111111111 12/26, or 4111 1111 1111 1111 123' }] })
    await flush()
    const msgs = json(byName(h.receiver.spans, 'chat gpt-4o').attributes['gen_ai.input.messages']) as { parts: { content: string }[] }[]
    expect(msgs[0]?.parts[0]?.content).toBe('My card is [REDACTED_CARD] 12/26, or [REDACTED_CARD] 123')
  })

  it("redacts an error's text wherever it leaves: the status message and the exception event's message and stack trace", async () => {
    h.start()
    const message = `user ${EMAIL} card ${CARD} key ${KEY} not allowed`
    expect(() =>
      span('root', () =>
        observe('failing', () => {
          throw new Error(message)
        })(),
      ),
    ).toThrow(message)
    await flush()
    const failing = byName(h.receiver.spans, 'failing')
    expect(failing.status).toEqual({ code: 2, message: 'user [REDACTED_EMAIL] card [REDACTED_CARD] key [REDACTED_API_KEY] not allowed' })
    const exception = failing.events.find((e) => e.name === 'exception')!
    expect(exception.attributes['exception.message']).toBe(failing.status.message)
    expect(String(exception.attributes['exception.stacktrace'])).toMatch(/^Error: user \[REDACTED_EMAIL\] card \[REDACTED_CARD\] key \[REDACTED_API_KEY\] not allowed\n\s+at /)
    expect(everything(h.receiver.spans)).toEqual([])
  })

  it('redacts the status message an app sets itself', async () => {
    h.start()
    span('manual', (s) => s.otelSpan.setStatus({ code: 2, message: `failed for ${EMAIL}` }))
    await flush()
    expect(byName(h.receiver.spans, 'manual').status.message).toBe('failed for [REDACTED_EMAIL]')
  })

  it('redacts each string of an array set under a content attribute', async () => {
    h.start()
    span('manual', (s) => s.setAttribute('input.value', [`to ${EMAIL}`, 'ok']))
    await flush()
    expect(byName(h.receiver.spans, 'manual').attributes['input.value']).toEqual(['to [REDACTED_EMAIL]', 'ok'])
  })

  it("redacts a score's comment", async () => {
    h.start()
    expect(await score({ traceId: 'a'.repeat(32), name: 'thumbs', value: false, comment: `wrong, mail me at ${EMAIL} or call ${PHONE}` })).toBe(true)
    expect((h.receiver.scores[0] as { body: { comment: string } }).body.comment).toBe('wrong, mail me at [REDACTED_EMAIL] or call [REDACTED_PHONE]')
  })

  it("redacts a score's label, and tells a hook it is one", async () => {
    const seen: string[] = []
    h.start({ redact: { custom: (v, { attribute }) => (seen.push(attribute), v) } })
    expect(await score({ traceId: 'a'.repeat(32), name: 'intent', value: `refund for ${EMAIL}` })).toBe(true)
    expect((h.receiver.scores[0] as { body: { value: string } }).body.value).toBe('refund for [REDACTED_EMAIL]')
    expect(seen).toEqual(['spanlens.score.value'])
  })

  it('redacts a value before maxContentLength cuts it, so no part of a secret the cut splits leaves', async () => {
    const text = 'reach me at robert.smith@example.com please'
    h.start({ maxContentLength: text.indexOf('.smith') + 1 })
    observe('long', (x: string) => x.length)(text)
    await flush()
    // Cut after redaction, the marker may be cut; the address never is.
    expect(byName(h.receiver.spans, 'long').attributes['input.value']).toBe('reach me at [REDACT…[truncated 16 chars]')
  })

  it('reads about as much of a 20 MB argument as it keeps, and keeps no part of a secret the cut splits', async () => {
    const max = 1000
    const text = `${'a line of the document, '.repeat(41)}reach me at robert.smith@example.com please\n${'more words, '.repeat(1_700_000)}`
    let read = 0
    h.start({ maxContentLength: max, redact: { custom: (v) => ((read += v.length), v) } })
    observe('long', (x: unknown) => typeof x)(text)
    observe('long object', (x: unknown) => typeof x)({ text })
    await flush()
    for (const name of ['long', 'long object']) {
      const kept = byName(h.receiver.spans, name).attributes['input.value'] as string
      expect(kept.slice(0, kept.indexOf('…'))).toHaveLength(max)
      expect(kept).not.toMatch(/robert|smith|example/)
      expect(kept).toMatch(/…\[truncated (more than )?\d+ chars\]$/)
    }
    // Each value read once where it is recorded and once at export, each time up to the cut's scan past the limit.
    expect(read).toBeLessThanOrEqual(2 * 2 * (max + BOUNDARY_SCAN + MAX_MARK_LENGTH))
  })

  it("cuts and redacts an app's own long attribute, an error's message and its stack at maxContentLength", async () => {
    const max = 1000
    const long = `${'x '.repeat(max / 2 - 6)}reach me at robert.smith@example.com ${'y '.repeat(1_000_000)}`
    h.start({ maxContentLength: max })
    span('own', (s) => s.setAttribute('spanlens.metadata.doc', long))
    try {
      observe('fails', () => {
        throw new Error(long)
      })()
    } catch {
      // The app's error, thrown through as it was.
    }
    await flush()
    const own = byName(h.receiver.spans, 'own').attributes['spanlens.metadata.doc'] as string
    const failed = byName(h.receiver.spans, 'fails')
    const event = failed.events.find((e) => e.name === 'exception')!
    for (const v of [own, failed.status.message, event.attributes['exception.message'], event.attributes['exception.stacktrace']] as string[]) {
      expect(v.length).toBeLessThanOrEqual(max + MAX_MARK_LENGTH)
      expect(v).toMatch(/…\[truncated \d+ chars\]$/)
      expect(v).not.toMatch(/robert|smith|example/)
    }
  })

  it("redacts each string of an array before the span's value length limit cuts it", async () => {
    const text = 'reach me at robert.smith@example.com please, and more text after it'
    h.start({ env: { OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT: String(text.indexOf('.smith') + 1) } })
    span('limited', (s) => s.setAttribute('spanlens.metadata.notes', [text, 'ok']))
    await flush()
    expect(byName(h.receiver.spans, 'limited').attributes['spanlens.metadata.notes']).toEqual(['reach me at [REDACT', 'ok'])
  })

  it("cuts a long score comment and label to what the server stores, marked, redacted as they are", async () => {
    h.start()
    const comment = `${'too long to read, '.repeat(5555)}mail robert.smith@example.com ${'z'.repeat(2_000_000)}`
    expect(await score({ traceId: 'a'.repeat(32), name: 'feedback', value: `label ${'w '.repeat(4997)}robert.smith@example.com and more`, comment })).toBe(true)
    const body = (h.receiver.scores[0] as { body: { comment: string; value: string } }).body
    // The server's limits (packages/query/src/scores/record.ts): 100,000 characters of comment, 10,000 of label.
    expect(body.comment.length).toBeLessThanOrEqual(100_000)
    expect(body.value.length).toBeLessThanOrEqual(10_000)
    for (const v of [body.comment, body.value]) {
      expect(v).toMatch(/…\[truncated \d+ chars\]$/)
      expect(v).not.toMatch(/robert|smith|example/)
    }
  })

  it("redacts a value before the span's value length limit cuts it", async () => {
    const text = 'reach me at robert.smith@example.com please, and more text after it'
    h.start({ env: { OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT: String(text.indexOf('.smith') + 1) } })
    observe('limited', (x: string) => x.length)(text)
    await flush()
    expect(byName(h.receiver.spans, 'limited').attributes['input.value']).toBe('reach me at [REDACT')
  })
})

const KEY = 'sk-proj-ABCDEFGHIJKLMNOPQRSTUVWX'
const CARD = '4111111111111111'
const EMAIL = 'bob@example.com'
const PHONE = '555-123-4567'
/** The secrets a text still holds. */
const leaks = (text: string): string[] => [KEY, CARD, PHONE, EMAIL].filter((x) => text.includes(x))
/** Every secret left anywhere in the spans: attributes, status messages, event attributes. */
function everything(spans: ReceivedSpan[]): string[] {
  return spans.flatMap((s) => leaks(JSON.stringify([s.attributes, s.status, s.events])))
}
