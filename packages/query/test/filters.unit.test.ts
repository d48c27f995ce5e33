// The query-string form of a span filter, both ways: what an SLO's badEvents (and so a
// console link) says is read back by the traces route as the same filter.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { filterFromQuery, filterToQuery, type SpanFilter } from '../src/filters.js'
import { SPAN_KINDS } from '../src/span-kinds.js'
import { SPAN_NUMBER_KEYS } from '../src/span-numbers.js'

const word = fc.string({ minLength: 1, maxLength: 8 }).filter((s) => s.trim() === s && !s.includes(','))
const list = fc.uniqueArray(word, { minLength: 1, maxLength: 3 })
const number = fc.double({ noNaN: true, noDefaultInfinity: true }).map((v) => (Object.is(v, -0) ? 0 : v))
const condition = fc.record({ op: fc.constantFrom('=', '!=', '<', '<=', '>', '>=' as const), value: number })
const numbers = fc.record(Object.fromEntries(SPAN_NUMBER_KEYS.map((k) => [k, fc.array(condition, { minLength: 1, maxLength: 2 })])), { requiredKeys: [] })

const timeless = fc.record(
  {
    service: list,
    model: list,
    kind: fc.uniqueArray(fc.constantFrom(...SPAN_KINDS), { minLength: 1, maxLength: 2 }),
    status: list,
    release: list,
    userId: fc.string({ maxLength: 6 }),
    attributes: fc.dictionary(word, fc.string({ maxLength: 6 }), { minKeys: 1, maxKeys: 2 }),
    text: fc.string({ minLength: 1, maxLength: 6 }),
    tag: list,
    refusal: fc.boolean(),
    minDurationMs: fc.double({ min: 0, max: 1e12, noNaN: true }).map((v) => (Object.is(v, -0) ? 0 : v)),
    scores: fc.dictionary(word, fc.oneof(fc.constant({ op: 'any' as const }), condition), { minKeys: 1, maxKeys: 2 }),
    groups: fc.dictionary(fc.constantFrom('language', 'user_prefix:3', 'model', 'attr:tenant'), fc.string({ maxLength: 6 }), { minKeys: 1, maxKeys: 2 }),
  },
  { requiredKeys: [] },
)

const filter = fc
  .tuple(timeless, numbers, fc.option(fc.tuple(timeless, numbers), { nil: undefined }), fc.option(fc.integer({ min: 0, max: 4e12 }), { nil: undefined }))
  .map(([f, n, not, from]): SpanFilter => ({
    ...f,
    ...n,
    ...(not ? { not: { ...not[0], ...not[1] } } : {}),
    ...(from !== undefined ? { from: new Date(from), to: new Date(from + 60_000) } : {}),
  }))

describe('span filters in query-string form', () => {
  it('filterFromQuery reads back what filterToQuery writes, not. conditions and group values included', () => {
    fc.assert(
      fc.property(filter, (f) => {
        const q = filterToQuery(f)
        expect(q).not.toBeNull()
        expect(filterFromQuery(q!)).toEqual(f)
      }),
      { seed: 20, numRuns: 300 },
    )
  })

  it('says null for a list value with a comma, which the query-string form splits', () => {
    expect(filterToQuery({ service: ['a,b'] })).toBeNull()
    expect(filterToQuery({ not: { tag: ['x,y'] } })).toBeNull()
    expect(filterToQuery({ groups: { 'attr:tenant': 'a,b' } })).toEqual({ 'group.attr:tenant': 'a,b' })
  })
})
