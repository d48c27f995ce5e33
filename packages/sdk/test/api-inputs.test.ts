import { describe, expect, it } from 'vitest'
import OpenAI from 'openai'
import { flush, getStats, observe, shutdown, span, withContext, wrapAnthropic, wrapOpenAI } from '../src/index.js'
import { byName, useHarness } from './helpers/harness.js'
import { captureLogger } from './helpers/logger.js'

// What plain JavaScript apps pass that the types rule out: the span is kept, where it can be, under its parent.
const h = useHarness()

/** Runs `fn` inside a root span and returns the spans exported, with the root. */
async function underRoot(fn: () => unknown) {
  await span('root', async () => {
    await fn()
  })
  await flush()
  const root = byName(h.receiver.spans, 'root')
  return { root, children: h.receiver.spans.filter((s) => s.parentSpanId === root.spanId) }
}

describe('span and observe names', () => {
  it('name a span by the string of a non-string name, else by the function name, else `span`', async () => {
    h.start()
    const { children } = await underRoot(async () => {
      span(42 as never, () => 1)
      span(null as never, function loadUser() {})
      span('', () => 1)
      await observe(undefined as never, async function retrieve() {})()
      observe({ toString: () => { throw new Error('no') } } as never, () => 1)()
    })
    expect(children.map((s) => s.name)).toEqual(['42', 'loadUser', 'span', 'retrieve', 'span'])
    expect(getStats().spansDropped).toBe(0)
    expect(getStats().instrumentationErrors).toBe(0)
  })

  it('take null options as none', async () => {
    h.start()
    const { children } = await underRoot(() => {
      span('a', () => 1, null as never)
      observe('b', (x: number) => x, null as never)(1)
    })
    expect(children.map((s) => [s.name, s.attributes['spanlens.span.kind'], s.attributes['input.value']])).toEqual([
      ['a', 'chain', undefined],
      ['b', 'chain', '1'],
    ])
  })

  it('give back a value that is not a function unchanged, without a span, and say so once, before init too', async () => {
    const before = observe('x', null as never)
    expect(before).toBeNull()
    const logger = captureLogger()
    h.start({ logger })
    const promise = Promise.resolve(3)
    expect(span('x', promise as never)).toBe(promise)
    expect(observe('x', 5 as never)).toBe(5)
    expect(span('x', undefined as never)).toBeUndefined()
    expect(withContext({ userId: 'u' }, 7 as never)).toBe(7)
    expect(logger.lines).toEqual([
      'span() takes a function and was given object; it was returned unchanged, without a span',
      'observe() takes a function and was given number; it was returned unchanged, without a span',
      'span() takes a function and was given undefined; it was returned unchanged, without a span',
      'withContext() takes a function and was given number; it was returned unchanged, without the context',
    ])
    await flush()
    expect(h.receiver.spans).toEqual([])
  })
})

describe('withContext values', () => {
  it('take ids given as numbers and a single tag, and leave out values of other types', async () => {
    h.start()
    const { children } = await underRoot(() =>
      withContext({ userId: 5, sessionId: { id: 's' }, conversationId: '', tags: 'beta', metadata: 'x' } as never, () =>
        withContext({ tags: ['prod', null, 2] } as never, () => span('inner', () => 1)),
      ),
    )
    const inner = children[0]!
    expect(inner.attributes['user.id']).toBe('5')
    expect(inner.attributes['session.id']).toBeUndefined()
    expect(inner.attributes['gen_ai.conversation.id']).toBeUndefined()
    expect(inner.attributes['spanlens.tags']).toEqual(['beta', 'prod', '2'])
  })
})

describe('results that are thenables but not promises', () => {
  it('are never then()-ed by the SDK: a query builder that runs on each then() runs once, for the app', async () => {
    h.start()
    let runs = 0
    // As Mongoose and Knex queries do: each then() runs the query.
    class Query {
      then<R>(onRows: (rows: string[]) => R) {
        runs++
        return Promise.resolve(['row']).then(onRows)
      }
    }
    expect(await observe('find', () => new Query())()).toEqual(['row'])
    expect(await span('update', () => new Query())).toEqual(['row'])
    expect(runs).toBe(2)
    await flush()
    expect(h.receiver.spans.map((s) => [s.name, s.status.code, s.attributes['output.value']]).sort()).toEqual([
      ['find', 0, undefined],
      ['update', 0, undefined],
    ])
  })
})

describe('client wrappers', () => {
  it('give back a value that is not a client unchanged and say so once, before init too', () => {
    expect(wrapOpenAI(null as never)).toBeNull()
    const logger = captureLogger()
    h.start({ logger })
    expect(wrapOpenAI(5 as never)).toBe(5)
    expect(wrapAnthropic(undefined as never)).toBeUndefined()
    expect(logger.lines).toEqual([
      'wrapOpenAI() takes a client object and was given number; it was returned unchanged, untraced',
      'wrapAnthropic() takes a client object and was given undefined; it was returned unchanged, untraced',
    ])
  })

  it('keep a frozen client working, its calls untraced, and say so once', async () => {
    const logger = captureLogger()
    h.start({ logger })
    const openai = wrapOpenAI(Object.freeze(new OpenAI({ apiKey: 'sk-test', baseURL: `${h.llm.url}/v1`, maxRetries: 0 })))
    for (let i = 0; i < 2; i++) {
      const r = await openai.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] })
      expect(r.choices[0]?.message.content).toBeTypeOf('string')
    }
    expect(logger.lines).toEqual(["wrapOpenAI(): the client's `chat` is frozen (read-only and not configurable), so calls under it are not traced"])
  })

  it('give back a client whose properties throw when read, without throwing', () => {
    h.start({ logger: captureLogger() })
    const hostile = new Proxy({}, { get: () => { throw new Error('no reading') } })
    expect(wrapOpenAI(hostile)).toBe(hostile)
    expect(wrapAnthropic(hostile)).toBe(hostile)
  })
})

describe('observe() awaited as if it ran the function', () => {
  const AWAITED = /^observe\(\) returned a traced function that was awaited \(or resolved as a promise\) and never called: /

  it("is said once at shutdown, naming the function, and the traced function stays a plain function", async () => {
    const logger = captureLogger()
    h.start({ logger })
    let ran = false
    // The mistake: observe() returns the function traced, and awaiting a function gives it back.
    const result: unknown = await observe('answer', async () => {
      ran = true
    })
    expect(typeof result).toBe('function')
    expect(typeof (result as { then?: unknown }).then).toBe('undefined')
    await observe('answer', async () => {})
    await shutdown()
    expect(ran).toBe(false)
    expect(logger.lines.filter((l) => AWAITED.test(l))).toEqual([
      "observe() returned a traced function that was awaited (or resolved as a promise) and never called: 'answer'. observe(name, fn) does not run fn, so no span was made: call the function it returns, or use span(name, fn) to run fn now",
    ])
    expect(h.receiver.spans).toEqual([])
  })

  it('is not said of a traced function resolved as a promise and then called, or one never awaited', async () => {
    const logger = captureLogger()
    h.start({ logger })
    const makeTool = async () => observe('tool', async (x: number) => x + 1, { kind: 'tool' })
    const tool = await makeTool()
    expect(await tool(1)).toBe(2)
    const [both] = await Promise.all([Promise.resolve(observe('both', () => 3))])
    expect(both()).toBe(3)
    observe('defined_only', () => 1)
    expect(await observe('called', async () => 4)()).toBe(4)
    await flush()
    await shutdown()
    expect(logger.lines.filter((l) => AWAITED.test(l))).toEqual([])
    expect(h.receiver.spans.map((s) => [s.name, s.attributes['spanlens.span.kind']]).sort()).toEqual([
      ['both', 'chain'],
      ['called', 'chain'],
      ['tool', 'tool'],
    ])
  })

  it('names at most 16 functions however many were awaited', async () => {
    const logger = captureLogger()
    h.start({ logger })
    for (let i = 0; i < 1000; i++) await observe(`step_${i}`, () => i)
    await shutdown()
    const [line] = logger.lines.filter((l) => AWAITED.test(l))
    expect(line?.match(/'step_\d+'/g)).toHaveLength(16)
  })
})
