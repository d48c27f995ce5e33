import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { isConventionKey } from '../src/normalize/convention-keys.js'
import { decodeJson, decodeProtobuf } from '../src/otlp/decode.js'
import { MAX_ATTRIBUTES } from '../src/otlp/values.js'
import { intFromEnv, seedFromEnv } from './fuzz/rng.js'
import { jsonRequest, protobufRequest } from './helpers/otlp.js'

/**
 * A span's attributes past the cap: the first MAX_ATTRIBUTES are kept whatever their
 * names, then up to MAX_ATTRIBUTES more of the names the normalizer reads; the rest are
 * counted. The same over JSON and protobuf. Seeded and bounded: rerun with
 * SPANLENS_FUZZ_SEED=<seed>, size with SPANLENS_FUZZ_PROPERTY_RUNS.
 */
const SEED = seedFromEnv(process.env, 20261209)
const RUNS = Math.max(1, Math.round(intFromEnv(process.env, 'SPANLENS_FUZZ_PROPERTY_RUNS', 1000) / 20))

function decodeBoth(keys: string[]) {
  const request = jsonRequest([{ attributes: keys.map((key, i) => ({ key, value: { intValue: i } })) }])
  const json = decodeJson(Buffer.from(JSON.stringify(request)))
  const protobuf = decodeProtobuf(protobufRequest(request))
  expect(json.rejected + protobuf.rejected).toBe(0)
  return { json: json.spans[0], protobuf: protobuf.spans[0] }
}

/** What the rule keeps of distinct keys, in the order sent. */
function kept(keys: string[]): string[] {
  const past = keys.slice(MAX_ATTRIBUTES).filter(isConventionKey).slice(0, MAX_ATTRIBUTES)
  return [...keys.slice(0, MAX_ATTRIBUTES), ...past]
}

// Names of the app's own and of the conventions, in any order and number around the caps.
const key = fc.oneof(
  fc.nat(99_999).map((i) => `app.field.${i}`),
  fc.nat(99_999).map((i) => `gen_ai.prompt.${i}.content`),
  fc.constantFrom('gen_ai.request.model', 'gen_ai.usage.input_tokens', 'llm.model_name', 'session.id', 'langfuse.observation.type', 'http.route'),
)
const keys = fc.uniqueArray(key, { minLength: MAX_ATTRIBUTES - 50, maxLength: 3 * MAX_ATTRIBUTES })

describe('the attributes a span keeps past the cap', () => {
  it('a span of up to 1,024 attributes keeps them all and records nothing left out', () => {
    const names = Array.from({ length: MAX_ATTRIBUTES }, (_, i) => `app.field.${i}`)
    for (const span of Object.values(decodeBoth(names))) {
      expect(Object.keys(span?.attributes ?? {})).toEqual(names)
      expect(span?.droppedAttributes).toBeUndefined()
    }
  })

  it(`the first 1,024, then the names the normalizer reads up to 1,024 more; the rest counted (fast-check, seed ${SEED})`, () => {
    fc.assert(
      fc.property(keys, (names) => {
        const want = kept(names)
        const dropped = names.length - want.length
        for (const span of Object.values(decodeBoth(names))) {
          expect(Object.keys(span?.attributes ?? {})).toEqual(want)
          for (const k of want) expect(span?.attributes[k]).toBe(names.indexOf(k))
          expect(span?.droppedAttributes).toBe(dropped > 0 ? dropped : undefined)
        }
      }),
      // Shrinking lists of thousands of attributes takes minutes; the seed reproduces the case.
      { seed: SEED, numRuns: RUNS, endOnFailure: true },
    )
  })

  it('a later duplicate past the cap replaces the value, as within it', () => {
    const names = [...Array.from({ length: MAX_ATTRIBUTES }, (_, i) => (i === 3 ? 'gen_ai.request.model' : `app.field.${i}`)), 'gen_ai.request.model']
    for (const span of Object.values(decodeBoth(names))) {
      expect(span?.attributes['gen_ai.request.model']).toBe(MAX_ATTRIBUTES)
      expect(span?.droppedAttributes).toBeUndefined()
    }
  })
})
