import { describe, expect, it } from 'vitest'
import { contentFreeFilter, type SpanFilter } from '../src/filters.js'

// contentFreeFilter gives the spans a read with content may fill: every span the filter
// selects must be among them, whether its content is read or not.
describe('a filter without its conditions on content', () => {
  const from = new Date('2026-12-01T00:00:00Z')

  it('keeps the conditions on what content never changes', () => {
    const f: SpanFilter = { from, service: ['chat'], attributes: { tenant: 'a' }, groups: { model: 'gpt-4o' }, not: { status: ['error'] } }
    expect(contentFreeFilter(f)).toEqual(f)
  })

  it('drops text, refusal and the group keys that read the prompt', () => {
    expect(contentFreeFilter({ from, text: 'refund', refusal: true, groups: { language: 'ja', model: 'gpt-4o' } })).toEqual({ from, groups: { model: 'gpt-4o' } })
  })

  it('drops a `not` that holds any of them whole, never a part of it (that would select fewer spans)', () => {
    expect(contentFreeFilter({ from, not: { status: ['error'], refusal: false } })).toEqual({ from })
    expect(contentFreeFilter({ from, not: { groups: { language: 'en' } } })).toEqual({ from })
  })
})
