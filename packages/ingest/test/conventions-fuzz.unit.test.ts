import fc from 'fast-check'
import { isSpanKind } from '@spanlens/query/span-kinds'
import { describe, expect, it } from 'vitest'
import { AttrReader, attrString } from '../src/normalize/attrs.js'
import { type Content, eventContent, INPUT, OUTPUT } from '../src/normalize/content.js'
import { isConventionKey, isLogConventionKey, isResourceConventionKey, RESOURCE_CONVENTION_KEYS } from '../src/normalize/convention-keys.js'
import { normalizeLog } from '../src/normalize/logs.js'
import * as C from '../src/normalize/conventions.js'
import { PriceTable } from '../src/normalize/cost.js'
import { normalizeSpan } from '../src/normalize/normalize.js'
import type { AttrValue, Attrs, OtlpSpan } from '../src/otlp/model.js'
import { encodeRow } from '../src/pipeline/row-format.js'
import { intFromEnv, seedFromEnv } from './fuzz/rng.js'
import { span } from './helpers/otlp-span.js'

/**
 * Every source of the normalization table, fed arbitrary JSON in the attributes and
 * span events it reads: none throws (a throw refused the whole span, a 200 broken),
 * each gives a value of its field's type, the row encodes, and an attribute a content
 * source would carry into input/output but could not use is still in the row.
 * Seeded and bounded: rerun with SPANLENS_FUZZ_SEED=<seed>, size with SPANLENS_FUZZ_PROPERTY_RUNS.
 */
const SEED = seedFromEnv(process.env, 20261206)
const RUNS = intFromEnv(process.env, 'SPANLENS_FUZZ_PROPERTY_RUNS', 1000)
const prices = PriceTable.load()

type Check = (v: unknown) => boolean
const isString: Check = (v) => typeof v === 'string'
/** A count: what the token columns hold, however the attribute was sent. */
const isCount: Check = (v) => typeof v === 'number' && Number.isInteger(v) && v >= 0
const isDuration: Check = (v) => typeof v === 'number' && Number.isFinite(v) && v >= 0
/** The type of each table's field: a table added to conventions.ts must be named here (the first test says so). */
const FIELD_TYPES: Record<string, Check> = {
  KIND: (v) => typeof v === 'string' && isSpanKind(v),
  PROVIDER: isString,
  OPERATION: isString,
  REQUEST_MODEL: isString,
  RESPONSE_MODEL: isString,
  INPUT_TOKENS: isCount,
  OUTPUT_TOKENS: isCount,
  TOTAL_TOKENS: isCount,
  CACHE_READ_TOKENS: isCount,
  CACHE_WRITE_TOKENS: isCount,
  REASONING_TOKENS: isCount,
  FINISH_REASON: isString,
  TTFT_MS: isDuration,
  USER_ID: isString,
  SESSION_ID: isString,
  ENVIRONMENT: isString,
  RELEASE: isString,
  ERROR_TYPE: isString,
  TAGS: (v) => Array.isArray(v) && v.every(isString),
}
const TABLES = Object.entries(C).filter(([, v]) => Array.isArray(v)) as Array<[string, Array<C.Source<unknown>>]>
const CONTENT_TABLES = { INPUT, OUTPUT } as Record<string, Array<C.Source<Content>>>

/** The attribute and resource keys read by these sources (all of normalizeSpan when none are given), found by running them over attributes that record every lookup. */
function keysRead(sources?: Array<C.Source<unknown>>): { attributes: string[]; resource: string[] } {
  const recorder = (seen: Set<string>) =>
    new Proxy({} as Attrs, {
      get: (_t, key) => {
        if (typeof key === 'string') seen.add(key)
        return undefined
      },
    })
  const attributes = new Set<string>()
  const resource = new Set<string>()
  const probe = span(recorder(attributes), { resource: recorder(resource) })
  const a = new AttrReader(probe.attributes, probe.resource)
  if (sources) for (const s of sources) s.read(a, probe)
  else normalizeSpan(probe, 'p', { prices })
  return { attributes: [...attributes].sort(), resource: [...resource].sort() }
}
const READ = keysRead()
const CONTENT_KEYS = keysRead([...INPUT, ...OUTPUT] as Array<C.Source<unknown>>).attributes
const CONSUMED = [...new Set([...INPUT, ...OUTPUT].flatMap((s) => s.consumes ?? []))]

// Indexed families are read by prefix, which no lookup reveals: their shapes, as the fixtures hold them.
const INDEXED = fc.oneof(
  fc.tuple(fc.constantFrom('gen_ai.prompt.', 'gen_ai.completion.'), fc.nat(2), fc.constantFrom('role', 'content', 'finish_reason', 'tool_calls.0.id', 'tool_calls.0.name', 'tool_calls.1.arguments')),
  fc.tuple(
    fc.constantFrom('llm.input_messages.', 'llm.output_messages.'),
    fc.nat(2),
    fc.constantFrom('message.role', 'message.content', 'message.contents.0.message_content.text', 'message.tool_calls.0.tool_call.id', 'message.tool_calls.0.tool_call.function.name', 'message.tool_calls.0.tool_call.function.arguments', 'message.tool_call_id'),
  ),
).map(([prefix, i, rest]) => `${prefix}${i}.${rest}`)

// Values a lookup table or a converter gives meaning to, and names every plain object inherits.
const WORDS = fc.constantFrom(
  ...['LLM', 'EMBEDDING', 'CHAIN', 'RETRIEVER', 'TOOL', 'AGENT', 'generation', 'span', 'workflow', 'task', 'chat', 'completion', 'embeddings', 'execute_tool', 'rerank'],
  ...['stop', 'length', 'tool-calls', 'end_turn', 'max_tokens', 'openai.chat', 'user', 'assistant', 'system', 'tool', 'tool-call', 'tool_use', 'tool-result', 'tool_result', 'text'],
  ...['constructor', '__proto__', 'toString', 'valueOf', 'hasOwnProperty', 'isPrototypeOf', '__defineGetter__', 'toLocaleString'],
  ...['', ' ', '0', '-1', '1e400', 'null', '[]', '{}', '[null]', '{"messages":[null]}', '2026-11-29T00:00:00Z'],
)
// Keys that converters look for inside a message, a part, a tool call or an event body.
const FIELD = fc.oneof(
  fc.constantFrom(
    ...['role', 'content', 'parts', 'type', 'text', 'id', 'name', 'arguments', 'response', 'finish_reason', 'message', 'tool_calls', 'function'],
    ...['toolCallId', 'toolName', 'input', 'args', 'output', 'result', 'tool_use_id', 'messages', 'system', 'prompt', 'model', 'total', 'constructor'],
  ),
  fc.string({ maxLength: 4 }),
)
const scalar = fc.oneof(WORDS, fc.string({ maxLength: 8 }), fc.integer(), fc.double(), fc.boolean(), fc.constant(null))
const json: fc.Arbitrary<AttrValue> = fc.letrec((tie) => ({
  // Lists get a null or a scalar among their entries often: one odd entry must not cost the span.
  value: fc.oneof(
    { depthSize: 'small', maxDepth: 4 },
    scalar,
    fc.array(fc.oneof(tie('value'), fc.constant(null)), { maxLength: 4 }),
    fc.dictionary(FIELD, tie('value'), { maxKeys: 4, noNullPrototype: true }),
  ),
})).value as fc.Arbitrary<AttrValue>
// Content attributes are mostly JSON text: OTLP attributes hold strings, and the JS libraries send JSON strings.
const value: fc.Arbitrary<AttrValue> = fc.oneof(
  { weight: 2, arbitrary: json },
  { weight: 3, arbitrary: json.map((v) => JSON.stringify(v)) },
  { weight: 1, arbitrary: WORDS },
  { weight: 1, arbitrary: fc.string({ maxLength: 12 }) },
)

// Content keys get JSON; the other keys mostly words a lookup table could give meaning to.
const attribute = fc.oneof(
  { weight: 6, arbitrary: fc.tuple(fc.constantFrom(...CONTENT_KEYS), value) },
  { weight: 4, arbitrary: fc.tuple(fc.constantFrom(...READ.attributes), fc.oneof({ weight: 2, arbitrary: WORDS }, { weight: 1, arbitrary: value })) },
  { weight: 2, arbitrary: fc.tuple(INDEXED, value) },
  { weight: 1, arbitrary: fc.tuple(fc.string({ maxLength: 6 }), value) },
)
const EVENT_NAMES = ['gen_ai.system.message', 'gen_ai.user.message', 'gen_ai.assistant.message', 'gen_ai.tool.message', 'gen_ai.choice', 'gen_ai.client.inference.operation.details', 'exception', 'other']
const eventKey = fc.oneof(FIELD, fc.constantFrom('gen_ai.event.content', 'index', 'exception.type', ...CONSUMED, 'gen_ai.response.finish_reasons'))
const event = fc.record({
  timeNs: fc.constant('1790000000100000000'),
  name: fc.constantFrom(...EVENT_NAMES),
  attributes: fc.dictionary(eventKey, value, { maxKeys: 5, noNullPrototype: true }),
})
const spanArb: fc.Arbitrary<OtlpSpan> = fc
  .record({
    attributes: fc.array(attribute, { maxLength: 10 }).map((entries): Attrs => Object.fromEntries(entries)),
    resource: fc.dictionary(fc.constantFrom(...READ.resource), value, { maxKeys: 3, noNullPrototype: true }),
    events: fc.array(event, { maxLength: 4 }),
    name: fc.constantFrom('x', 'ai.generateText.doGenerate', 'ai.streamText', 'ai.toolCall', 'ai.embed.doEmbed'),
    scopeName: fc.constantFrom('test', '@traceloop/instrumentation-anthropic'),
  })
  .map(({ attributes, ...rest }) => span(attributes, rest))

// Spans carrying several of the attributes content sources consume at once (system instructions beside input messages, ...).
const consuming: fc.Arbitrary<OtlpSpan> = fc
  .tuple(spanArb, fc.subarray(CONSUMED, { minLength: 1 }).chain((keys) => fc.tuple(...keys.map((k) => fc.tuple(fc.constant(k), value)))))
  .map(([s, entries]) => ({ ...s, attributes: { ...s.attributes, ...Object.fromEntries(entries) } }))

/** The span's row encodes, and its kind and text columns hold what their columns say. */
function expectRowOfItsTypes(s: OtlpSpan): void {
  const row = normalizeSpan(s, 'p', { prices })
  encodeRow(row)
  expect(isSpanKind(row.kind), `kind ${String(row.kind)}`).toBe(true)
  for (const column of ['provider', 'operation', 'request_model', 'response_model', 'finish_reason', 'input', 'output', 'user_id', 'session_id', 'environment', 'release', 'error_type'] as const) {
    expect(typeof row[column], `${column} of ${JSON.stringify(s.attributes)}`).toBe('string')
  }
}

/** Every string, number, boolean and object key in a JSON value, as JSON text. */
function leaves(v: unknown, out = new Set<string>()): Set<string> {
  if (Array.isArray(v)) for (const x of v) leaves(x, out)
  else if (v !== null && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) {
      out.add(JSON.stringify(k))
      leaves(x, out)
    }
  } else out.add(JSON.stringify(v))
  return out
}
const parse = (text: string): unknown => {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

/** Whether `stored` (a row's input or output) holds the attribute value `v`: as sent, as a piece of text, or every part of it. */
function holds(stored: string, v: AttrValue): boolean {
  const sent = attrString(v) as string
  if (stored === sent) return true
  const inStore = leaves(parse(stored))
  if (inStore.has(JSON.stringify(sent))) return true
  const parsed = typeof v === 'string' ? parse(v) : v
  return parsed !== undefined && [...leaves(parsed)].every((x) => inStore.has(x))
}

describe('every convention source, fed arbitrary JSON', () => {
  it('each table of conventions.ts has its field type named here', () => {
    expect(TABLES.map(([name]) => name).sort()).toEqual(Object.keys(FIELD_TYPES).sort())
    // The lookups found what the fuzz needs: the content keys, and a key of each kind of table.
    expect(CONTENT_KEYS).toEqual(expect.arrayContaining([...CONSUMED, 'ai.prompt.messages', 'ai.prompt', 'ai.response.toolCalls']))
    expect(READ.attributes).toEqual(expect.arrayContaining([...CONTENT_KEYS, 'openinference.span.kind', 'langfuse.observation.usage_details']))
  })

  it('every attribute the normalizer reads is one the decoders keep past the attribute cap', () => {
    const indexed = fc.sample(INDEXED, { seed: SEED, numRuns: 50 })
    for (const key of [...READ.attributes, ...indexed]) expect(isConventionKey(key), key).toBe(true)
    for (const key of ['app.field.1', 'http.method', 'service.name', 'gen_ai', 'llm']) expect(isConventionKey(key), key).toBe(false)
  })

  it("every attribute a log record's normalization reads, for each GenAI event, is one the decoders keep past the attribute cap", () => {
    const seen = new Set<string>()
    const attributes = new Proxy({} as Attrs, {
      get: (_t, key) => {
        if (typeof key === 'string') seen.add(key)
        return undefined
      },
    })
    const record = { position: 0, resource: {}, scopeName: '', scopeVersion: '', scopeAttributes: {}, timeNs: '1', observedNs: '1', severityNumber: 0, severityText: '', body: null, attributes, traceId: 'ab'.repeat(16), spanId: 'cd'.repeat(8) }
    for (const eventName of ['', 'gen_ai.client.inference.operation.details', 'gen_ai.choice', 'gen_ai.user.message', 'gen_ai.assistant.message']) normalizeLog({ ...record, eventName }, 'p', 0, '1', undefined)
    expect(seen).toContain('event.name')
    expect(seen).toContain('gen_ai.input.messages')
    for (const key of seen) expect(isLogConventionKey(key), key).toBe(true)
    expect(isLogConventionKey('app.field.1')).toBe(false)
  })

  it('every resource attribute the normalizer reads is one the decoders keep past the attribute cap', () => {
    expect(READ.resource.length).toBeGreaterThan(0)
    for (const key of [...READ.resource, 'service.name']) expect(isResourceConventionKey(key), key).toBe(true)
    expect([...RESOURCE_CONVENTION_KEYS].sort()).toEqual([...new Set([...READ.resource, 'service.name'])].sort())
  })

  it('a word every object inherits ("constructor", "__proto__", ...) in any attribute a table reads is a plain word, not that member', () => {
    for (const [name, sources] of TABLES) {
      for (const key of keysRead(sources).attributes) {
        for (const word of Object.getOwnPropertyNames(Object.prototype)) {
          const s = span({ [key]: word })
          const a = new AttrReader(s.attributes, s.resource)
          for (const [i, source] of sources.entries()) {
            const v = source.read(a, s)
            if (v !== undefined) expect(FIELD_TYPES[name]?.(v), `${name}[${i}] for ${key} = ${word}`).toBe(true)
          }
          expectRowOfItsTypes(s)
        }
      }
    }
  })

  it(`never throws, gives each field its type, and the row encodes (fast-check, seed ${SEED})`, () => {
    const reached = new Map<string, number>()
    fc.assert(
      fc.property(spanArb, (s) => {
        const a = new AttrReader(s.attributes, s.resource)
        for (const [name, sources] of TABLES) {
          sources.forEach((source, i) => {
            const v = source.read(a, s)
            if (v !== undefined) expect(FIELD_TYPES[name]?.(v), `${name}[${i}] (${source.convention}) gave ${JSON.stringify(v)}`).toBe(true)
          })
        }
        for (const [name, sources] of Object.entries(CONTENT_TABLES)) {
          sources.forEach((source, i) => {
            const v = source.read(a, s)
            if (v === undefined) return
            reached.set(`${name}[${i}]`, (reached.get(`${name}[${i}]`) ?? 0) + 1)
            expect(typeof v.text, `${name}[${i}]`).toBe('string')
            // It carries only what it declares it may: the declaration is what the next test walks.
            for (const key of v.carried) expect(source.consumes ?? [], `${name}[${i}] carried ${key}`).toContain(key)
          })
        }
        expectRowOfItsTypes(s)
      }),
      { seed: SEED, numRuns: RUNS },
    )
    // Each content converter was reached, so the fuzz above exercised it.
    for (const [name, sources] of Object.entries(CONTENT_TABLES)) {
      sources.forEach((source, i) => expect(reached.get(`${name}[${i}]`) ?? 0, `${name}[${i}] (${source.convention}) never gave content`).toBeGreaterThan(0))
    }
  })

  it(`a GenAI log record's content is read by the same converters without a throw (fast-check, seed ${SEED})`, () => {
    fc.assert(
      fc.property(event, value, (e, body) => {
        const c = eventContent(e.name, body, e.attributes)
        for (const field of [c.input, c.output]) expect(field === undefined || typeof field === 'string').toBe(true)
        expect(typeof c.finishReason).toBe('string')
      }),
      { seed: SEED, numRuns: RUNS },
    )
  })

  it(`an attribute a content source consumes but could not use is still in the stored row (fast-check, seed ${SEED})`, () => {
    fc.assert(
      fc.property(consuming, (s) => {
        const row = normalizeSpan(s, 'p', { prices })
        for (const key of CONSUMED) {
          const v = s.attributes[key]
          if (v === undefined || v === null) continue
          if (row.attributes[key] === attrString(v)) continue
          expect(holds(row.input, v) || holds(row.output, v), `${key} = ${JSON.stringify(v)} is in neither attributes, input (${row.input}) nor output (${row.output})`).toBe(true)
        }
      }),
      { seed: SEED, numRuns: RUNS },
    )
  })
})
