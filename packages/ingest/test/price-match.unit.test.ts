import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { PriceTable } from '../src/normalize/cost.js'
import { DEFAULT_PRICES } from '../src/normalize/prices.js'
import { intFromEnv, seedFromEnv } from './fuzz/rng.js'

/**
 * Which price a model id gets: its own entry's, the entry it pins a snapshot of, or none.
 * A variant that is another product (o1-pro beside o1) never takes its base's price.
 * Seeded and bounded: rerun with SPANLENS_FUZZ_SEED=<seed>, size with SPANLENS_FUZZ_PROPERTY_RUNS.
 */
const SEED = seedFromEnv(process.env, 20261208)
const RUNS = intFromEnv(process.env, 'SPANLENS_FUZZ_PROPERTY_RUNS', 1000)
const prices = PriceTable.load()
const MILLION_EACH = { input: 1_000_000, output: 1_000_000, cacheRead: 0, cacheWrite: 0 }
const ENTRIES = Object.keys(DEFAULT_PRICES)

/** USD for a million input and a million output tokens, or null when unpriced. */
const million = (model: string): number | null => prices.cost([model], MILLION_EACH)

describe('which price a model id gets', () => {
  it.each([
    // The id of an entry, and provider-prefixed forms of it.
    ['gpt-4o', 12.5],
    ['openai/gpt-4o', 12.5],
    ['GPT-4o', 12.5],
    ['models/gemini-2.0-flash', 0.5],
    // Snapshots that pin an entry's model: dated, numbered, latest, Bedrock and Vertex AI ids.
    ['gpt-4o-2024-08-06', 12.5],
    ['gpt-4o-2024-11-20', 12.5],
    ['gpt-4o-mini-2024-07-18', 0.75],
    ['o1-2024-12-17', 75],
    ['o3-mini-2025-01-31', 5.5],
    ['gpt-4-0613', 90],
    ['gpt-4-turbo-2024-04-09', 40],
    ['gpt-3.5-turbo-0125', 2],
    ['claude-sonnet-4-5-20250929', 18],
    ['claude-3-5-sonnet-latest', 18],
    ['claude-sonnet-4@20250514', 18],
    ['claude-3-5-sonnet-v2@20241022', 18],
    ['anthropic.claude-3-5-sonnet-20241022-v2:0', 18],
    ['us.anthropic.claude-3-haiku-20240307-v1:0', 1.5],
    ['claude-opus-4-1-20250805', 90],
    ['gemini-1.5-pro-002', 6.25],
    ['gemini-2.0-flash-001', 0.5],
    ['mistral-large-2411', 8],
    ['mistral-large-latest', 8],
    ['mistral.mistral-large-2407-v1:0', 8],
    // A dated snapshot priced apart from its alias has its own entry, which wins.
    ['gpt-4o-2024-05-13', 20],
    ['gpt-3.5-turbo-1106', 3],
    ['gpt-3.5-turbo-0613', 3.5],
    // Other products named after a priced one: their own list price.
    ['o1-pro', 750],
    ['o1-pro-2025-03-19', 750],
    ['o3-pro', 100],
    ['gpt-5-pro', 135],
    ['gpt-4.5-preview', 225],
    ['gpt-4.5-preview-2025-02-27', 225],
    ['gpt-4-32k', 180],
    ['gpt-4-32k-0613', 180],
    ['gpt-3.5-turbo-instruct', 3.5],
    // ... or none, when the table has no entry of their own.
    ['gpt-4o-realtime-preview', null],
    ['gpt-4o-audio-preview-2024-12-17', null],
    ['gpt-4o-search-preview', null],
    ['gpt-4-0125-preview', null],
    ['gpt-4-turbo-preview', null],
    ['gpt-3.5-turbo-16k', null],
    ['gpt-5-chat-latest', null],
    ['o1-preview', null],
    ['gemini-1.5-flash-8b', null],
    ['gemini-2.5-flash-preview-04-17', null],
    ['gemini-2.0-flash-exp', null],
    ['claude-opus-4-2', null],
    ['claude-3-5-sonnet.1', null],
    ['deepseek-r1-distill-llama-70b', null],
    ['llama-3.1-8b-instant', null],
    ['mixtral-8x7b-32768', null],
    ['text-embedding-ada-002-v2', null],
    ['openai/gpt-4o:free', null],
    ['ft:gpt-4o-mini-2024-07-18:acme::abc123', null],
    ['gpt-4o_2024-08-06', null],
    ['gpt-4o-20240806x', null],
  ] as Array<[string, number | null]>)('%s: %s USD for a million tokens in and out', (model, usd) => {
    const got = million(model)
    if (usd === null) expect(got).toBeNull()
    else expect(got).toBeCloseTo(usd, 6)
  })
})

const digits = (n: number) => fc.array(fc.constantFrom(...'0123456789'), { minLength: n, maxLength: n }).map((d) => d.join(''))
const snapshot = fc
  .tuple(
    fc.oneof(
      fc.tuple(digits(4), digits(2), digits(2)).map(([y, m, d]) => `-${y}-${m}-${d}`),
      fc.tuple(fc.constantFrom('-', '@'), digits(8)).map(([sep, d]) => sep + d),
      digits(4).map((d) => `-${d}`),
      digits(3).map((d) => `-${d}`),
      fc.constant('-latest'),
      fc.constant(''),
    ),
    fc.option(fc.tuple(fc.nat(9), fc.nat(9)).map(([v, r]) => `-v${v}:${r}`), { nil: '' }),
  )
  .map(([pin, version]) => pin + version)
  .filter((s) => s !== '')
// What variants are called: product words, sizes, point releases, other separators.
const variant = fc.oneof(
  fc.constantFrom('-pro', '-mini', '-nano', '-32k', '-16k', '-instruct', '-realtime-preview', '-audio-preview', '-search-preview', '-preview', '-turbo', '-vision-preview', '-8b', '.5', '.1', '-exp', '-chat-latest', ':free', '-fast', '-thinking', '-codex', '-v2', '_2024-08-06', ':2024-08-06', '-0125-preview'),
  fc.stringMatching(/^-[a-z]{1,8}$/).filter((s) => s !== '-latest'),
  fc.stringMatching(/^-[0-9]{1,2}$|^-[0-9]{5,7}$/),
)
const entry = fc.constantFrom(...ENTRIES)
/** Whether a longer entry than `base` starts `id`: then that entry's rule decides, not base's. */
const longerEntryStarts = (base: string, id: string) => ENTRIES.some((e) => e.length > base.length && id.startsWith(e))

describe('the matching rule, over every entry of the table', () => {
  it(`an entry with a snapshot pinned to it costs what the entry does (fast-check, seed ${SEED})`, () => {
    fc.assert(
      fc.property(entry, snapshot, fc.constantFrom('', 'openai/', 'us.anthropic.', 'models/'), (base, pin, provider) => {
        fc.pre(!longerEntryStarts(base, base + pin))
        expect(million(provider + base + pin)).toBe(million(base))
      }),
      { seed: SEED, numRuns: RUNS },
    )
  })

  it(`an entry followed by anything else is no entry's model, and unpriced (fast-check, seed ${SEED})`, () => {
    fc.assert(
      fc.property(entry, variant, fc.option(snapshot, { nil: '' }), (base, other, pin) => {
        const id = base + other + pin
        fc.pre(!longerEntryStarts(base, id))
        expect(million(id), id).toBeNull()
      }),
      { seed: SEED, numRuns: RUNS },
    )
  })
})
