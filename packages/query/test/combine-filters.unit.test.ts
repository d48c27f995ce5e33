// A drift side and the request's shared filter: every condition of both holds.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { combineFilters } from '../src/combine-filters.js'
import { type SpanFilter, toSpanFilter } from '../src/filters.js'

const NOW = new Date('2026-06-15T12:00:00.000Z')
const f = (input: Record<string, unknown>) => toSpanFilter(input, NOW)
const both = (filter: Record<string, unknown>, side: Record<string, unknown>) => combineFilters(f(filter), f(side), 'reference')
const refused = (filter: Record<string, unknown>, side: Record<string, unknown>, field: string) =>
  expect(() => both(filter, side), `${JSON.stringify(filter)} + ${JSON.stringify(side)}`).toThrow(
    expect.objectContaining({ code: 'SPANLENS_BAD_REQUEST', message: expect.stringMatching(new RegExp(`^${field.replace(/\./g, '\\.')}: `)) }),
  )

describe('a drift side combined with the shared filter', () => {
  it("keeps the filter's from inside the side's window: the time windows intersect", () => {
    const r = both({ from: 'now-30h', scores: { feedback: '<=0' } }, { from: 'now-48h', to: 'now-24h' })
    expect(r.from?.toISOString()).toBe('2026-06-14T06:00:00.000Z')
    expect(r.to?.toISOString()).toBe('2026-06-14T12:00:00.000Z')
    expect(r.scores).toEqual({ feedback: { op: 'value', conditions: [{ op: '<=', value: 0 }] } })
    expect(both({ from: 'now-48h', to: 'now-1h' }, { from: 'now-24h', to: 'now-2h' })).toMatchObject({ from: new Date('2026-06-14T12:00:00.000Z'), to: new Date('2026-06-15T10:00:00.000Z') })
  })

  it('refuses windows that do not overlap, naming the side', () => {
    refused({ from: 'now-10h' }, { from: 'now-48h', to: 'now-24h' }, 'reference')
  })

  it("a score condition * gives way to the filter's condition on that score, which implies it", () => {
    expect(both({ scores: { feedback: '<=0' } }, { scores: { feedback: '*' } }).scores).toEqual({ feedback: { op: 'value', conditions: [{ op: '<=', value: 0 }] } })
    expect(both({ scores: { feedback: '*' } }, { scores: { feedback: '>0' } }).scores).toEqual({ feedback: { op: 'value', conditions: [{ op: '>', value: 0 }] } })
    expect(both({ scores: { feedback: '<=0' } }, { scores: { relevance: '>0.5' } }).scores).toEqual({
      feedback: { op: 'value', conditions: [{ op: '<=', value: 0 }] },
      relevance: { op: 'value', conditions: [{ op: '>', value: 0.5 }] },
    })
    refused({ scores: { feedback: '<=0' } }, { scores: { feedback: '>0' } }, 'reference.score.feedback')
  })

  it('applies both sets of conditions on numbers and numeric attributes, and the tighter duration bounds', () => {
    const r = both({ ttftMs: '>100', attributeNumbers: { docs: '>1' }, minDurationMs: 5, maxDurationMs: 900 }, { ttftMs: '<=500,>100', attributeNumbers: { docs: '<=5', k: '=1' }, minDurationMs: 50, maxDurationMs: 1000 })
    expect(r.ttftMs).toEqual([{ op: '>', value: 100 }, { op: '<=', value: 500 }])
    expect(r.attributeNumbers).toEqual({ docs: [{ op: '>', value: 1 }, { op: '<=', value: 5 }], k: [{ op: '=', value: 1 }] })
    expect([r.minDurationMs, r.maxDurationMs]).toEqual([50, 900])
  })

  it('lets a list narrow the other, and refuses lists neither of which holds the other', () => {
    expect(both({ service: ['a', 'b'] }, { service: ['a'] }).service).toEqual(['a'])
    expect(both({ release: ['v1'] }, { release: ['v1', 'v2'] }).release).toEqual(['v1'])
    expect(both({ kind: ['llm'] }, { model: ['m'] })).toMatchObject({ kind: ['llm'], model: ['m'] })
    refused({ service: ['a', 'b'] }, { service: ['b', 'c'] }, 'reference.service')
    refused({ tag: ['x'] }, { tag: ['y'] }, 'reference.tag')
  })

  it('refuses one-value fields given two ways, attributes and groups key by key', () => {
    expect(both({ attributes: { plan: 'free' } }, { attributes: { plan: 'free', tier: 'a' } }).attributes).toEqual({ plan: 'free', tier: 'a' })
    refused({ attributes: { plan: 'free' } }, { attributes: { plan: 'pro' } }, 'reference.attr.plan')
    refused({ resource: { region: 'eu' } }, { resource: { region: 'us' } }, 'reference.resource.region')
    refused({ groups: { language: 'ja' } }, { groups: { language: 'en' } }, 'reference.group.language')
    refused({ userId: 'a' }, { userId: '' }, 'reference.userId')
    refused({ text: 'a' }, { text: 'b' }, 'reference.q')
    refused({ refusal: true }, { refusal: false }, 'reference.refusal')
    refused({ not: { status: 'ok' } }, { not: { kind: 'tool' } }, 'reference.not')
    expect(both({ not: { status: 'ok' } }, { not: { status: 'ok' } }).not).toEqual({ status: ['ok'] })
  })
})

describe('combining, property-based', () => {
  // Filters over a few values, so that the two often name the same fields.
  const word = fc.constantFrom('a', 'b', 'c')
  const filter = fc.record(
    {
      service: fc.uniqueArray(word, { minLength: 1, maxLength: 3 }),
      userId: word,
      attributes: fc.dictionary(word, word, { maxKeys: 2 }),
      ttftMs: fc.array(fc.tuple(fc.constantFrom('>', '<=', '='), fc.integer({ min: 0, max: 3 })).map(([op, v]) => `${op}${v}`), { minLength: 1, maxLength: 2 }),
      scores: fc.dictionary(word, fc.constantFrom('*', '<=0', '>0', 'good'), { maxKeys: 2 }),
      minDurationMs: fc.integer({ min: 0, max: 3 }),
      from: fc.integer({ min: 0, max: 3 }).map((h) => `now-${h + 3}h`),
      to: fc.integer({ min: 0, max: 2 }).map((h) => `now-${h}h`),
    },
    { requiredKeys: [] },
  )

  it('is refused, or holds every condition of both: combining again with either adds nothing', () => {
    fc.assert(
      fc.property(filter, filter, (a, b) => {
        let r: SpanFilter
        try {
          r = both(a, b)
        } catch (err) {
          expect(err).toMatchObject({ code: 'SPANLENS_BAD_REQUEST', message: expect.stringMatching(/^reference[.:]/) })
          return
        }
        expect(combineFilters(r, f(a), 'reference')).toEqual(r)
        expect(combineFilters(r, f(b), 'reference')).toEqual(r)
      }),
      { seed: 6, numRuns: 500 },
    )
  })
})
