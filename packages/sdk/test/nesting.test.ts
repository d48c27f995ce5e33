import { inspect } from 'node:util'
import { describe, expect, it } from 'vitest'
import OpenAI from 'openai'
import { flush, observe, span, withContext, wrapOpenAI } from '../src/index.js'
import { useHarness } from './helpers/harness.js'
import type { ReceivedSpan } from './helpers/receiver.js'

const h = useHarness()

describe('nesting and context', () => {
  it('gives every concurrent chain its own trace with the right parent for each span', async () => {
    h.start()
    const ai = wrapOpenAI(new OpenAI({ apiKey: 'sk-test', baseURL: `${h.llm.url}/v1`, maxRetries: 0 }))
    const retrieve = observe('retrieve', async (q: string) => {
      await new Promise((r) => setTimeout(r, Math.random() * 10))
      return [`doc about ${q}`]
    }, { kind: 'retrieval' })
    const lookup = observe('lookup_weather', (city: string) => ({ city, temp: 21 }), { kind: 'tool' })
    const chain = observe('answer', async (i: number) => {
      const docs = await retrieve(`q${i}`)
      const tool = lookup('Paris')
      const draft = await ai.chat.completions.create({ model: 'draft', messages: [{ role: 'user', content: `${docs[0]} ${tool.temp}` }] })
      await ai.chat.completions.create({ model: 'final', messages: [{ role: 'user', content: draft.choices[0]?.message.content ?? '' }] })
      return `done ${i}`
    })
    const N = 6
    const results = await Promise.all(
      Array.from({ length: N }, (_, i) => withContext({ userId: `u${i}`, sessionId: `s${i}`, tags: ['prod'], metadata: { tier: 'gold' } }, () => chain(i))),
    )
    expect(results[3]).toBe('done 3')
    await flush()
    const spans = h.receiver.spans
    expect(spans).toHaveLength(N * 5)
    const traces = new Map<string, ReceivedSpan[]>()
    for (const s of spans) traces.set(s.traceId, [...(traces.get(s.traceId) ?? []), s])
    expect(traces.size).toBe(N)
    // W3C ids, all distinct (the SDK's own id generator).
    for (const s of spans) {
      expect(s.traceId).toMatch(/^[0-9a-f]{32}$/)
      expect(s.spanId).toMatch(/^[0-9a-f]{16}$/)
    }
    expect(new Set(spans.map((s) => s.spanId)).size).toBe(spans.length)
    for (const group of traces.values()) {
      const root = group.find((s) => s.name === 'answer')!
      expect(root.parentSpanId).toBe('')
      const i = Number(JSON.parse(root.attributes['input.value'] as string))
      expect(root.attributes['output.value']).toBe(`done ${i}`)
      expect(group.map((s) => s.name).sort()).toEqual(['answer', 'chat draft', 'chat final', 'lookup_weather', 'retrieve'])
      for (const child of group.filter((s) => s !== root)) {
        expect(child.parentSpanId).toBe(root.spanId)
        expect(child.attributes).toMatchObject({
          'user.id': `u${i}`,
          'session.id': `s${i}`,
          'gen_ai.conversation.id': `s${i}`,
          'spanlens.tags': ['prod'],
          'spanlens.metadata.tier': 'gold',
        })
      }
      expect(group.find((s) => s.name === 'retrieve')?.attributes['spanlens.span.kind']).toBe('retrieval')
      expect(group.find((s) => s.name === 'lookup_weather')?.attributes).toMatchObject({
        'spanlens.span.kind': 'tool',
        'gen_ai.operation.name': 'execute_tool',
        'gen_ai.tool.name': 'lookup_weather',
        'gen_ai.tool.call.arguments': 'Paris',
        'gen_ai.tool.call.result': '{"city":"Paris","temp":21}',
      })
      expect(group.find((s) => s.name === 'chat draft')?.attributes['user.id']).toBe(`u${i}`)
    }
  })

  it('keeps spans created between yields of an async generator under the generator span', async () => {
    h.start()
    const inner = observe('step', async (n: number) => n * 2, { kind: 'tool' })
    const gen = observe('agent_loop', async function* (steps: number) {
      for (let i = 0; i < steps; i++) yield await inner(i)
    }, { kind: 'agent' })
    const out: number[] = []
    // Iterated from a different async context than the one that created it.
    const it = gen(3)
    await new Promise((r) => setTimeout(r, 1))
    for await (const v of it) out.push(v)
    expect(out).toEqual([0, 2, 4])
    await flush()
    const loop = h.receiver.spans.find((s) => s.name === 'agent_loop')!
    expect(loop.attributes).toMatchObject({ 'spanlens.span.kind': 'agent', 'gen_ai.agent.name': 'agent_loop', 'output.value': '[0,2,4]' })
    const steps = h.receiver.spans.filter((s) => s.name === 'step')
    expect(steps).toHaveLength(3)
    for (const s of steps) expect(s.parentSpanId).toBe(loop.spanId)
  })

  it("records an async generator's items as they were yielded, though the consumer changes them", async () => {
    h.start()
    const gen = observe('plan', async function* () {
      yield { step: 1, done: false }
      yield 'text'
      yield { step: 2, done: false }
    })
    for await (const item of gen()) if (typeof item === 'object') item.done = true
    await flush()
    const plan = h.receiver.spans.find((s) => s.name === 'plan')!
    expect(JSON.parse(plan.attributes['output.value'] as string)).toEqual([{ step: 1, done: false }, 'text', { step: 2, done: false }])
  })

  it("holds an async generator's items only up to what the cut keeps, and marks the items left out", async () => {
    h.start({ maxContentLength: 1000 })
    const items: string[] = []
    const gen = observe('stream', async function* () {
      for (let i = 0; i < 50; i++) {
        const item = `chunk ${i}, ${'more words, '.repeat(10_000)}`
        items.push(item)
        yield item
      }
    })
    let seen = 0
    for await (const item of gen()) seen += item.length
    expect(seen).toBe(items.join('').length)
    const many = observe('many', async function* () {
      for (let i = 0; i < 150; i++) yield { i }
    })
    for await (const _ of many()) void _
    await flush()
    const out = h.receiver.spans.find((s) => s.name === 'stream')!.attributes['output.value'] as string
    expect(out.startsWith('chunk 0, more words, ')).toBe(true)
    expect(out).toMatch(/…\[truncated more than \d+ chars\]$/)
    // 100 items are kept, the rest said to be cut.
    expect(h.receiver.spans.find((s) => s.name === 'many')!.attributes['output.value']).toMatch(/^\[\{"i":0\},.*\{"i":99\}\]…\[truncated more than 0 chars\]$/)
  })

  it('follows callbacks and timers, and span() exposes ids and records errors', async () => {
    h.start()
    const child = observe('callback_child', () => 'ok')
    let traceId = ''
    await span('parent', async (s) => {
      traceId = s.traceId
      s.setInput({ q: 1 })
      await new Promise<void>((resolve) => setTimeout(() => {
        child()
        resolve()
      }, 5))
      await new Promise<void>((resolve) => process.nextTick(() => resolve(void child())))
      s.setOutput('fine')
    })
    const boom = new Error('tool failed')
    await expect(span('failing', async () => { throw boom }, { kind: 'tool' })).rejects.toBe(boom)
    expect(() => span('sync-failing', () => { throw boom })).toThrow(boom)
    await flush()
    const parent = h.receiver.spans.find((s) => s.name === 'parent')!
    expect(parent.traceId).toBe(traceId)
    expect(parent.attributes).toMatchObject({ 'input.value': '{"q":1}', 'output.value': 'fine' })
    const children = h.receiver.spans.filter((s) => s.name === 'callback_child')
    expect(children).toHaveLength(2)
    for (const c of children) expect(c.parentSpanId).toBe(parent.spanId)
    const failing = h.receiver.spans.find((s) => s.name === 'failing')!
    expect(failing.status).toMatchObject({ code: 2, message: 'tool failed' })
    expect(failing.attributes['error.type']).toBe('Error')
  })

  it('returns exactly what the function returns, before init too', async () => {
    const p = Promise.resolve(42)
    const f = observe('id', () => p)
    expect(f()).toBe(p)
    h.start()
    expect(f()).toBe(p)
    expect(span('x', () => 7)).toBe(7)
  })
})

describe('a span the app can reach', () => {
  it('prints and serializes without the exporter or its API key', async () => {
    h.start({ apiKey: 'sl_secret_key_0123456789' })
    const printed = await span('logged', (handle) => {
      handle.setAttribute('app.step', 'one')
      return [inspect(handle.otelSpan, { depth: Infinity }), JSON.stringify(handle.otelSpan)]
    })
    for (const text of printed) {
      expect(text).toContain('app.step')
      expect(text).not.toContain('sl_secret_key')
      expect(text).not.toMatch(/authorization|exporter/i)
    }
  })
})
