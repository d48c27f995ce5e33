import fc from 'fast-check'
import { EDGE_NANOS, type AnyValue, type KeyValue, type SpanModel, type Str } from './model.js'
import { EDGE_DOUBLES, EDGE_INTS, INVALID_UTF8, NASTY_STRINGS } from './mutate-model.js'

/**
 * fast-check arbitraries for spans at and beyond the edge of every field the
 * server stores: times (DateTime64(9) ends in 2262, fixed64 in 2554), durations,
 * token counts (UInt32 columns) and other numbers, and strings that break row
 * formats. Ids are left to the caller so every span of a run can be found again.
 */
const MAX_U64 = (1n << 64n) - 1n
// A fixed "now" (2026-11-29): a seed and path replay the same values on any day.
const now = 1_796_000_000_000_000_000n

export const nanosArb: fc.Arbitrary<bigint> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...EDGE_NANOS.map(([, t]) => t)) },
  { weight: 2, arbitrary: fc.bigInt({ min: 0n, max: MAX_U64 }) },
  { weight: 2, arbitrary: fc.bigInt({ min: now - 400n * 86_400_000_000_000n, max: now + 86_400_000_000_000n }) },
  { weight: 1, arbitrary: fc.bigInt({ min: (1n << 63n) - 1_000_000_000n, max: (1n << 63n) + 1_000_000_000n }) },
)

export const durationArb: fc.Arbitrary<bigint> = fc.oneof(
  fc.constantFrom(0n, 1n, -1n, 1n << 63n, MAX_U64),
  fc.bigInt({ min: -(10n ** 12n), max: 10n ** 15n }),
)

// Past the 1 MiB attribute and 4 MiB content limits, but rarely: each costs seconds per run.
export const strArb: fc.Arbitrary<Str> = fc.oneof(
  { weight: 9, arbitrary: fc.constantFrom(...NASTY_STRINGS) },
  { weight: 6, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 3, arbitrary: fc.string({ unit: fc.constantFrom('\0', '\t', '\n', '\r', '"', "'", '\\', ',', 'a'), maxLength: 20 }) },
  {
    weight: 6,
    arbitrary: fc.tuple(fc.string({ maxLength: 5 }), fc.constantFrom(...INVALID_UTF8), fc.string({ maxLength: 5 })).map(([a, bad, b]) => Buffer.concat([Buffer.from(a), bad, Buffer.from(b)])),
  },
  { weight: 1, arbitrary: fc.constantFrom(1_100_000, 5_000_000).map((n) => 'z'.repeat(n)) },
)

export const numberValueArb: fc.Arbitrary<AnyValue> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...EDGE_INTS).map((v): AnyValue => ({ int: v })) },
  { weight: 2, arbitrary: fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n }).map((v): AnyValue => ({ int: v })) },
  { weight: 2, arbitrary: fc.oneof(fc.constantFrom(...EDGE_DOUBLES), fc.double()).map((v): AnyValue => ({ double: v })) },
  { weight: 1, arbitrary: fc.constantFrom('-1', '4294967296', '1e30', 'NaN', '', '12abc').map((v): AnyValue => ({ string: v })) },
)

const TOKEN_KEYS = [
  'gen_ai.usage.input_tokens',
  'gen_ai.usage.output_tokens',
  'gen_ai.usage.total_tokens',
  'gen_ai.usage.cache_read.input_tokens',
  'gen_ai.usage.cache_creation.input_tokens',
  'gen_ai.usage.reasoning.output_tokens',
] as const

export interface EdgeSpan {
  name: Str
  kind: number
  start: bigint
  duration: bigint
  model: Str
  tokens: Partial<Record<(typeof TOKEN_KEYS)[number], AnyValue>>
  ttft: AnyValue | null
  user: Str
  session: Str
  input: Str
  output: Str
  eventTimes: bigint[]
  status: { code: number; message: Str } | null
}

export const edgeSpanArb: fc.Arbitrary<EdgeSpan> = fc.record({
  name: strArb,
  kind: fc.oneof(fc.integer({ min: 0, max: 5 }), fc.constantFrom(-1, 6, 2 ** 31 - 1)),
  start: nanosArb,
  duration: durationArb,
  model: fc.oneof(fc.constantFrom('gpt-4o-mini', 'gpt-4o', 'claude-3-5-sonnet'), strArb),
  tokens: fc.record(Object.fromEntries(TOKEN_KEYS.map((k) => [k, numberValueArb])) as Record<(typeof TOKEN_KEYS)[number], fc.Arbitrary<AnyValue>>, { requiredKeys: [] }),
  ttft: fc.option(numberValueArb),
  user: strArb,
  session: strArb,
  input: strArb,
  output: strArb,
  eventTimes: fc.array(nanosArb, { maxLength: 2 }),
  status: fc.option(fc.record({ code: fc.constantFrom(0, 1, 2, 3, -1), message: strArb })),
})

/** Clamps to what fixed64 can carry (the wire type cannot say more; JSON can, and gets its own cases). */
const u64 = (v: bigint) => (v < 0n ? 0n : v > MAX_U64 ? MAX_U64 : v)

export function toSpanModel(e: EdgeSpan, ids: { traceId: Buffer; spanId: Buffer }): SpanModel {
  const s = (key: string, value: Str): KeyValue => ({ key, value: { string: value } })
  return {
    traceId: ids.traceId,
    spanId: ids.spanId,
    parentSpanId: Buffer.alloc(0),
    name: e.name,
    kind: e.kind,
    start: u64(e.start),
    end: u64(e.start + e.duration),
    attributes: [
      s('gen_ai.operation.name', 'chat'),
      s('gen_ai.provider.name', 'openai'),
      s('gen_ai.request.model', e.model),
      ...Object.entries(e.tokens).map(([key, value]) => ({ key, value: value as AnyValue })),
      ...(e.ttft ? [{ key: 'gen_ai.server.time_to_first_token', value: e.ttft }] : []),
      s('user.id', e.user),
      s('session.id', e.session),
      s('gen_ai.input.messages', e.input),
      s('gen_ai.output.messages', e.output),
    ],
    events: e.eventTimes.map((t) => ({ time: t, name: 'e', attributes: [] })),
    links: [],
    ...(e.status ? { status: e.status } : {}),
  }
}
