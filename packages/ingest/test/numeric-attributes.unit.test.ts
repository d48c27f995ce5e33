import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { readCount, readNumber } from '../src/normalize/attrs.js'
import { PriceTable } from '../src/normalize/cost.js'
import { normalizeSpan } from '../src/normalize/normalize.js'
import { intFromEnv, seedFromEnv } from './fuzz/rng.js'
import { span } from './helpers/otlp-span.js'

/**
 * Token counts, durations and vectors sent as attribute values: one reader for counts and one
 * for other numbers, so "0x10", " 5 " or "12.7" is never taken for a number of tokens.
 * Seeded and bounded: rerun with SPANLENS_FUZZ_SEED=<seed>, size with SPANLENS_FUZZ_PROPERTY_RUNS.
 */
const SEED = seedFromEnv(process.env, 20261207)
const RUNS = intFromEnv(process.env, 'SPANLENS_FUZZ_PROPERTY_RUNS', 1000)
const prices = PriceTable.load()
const UINT32_MAX = 4_294_967_295

// Strings near the grammar's edges: digits with something around, in or before them.
const numberLike = fc.oneof(
  fc.string({ unit: fc.constantFrom(...'0123456789 .-+eExXabf_,\t\n'), maxLength: 12 }),
  fc.nat().map(String),
  fc.double().map(String),
  fc.constantFrom('', ' ', '0x10', ' 5 ', '5 ', '12.7', '1e3', '+5', '-5', '-0', 'Infinity', 'NaN', '0b11', '0o7', '1_000', '١٢', '１２'),
)

describe('a count is an int, a whole double or a string of decimal digits', () => {
  it('refuses what Number() took for a count', () => {
    for (const v of ['0x10', ' 5 ', '5\n', '12.7', '1e3', '+5', '-5', '', 'Infinity', '0b11', '1_000', '１２']) expect(readCount(v), JSON.stringify(v)).toBeUndefined()
    for (const v of [12.7, -1, Number.NaN, Number.POSITIVE_INFINITY, true, null, [], {}]) expect(readCount(v), JSON.stringify(v)).toBeUndefined()
    expect([readCount(12), readCount(12.0), readCount('12'), readCount('007'), readCount(0), readCount('9007199254740993')]).toEqual([12, 12, 12, 7, 0, 9007199254740992])
  })

  it(`a string is a count exactly when it is decimal digits, and then its value (fast-check, seed ${SEED})`, () => {
    fc.assert(
      fc.property(numberLike, (s) => {
        expect(readCount(s)).toBe(/^[0-9]+$/.test(s) ? Number(s) : undefined)
      }),
      { seed: SEED, numRuns: RUNS },
    )
  })

  it(`a number is a count exactly when it is a whole number, not negative (fast-check, seed ${SEED})`, () => {
    fc.assert(
      fc.property(fc.oneof(fc.double(), fc.integer(), fc.nat().map((n) => n + 0.5)), (n) => {
        expect(readCount(n)).toBe(Number.isInteger(n) && n >= 0 ? n : undefined)
      }),
      { seed: SEED, numRuns: RUNS },
    )
  })
})

describe('other numbers are finite, in decimal notation when sent as text', () => {
  it('takes "0.35" and "1e-05" (how doubles print), not hex, blanks or words', () => {
    expect([readNumber('0.35'), readNumber('1e-05'), readNumber('-2.5'), readNumber(3)]).toEqual([0.35, 1e-5, -2.5, 3])
    for (const v of ['0x10', ' 5 ', '', '.5', '5.', 'Infinity', '1e400', true, null]) expect(readNumber(v), JSON.stringify(v)).toBeUndefined()
  })

  it(`a string is a number exactly when it is in decimal notation (fast-check, seed ${SEED})`, () => {
    fc.assert(
      fc.property(numberLike, (s) => {
        const decimal = /^-?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?$/.test(s) && Number.isFinite(Number(s))
        expect(readNumber(s)).toBe(decimal ? Number(s) : undefined)
      }),
      { seed: SEED, numRuns: RUNS },
    )
  })
})

describe('the stored row', () => {
  const call = (attrs: Record<string, string | number>) =>
    normalizeSpan(span({ 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': 'gpt-4o', ...attrs }), 'p', { prices })

  it('a token count that is no count leaves its column as if it were absent, and the attribute as sent', () => {
    const row = call({ 'gen_ai.usage.input_tokens': '0x10', 'gen_ai.usage.output_tokens': ' 5 ' })
    expect(row).toMatchObject({ input_tokens: 0, output_tokens: 0, total_tokens: 0, cost_usd: null })
    expect(row.attributes).toMatchObject({ 'gen_ai.usage.input_tokens': '0x10', 'gen_ai.usage.output_tokens': ' 5 ' })
    // The next source of the field is read, as when the first is absent.
    expect(call({ 'gen_ai.usage.input_tokens': '12.7', 'gen_ai.usage.prompt_tokens': '1000000' })).toMatchObject({ input_tokens: 1_000_000, cost_usd: 2.5 })
  })

  it(`a token count sent as any text is stored only when it is digits (fast-check, seed ${SEED})`, () => {
    fc.assert(
      fc.property(numberLike, numberLike, (input, output) => {
        const row = call({ 'gen_ai.usage.input_tokens': input, 'gen_ai.usage.output_tokens': output })
        const stored = (s: string) => (/^[0-9]+$/.test(s) ? Math.min(Number(s), UINT32_MAX) : 0)
        expect(row.input_tokens).toBe(stored(input))
        expect(row.output_tokens).toBe(stored(output))
        expect(row.cost_usd === null).toBe(stored(input) === 0 && stored(output) === 0)
      }),
      { seed: SEED, numRuns: RUNS },
    )
  })

  it("a Langfuse usage object's counts are read the same way", () => {
    const row = normalizeSpan(
      span({ 'langfuse.observation.type': 'generation', 'langfuse.observation.usage_details': JSON.stringify({ input: '0x10', output: '5', input_cached_tokens: '1e3' }) }),
      'p',
      { prices },
    )
    expect(row).toMatchObject({ input_tokens: 0, output_tokens: 5, cache_read_tokens: 0 })
  })

  it('time to first token: seconds as text in decimal notation, nothing else', () => {
    expect(call({ 'gen_ai.response.time_to_first_chunk': '0.35' }).ttft_ms).toBeCloseTo(350)
    expect(call({ 'gen_ai.response.time_to_first_chunk': '1e-05' }).ttft_ms).toBeCloseTo(0.01)
    expect(call({ 'gen_ai.response.time_to_first_chunk': '0x10' }).ttft_ms).toBeNull()
    expect(call({ 'ai.response.msToFirstChunk': ' 120 ' }).ttft_ms).toBeNull()
    // A negative time is none, and the next source is read.
    expect(call({ 'gen_ai.response.time_to_first_chunk': -1, 'ai.response.msToFirstChunk': 120 }).ttft_ms).toBe(120)
  })

  it('an embedding with an entry that is no number is none', () => {
    const vector = (v: unknown[]) => normalizeSpan(span({ 'spanlens.embedding': JSON.stringify(v) }), 'p', { prices }).embedding
    expect(vector([0.5, '-1.5', 2])).toEqual([0.5, -1.5, 2])
    expect(vector([0.5, '0x10'])).toEqual([])
    expect(vector([0.5, ''])).toEqual([])
    expect(vector([0.5, null])).toEqual([])
    expect(vector([0.5, true])).toEqual([])
  })

  it('an indexed message is numbered by its digits: "0x1" and " 1" are not message 1', () => {
    const row = normalizeSpan(
      span({ 'gen_ai.prompt.1.role': 'user', 'gen_ai.prompt.1.content': 'hello', 'gen_ai.prompt.0x1.content': 'injected', 'gen_ai.prompt. 1.content': 'also' }),
      'p',
      { prices },
    )
    expect(JSON.parse(row.input)).toEqual([{ role: 'user', parts: [{ type: 'text', content: 'hello' }] }])
  })
})
