import { describe, expect, it } from 'vitest'
import { DUPLICATE_OF, demoteStackedCalls } from '../src/normalize/stacked-calls.js'
import type { SpanRow } from '../src/normalize/row.js'

const row = (span: string, parent: string, over: Partial<SpanRow> = {}): SpanRow =>
  ({
    trace_id: 't1',
    span_id: span,
    parent_span_id: parent,
    kind: 'llm',
    input_tokens: 100,
    output_tokens: 20,
    total_tokens: 120,
    cache_read_tokens: 8,
    cache_write_tokens: 0,
    reasoning_tokens: 0,
    cost_usd: 0.001,
    attributes: {},
    ...over,
  }) as SpanRow

describe('stacked instrumentations on one model call', () => {
  it('demote the inner span: kind other, no tokens or cost, its usage in attributes and the counted span named', () => {
    const outer = row('a', 'root')
    const inner = row('b', 'a')
    expect(demoteStackedCalls([inner, outer])).toBe(1)
    expect(outer).toMatchObject({ kind: 'llm', input_tokens: 100, output_tokens: 20, cost_usd: 0.001 })
    expect(inner).toMatchObject({ kind: 'other', input_tokens: 0, output_tokens: 0, total_tokens: 0, cache_read_tokens: 0, cost_usd: null })
    expect(inner.attributes).toEqual({
      [DUPLICATE_OF]: 'a',
      'spanlens.duplicate.kind': 'llm',
      'spanlens.duplicate.input_tokens': '100',
      'spanlens.duplicate.output_tokens': '20',
      'spanlens.duplicate.total_tokens': '120',
      'spanlens.duplicate.cache_read_tokens': '8',
      'spanlens.duplicate.cost_usd': '0.001',
    })
  })

  it('a stack of three keeps the usage on the outermost only', () => {
    const rows = [row('c', 'b'), row('a', ''), row('b', 'a')]
    expect(demoteStackedCalls(rows)).toBe(2)
    expect(rows.map((r) => [r.span_id, r.kind, r.input_tokens, r.attributes[DUPLICATE_OF]])).toEqual([
      ['c', 'other', 0, 'b'],
      ['a', 'llm', 100, undefined],
      ['b', 'other', 0, 'a'],
    ])
  })

  it('the counted span takes the TTFT, stop reason and answering model that only the inner span has', () => {
    const outer = row('a', 'root', { ttft_ms: null, finish_reason: '', response_model: '' })
    const inner = row('b', 'a', { ttft_ms: 157, finish_reason: 'stop', response_model: 'claude-haiku-4-5-20251001' })
    demoteStackedCalls([outer, inner])
    expect(outer).toMatchObject({ kind: 'llm', ttft_ms: 157, finish_reason: 'stop', response_model: 'claude-haiku-4-5-20251001' })
    const measured = row('c', 'root', { ttft_ms: 120, finish_reason: 'length', response_model: 'x' })
    demoteStackedCalls([measured, row('d', 'c', { ttft_ms: 157, finish_reason: 'stop', response_model: 'y' })])
    expect(measured).toMatchObject({ ttft_ms: 120, finish_reason: 'length', response_model: 'x' })
  })

  it.each([
    ['different usage (an agent span summing two calls)', row('b', 'a', { output_tokens: 21 })],
    ['another trace', row('b', 'a', { trace_id: 't2' })],
    ['a different kind of call', row('b', 'a', { kind: 'embedding' })],
    ['no usage at all', row('b', 'a', { input_tokens: 0, output_tokens: 0 })],
    ['not nested (siblings)', row('b', 'root')],
  ])('leaves both counted when the calls differ: %s', (_what, inner) => {
    const outer = row('a', 'root', inner.input_tokens === 0 ? { input_tokens: 0, output_tokens: 0 } : {})
    expect(demoteStackedCalls([outer, inner])).toBe(0)
    expect([outer.kind, inner.kind]).toEqual(['llm', inner.kind])
    expect(inner.attributes).toEqual({})
  })

  describe('a failed call, with no usage to match on', () => {
    const failed = (span: string, parent: string, over: Partial<SpanRow> = {}) =>
      row(span, parent, { input_tokens: 0, output_tokens: 0, total_tokens: 0, cache_read_tokens: 0, cost_usd: null, status_code: 'error', request_model: 'claude-haiku-4-5', ...over })

    it('demotes the inner of two failed calls of the same model, so the failure counts once', () => {
      const outer = failed('a', '')
      const inner = failed('b', 'a')
      expect(demoteStackedCalls([inner, outer])).toBe(1)
      expect([outer.kind, inner.kind, inner.attributes[DUPLICATE_OF]]).toEqual(['llm', 'other', 'a'])
    })

    it.each([
      ['the inner call succeeded', [failed('a', ''), failed('b', 'a', { status_code: 'ok' })]],
      ['the outer call succeeded', [failed('a', '', { status_code: 'unset' }), failed('b', 'a')]],
      ['another model', [failed('a', ''), failed('b', 'a', { request_model: 'claude-sonnet-4-5' })]],
      ['no model named', [failed('a', '', { request_model: '' }), failed('b', 'a', { request_model: '' })]],
      ['a retrying wrapper: two failed attempts under one span', [failed('a', ''), failed('b', 'a'), failed('c', 'a')]],
    ])('leaves them counted when %s', (_what, rows) => {
      expect(demoteStackedCalls(rows)).toBe(0)
      expect(rows.every((r) => r.kind === 'llm')).toBe(true)
    })
  })
})
