import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, TraceFlags, trace, type Context, type HrTime, type Link, type Span, type SpanContext, type Tracer } from '@opentelemetry/api'
import { suppressTracing } from '@opentelemetry/core'
import { BasicTracerProvider, type ReadableSpan } from '@opentelemetry/sdk-trace-base'
import { encodeSpan } from '../src/export/otlp-encode.js'
import { SpanlensTracerProvider } from '../src/trace/provider.js'
import { samplerFor, tracingSettings } from '../src/trace/sampler.js'
import type { SpanLimits, SpanProcessor } from '../src/trace/types.js'

/**
 * The SDK's own provider against OpenTelemetry's: the same operations on a
 * span of each must leave the same finished span (limits, dropping, status
 * rules, times given, exception events, ids, parents and sampling), and the
 * same environment must give the same limits and sampler.
 */

/** Ids from a counter, the same sequence for both providers. */
function counterIds() {
  let n = 0
  const next = (width: number) => (++n).toString(16).padStart(width, '0')
  return { generateTraceId: () => next(32), generateSpanId: () => next(16) }
}

interface Collected {
  started: number
  ended: ReadableSpan[]
}

function collector(): SpanProcessor & Collected {
  const c: Collected = { started: 0, ended: [] }
  return Object.assign(c, {
    onStart: () => void c.started++,
    onEnd: (s: ReadableSpan) => void c.ended.push(s),
    forceFlush: async () => {},
    shutdown: async () => {},
  }) as never
}

function both(limits: SpanLimits, env: Record<string, string> = {}) {
  const settings = tracingSettings(env)
  const ours = collector()
  const theirs = collector()
  const own = new SpanlensTracerProvider({ resource: { attributes: {} }, sampler: samplerFor(settings), limits, ids: counterIds(), processor: ours }).getTracer('t', '1')
  const otel = new BasicTracerProvider({ spanLimits: limits, idGenerator: counterIds(), spanProcessors: [theirs as never] }).getTracer('t', '1')
  return { own, otel, ours, theirs }
}

const key = fc.constantFrom('a', 'b', 'c', 'd', 'e', '')
const primitive = fc.oneof(fc.string({ maxLength: 8 }), fc.integer(), fc.double({ noNaN: true }), fc.boolean())
const value = fc.oneof(
  primitive,
  fc.array(fc.oneof(fc.string({ maxLength: 6 }), fc.constant(null)), { maxLength: 3 }),
  fc.array(fc.integer(), { maxLength: 3 }),
  fc.array(primitive, { maxLength: 3 }), // often mixed: invalid
  fc.constantFrom(null, undefined, {}, { x: 1 }, [{}], () => 1),
)
const attrs = fc.dictionary(key, value, { maxKeys: 5 })
const epochMs = fc.integer({ min: 1_600_000_000_000, max: 1_900_000_000_000 })
// Times given explicitly (epoch ms, Date, HrTime): both sides read them the same; readings of the clock never match.
const time = fc.oneof(
  epochMs,
  epochMs.map((ms) => new Date(ms)),
  fc.tuple(fc.integer({ min: 1_600_000_000, max: 1_900_000_000 }), fc.integer({ min: 0, max: 999_999_999 })) as fc.Arbitrary<HrTime>,
)
const spanContext: fc.Arbitrary<SpanContext> = fc.record({
  traceId: fc.constantFrom('0af7651916cd43dd8448eb211c80319c', '00000000000000000000000000000000', 'xyz'),
  spanId: fc.constantFrom('b7ad6b7169203331', '0000000000000000'),
  traceFlags: fc.constantFrom(TraceFlags.NONE, TraceFlags.SAMPLED),
  isRemote: fc.boolean(),
})
const link = fc.record({ context: spanContext, attributes: fc.option(attrs, { nil: undefined }) })
const exception = fc.oneof(
  fc.string({ maxLength: 6 }),
  fc.record({ name: fc.option(fc.string({ maxLength: 4 }), { nil: undefined }), message: fc.option(fc.string({ maxLength: 4 }), { nil: undefined }), code: fc.option(fc.oneof(fc.string({ maxLength: 3 }), fc.integer()), { nil: undefined }), stack: fc.option(fc.string({ maxLength: 4 }), { nil: undefined }) }),
)

type Op = (s: Span) => unknown
const op: fc.Arbitrary<[string, Op]> = fc.oneof(
  fc.tuple(key, value).map(([k, v]): [string, Op] => [`setAttribute(${k})`, (s) => s.setAttribute(k, v as never)]),
  attrs.map((a): [string, Op] => ['setAttributes', (s) => s.setAttributes(a as never)]),
  fc.tuple(fc.string({ maxLength: 4 }), fc.option(attrs, { nil: undefined }), fc.option(time, { nil: undefined })).map(([n, a, t]): [string, Op] => [
    'addEvent',
    (s) => (t === undefined ? s.addEvent(n, a as never) : a === undefined ? s.addEvent(n, t) : s.addEvent(n, a as never, t)),
  ]),
  link.map((l): [string, Op] => ['addLink', (s) => s.addLink(l as Link)]),
  fc.array(link, { maxLength: 3 }).map((ls): [string, Op] => ['addLinks', (s) => s.addLinks(ls as Link[])]),
  fc
    .record({ code: fc.constantFrom(SpanStatusCode.UNSET, SpanStatusCode.OK, SpanStatusCode.ERROR), message: fc.oneof(fc.string({ maxLength: 4 }), fc.integer(), fc.constant(undefined)) })
    .map((st): [string, Op] => ['setStatus', (s) => s.setStatus(st as never)]),
  fc.string({ maxLength: 4 }).map((n): [string, Op] => ['updateName', (s) => s.updateName(n)]),
  fc.tuple(exception, time).map(([e, t]): [string, Op] => ['recordException', (s) => s.recordException(e as never, t)]),
  fc.option(time, { nil: undefined }).map((t): [string, Op] => [t === undefined ? 'end' : 'end at', (s) => s.end(t)]),
)

const limits: fc.Arbitrary<SpanLimits> = fc.record({
  attributeCountLimit: fc.constantFrom(0, 1, 2, 3, 128),
  attributeValueLengthLimit: fc.constantFrom(Infinity, 0, 1, 3),
  eventCountLimit: fc.constantFrom(0, 1, 2, 128),
  linkCountLimit: fc.constantFrom(0, 1, 2, 128),
  attributePerEventCountLimit: fc.constantFrom(0, 1, 128),
  attributePerLinkCountLimit: fc.constantFrom(0, 1, 128),
})

/** What an exporter reads of a span; the clock's own readings left out (events and ends without a given time). */
function finished(s: ReadableSpan, endGiven: boolean) {
  return {
    name: s.name,
    kind: s.kind,
    context: s.spanContext(),
    parent: s.parentSpanContext,
    attributes: s.attributes,
    links: s.links,
    events: s.events.map((e) => ({ ...e, time: undefined })),
    status: s.status,
    ended: s.ended,
    dropped: [s.droppedAttributesCount, s.droppedEventsCount, s.droppedLinksCount],
    startTime: s.startTime,
    endTime: endGiven ? s.endTime : undefined,
    duration: endGiven ? s.duration : undefined,
    scope: s.instrumentationScope,
  }
}

function parentContext(kind: 'none' | 'span' | 'suppressed', sc: SpanContext): Context {
  if (kind === 'none') return ROOT_CONTEXT
  const ctx = trace.setSpanContext(ROOT_CONTEXT, sc)
  return kind === 'suppressed' ? suppressTracing(ctx) : ctx
}

describe("the SDK's own tracer, against OpenTelemetry's", () => {
  it('leaves the same finished span after any sequence of operations', () => {
    fc.assert(
      fc.property(
        limits,
        fc.record({
          kind: fc.constantFrom(SpanKind.INTERNAL, SpanKind.CLIENT, SpanKind.SERVER),
          attributes: fc.option(attrs, { nil: undefined }),
          links: fc.option(fc.array(link, { maxLength: 3 }), { nil: undefined }),
          startTime: time,
          root: fc.boolean(),
        }),
        fc.constantFrom('none', 'span', 'suppressed') as fc.Arbitrary<'none' | 'span' | 'suppressed'>,
        spanContext,
        fc.array(op, { maxLength: 12 }),
        (lim, options, parentKind, parentSc, ops) => {
          const { own, otel, ours, theirs } = both(lim)
          const parent = parentContext(parentKind, parentSc)
          const a = own.startSpan('s', options as never, parent)
          const b = otel.startSpan('s', options as never, parent)
          expect(a.spanContext()).toEqual(b.spanContext())
          expect(a.isRecording()).toBe(b.isRecording())
          for (const [, apply] of ops) {
            const returned = apply(a) === a
            // OpenTelemetry's own span throws on an exception object it cannot print (no prototype): ours does not.
            try {
              expect(returned).toBe(apply(b) === b)
            } catch (err) {
              if (!(err instanceof TypeError)) throw err
            }
          }
          // The first end() decides the span's end: a given time on both sides, or each side's clock.
          const endGiven = ops.find(([name]) => name.startsWith('end'))?.[0] === 'end at'
          expect(ours.started).toBe(theirs.started)
          expect(ours.ended.length).toBe(theirs.ended.length)
          if (theirs.ended[0]) expect(finished(ours.ended[0]!, endGiven)).toEqual(finished(theirs.ended[0], endGiven))
          else if (a.isRecording()) expect(finished(a as unknown as ReadableSpan, false)).toEqual(finished(b as unknown as ReadableSpan, false))
        },
      ),
      { seed: 31, numRuns: 3_000 },
    )
  })

  it('starts active spans with any of the three signatures, as the API defines them', () => {
    const { own, otel } = both(tracingSettings({}).limits)
    const calls = (t: Tracer) => [
      t.startActiveSpan('a', (s) => trace.getActiveSpan() === s),
      t.startActiveSpan('b', { kind: SpanKind.CLIENT }, (s) => (s as unknown as ReadableSpan).kind),
      t.startActiveSpan('c', {}, trace.setSpanContext(ROOT_CONTEXT, { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: 0 }), (s) => s.isRecording()),
    ]
    expect(calls(own)).toEqual(calls(otel))
    expect(calls(own)).toEqual([false, SpanKind.CLIENT, false]) // no context manager here; an unsampled parent records nothing
  })
})

describe('sampling and span limits from the environment', () => {
  const names = ['OTEL_TRACES_SAMPLER', 'OTEL_TRACES_SAMPLER_ARG', 'OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT', 'OTEL_ATTRIBUTE_COUNT_LIMIT', 'OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT', 'OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT', 'OTEL_SPAN_EVENT_COUNT_LIMIT', 'OTEL_SPAN_LINK_COUNT_LIMIT', 'OTEL_SPAN_ATTRIBUTE_PER_EVENT_COUNT_LIMIT', 'OTEL_SPAN_ATTRIBUTE_PER_LINK_COUNT_LIMIT'] as const
  const envValue = (name: string) =>
    name === 'OTEL_TRACES_SAMPLER'
      ? fc.constantFrom('always_on', 'always_off', 'traceidratio', 'parentbased_always_on', 'parentbased_always_off', 'parentbased_traceidratio', 'bogus', '')
      : fc.oneof(fc.constantFrom('0', '1', '3', '0.25', '0.5', '-1', '2', 'abc', ' ', ''), fc.double({ min: 0, max: 1, noNaN: true }).map(String))
  const env = fc.record(Object.fromEntries(names.map((n) => [n, fc.option(envValue(n), { nil: undefined })])) as Record<(typeof names)[number], fc.Arbitrary<string | undefined>>, { requiredKeys: [] })

  it('gives the limits and sampling decisions OpenTelemetry reads from the same variables', () => {
    const traceIds = fc.sample(fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: 32, maxLength: 32 }), { seed: 5, numRuns: 64 })
    const parents: (SpanContext | undefined)[] = [undefined, ...[0, 1].flatMap((traceFlags) => [false, true].map((isRemote) => ({ traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags, isRemote })))]
    fc.assert(
      fc.property(env, (vars) => {
        const saved = { ...process.env }
        try {
          for (const n of names) delete process.env[n]
          Object.assign(process.env, Object.fromEntries(Object.entries(vars).filter(([, v]) => v !== undefined)))
          const reference = new BasicTracerProvider() as unknown as { _tracerOptions: { spanLimits: SpanLimits; sampler: { shouldSample(c: Context, id: string): { decision: number } } } }
          const settings = tracingSettings(vars)
          expect(settings.limits).toEqual(reference._tracerOptions.spanLimits)
          const sample = samplerFor(settings)
          for (const p of parents) {
            const ctx = p ? trace.setSpanContext(ROOT_CONTEXT, p) : ROOT_CONTEXT
            for (const id of traceIds) expect(sample(p, id)).toBe(reference._tracerOptions.sampler.shouldSample(ctx, id).decision)
          }
        } finally {
          for (const n of names) delete process.env[n]
          Object.assign(process.env, saved)
        }
      }),
      { seed: 7, numRuns: 400 },
    )
  })

  it('says what it ignored in the environment, naming the variable', () => {
    const { warnings, sampler, limits } = tracingSettings({ OTEL_TRACES_SAMPLER: 'bogus', OTEL_SPAN_EVENT_COUNT_LIMIT: 'many', OTEL_TRACES_SAMPLER_ARG: '0.5' })
    expect(sampler).toBe('parentbased_always_on')
    expect(limits.eventCountLimit).toBe(128)
    expect(warnings).toEqual([expect.stringContaining('OTEL_SPAN_EVENT_COUNT_LIMIT="many"'), expect.stringContaining('OTEL_TRACES_SAMPLER="bogus"')])
    expect(tracingSettings({ OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '7' }).warnings).toEqual([expect.stringContaining('OTEL_TRACES_SAMPLER_ARG=7')])
    // One problem, one line: a ratio that is not a number is not also "not set".
    expect(tracingSettings({ OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: 'half' }).warnings).toEqual(['OTEL_TRACES_SAMPLER_ARG="half" is not a number; ignored'])
    expect(tracingSettings({ OTEL_TRACES_SAMPLER: 'parentbased_traceidratio' }).warnings).toEqual(['OTEL_TRACES_SAMPLER_ARG is not set; using 1'])
  })
})

describe("the SDK's own span, used against its types", () => {
  it('never throws, whatever each method is given, before or after it ends', () => {
    const methods = ['setAttribute', 'setAttributes', 'addEvent', 'addLink', 'addLinks', 'setStatus', 'updateName', 'recordException', 'end', 'isRecording', 'spanContext'] as const
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom(...methods), fc.array(fc.anything({ withNullPrototype: true, withBigInt: true }), { maxLength: 3 })), { maxLength: 10 }), (calls) => {
        const { own, ours } = both(tracingSettings({}).limits)
        const span = own.startSpan('s')
        for (const [method, args] of calls) (span[method] as (...a: unknown[]) => unknown)(...args)
        span.end()
        for (const [method, args] of calls) (span[method] as (...a: unknown[]) => unknown)(...args)
        // And it can still be exported: one bad value must not cost the span.
        expect(ours.ended).toHaveLength(1)
        expect(encodeSpan(ours.ended[0]!).length).toBeGreaterThan(0)
      }),
      { seed: 3, numRuns: 2_000 },
    )
  })
})

describe("the SDK's own span's attribute values", () => {
  it('are copies: an array the app changes after setting it does not change the span', () => {
    const { own, otel, ours, theirs } = both(tracingSettings({}).limits)
    for (const tracer of [own, otel]) {
      const tags = ['a', 'b']
      const start = [1, 2]
      const span = tracer.startSpan('s', { attributes: { start } })
      span.setAttribute('tags', tags)
      span.addEvent('e', { tags })
      tags.push('c')
      start.push(3)
      span.end()
    }
    for (const ended of [ours.ended[0]!, theirs.ended[0]!]) {
      expect(ended.attributes).toEqual({ start: [1, 2], tags: ['a', 'b'] })
      expect(ended.events[0]?.attributes).toEqual({ tags: ['a', 'b'] })
    }
  })
  it('copy only the start of an array the export would cut, with its marker item', () => {
    const limits = tracingSettings({}).limits
    for (const valueLength of [Infinity, 4]) {
      const { own, ours } = both({ ...limits, attributeValueLengthLimit: valueLength })
      const span = own.startSpan('s')
      span.setAttribute('many', Array.from({ length: 1_000_000 }, (_, i) => i))
      span.addEvent('e', { words: Array.from({ length: 20_000 }, () => 'word') })
      span.end()
      const ended = ours.ended[0]!
      expect(ended.attributes.many).toHaveLength(16_384)
      expect((ended.attributes.many as unknown[])[16_382]).toBe(16_382)
      expect(ended.events[0]?.attributes?.words).toHaveLength(16_384)
      // The marker is a string like any other: OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT cuts it too.
      expect((ended.attributes.many as unknown[])[16_383]).toBe('…[truncated 983617 items]'.slice(0, valueLength))
    }
  })
  it('cut a key over 1,024 characters before it is stored, and check only the items of an array they keep', () => {
    const { own, ours } = both(tracingSettings({}).limits)
    const span = own.startSpan('s')
    const long = 'k'.repeat(5000)
    // Two keys of one length that differ past the cut are one key once cut.
    span.setAttribute(`${long}?`, 1)
    span.setAttribute(`${long}!`, 2)
    // An item of another type past what is kept does not cost the array.
    span.setAttribute('mixed', [...Array.from({ length: 20_000 }, (_, i) => i), 'late'] as never)
    span.addEvent('e', { [long]: true })
    span.end()
    const ended = ours.ended[0]!
    const keys = Object.keys(ended.attributes)
    expect(keys).toHaveLength(2)
    expect(keys[0]).toHaveLength(1024)
    expect(keys[0]).toMatch(/^k+…\[truncated \d+ chars\]$/)
    expect(ended.attributes[keys[0]!]).toBe(2)
    expect(ended.attributes.mixed).toHaveLength(16_384)
    expect(Object.keys(ended.events[0]!.attributes!)[0]).toHaveLength(1024)
  })
})
