import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { ModelCall } from '../src/pipeline/prepare.js'
import { RecentModelCalls } from '../src/pipeline/recent-model-calls.js'

const T = 'a'.repeat(32)
const call = (spanId: string, parentSpanId: string, inputTokens = 100, outputTokens = 20, kind = 'llm', traceId = T): ModelCall => ({
  traceId,
  spanId,
  parentSpanId,
  kind,
  inputTokens,
  outputTokens,
})

describe('a stacked pair split across two export requests', () => {
  it('demotes the outer span when the inner one came first', () => {
    const m = new RecentModelCalls()
    expect(m.reconcile('p', [call('inner', 'outer')], 0)).toBeUndefined()
    expect(m.reconcile('p', [call('outer', 'root')], 1)).toEqual(new Map([[`${T}/outer`, 'inner']]))
  })

  it('demotes the inner span when the outer one came first', () => {
    const m = new RecentModelCalls()
    expect(m.reconcile('p', [call('outer', '')], 0)).toBeUndefined()
    expect(m.reconcile('p', [call('inner', 'outer')], 1)).toEqual(new Map([[`${T}/inner`, 'outer']]))
  })

  it('gives a retried request the decisions of its first arrival', () => {
    const m = new RecentModelCalls()
    m.reconcile('p', [call('inner', 'outer')], 0)
    m.reconcile('p', [call('outer', '')], 1)
    // The counted span sent again stays counted; the demoted one sent again is demoted again.
    expect(m.reconcile('p', [call('inner', 'outer')], 2)).toBeUndefined()
    expect(m.reconcile('p', [call('outer', '')], 3)).toEqual(new Map([[`${T}/outer`, 'inner']]))
  })

  it('leaves calls alone that differ in usage or kind, sit in another trace or another project', () => {
    const m = new RecentModelCalls()
    m.reconcile('p', [call('inner', 'outer')], 0)
    expect(m.reconcile('p', [call('outer', '', 101)], 1)).toBeUndefined()
    expect(m.reconcile('p', [call('outer2', '', 100, 20, 'embedding')], 1)).toBeUndefined()
    m.reconcile('p', [call('inner2', 'outer2')], 2)
    expect(m.reconcile('p', [call('outer2', '', 100, 20, 'llm', 'b'.repeat(32))], 3)).toBeUndefined()
    expect(m.reconcile('q', [call('outer2', '')], 4)).toBeUndefined()
  })

  it('matches a call only with a counted one: in a stack of three, one counts whatever the order', () => {
    const m = new RecentModelCalls()
    expect(m.reconcile('p', [call('middle', 'top')], 0)).toBeUndefined()
    expect(m.reconcile('p', [call('bottom', 'middle')], 1)).toEqual(new Map([[`${T}/bottom`, 'middle']]))
    expect(m.reconcile('p', [call('top', '')], 2)).toEqual(new Map([[`${T}/top`, 'middle']]))
  })

  it('forgets a call older than its age limit, and keeps at most its entry limit', () => {
    const aged = new RecentModelCalls(10, 60_000)
    aged.reconcile('p', [call('inner', 'outer')], 0)
    expect(aged.reconcile('p', [call('outer', '')], 60_001)).toBeUndefined()
    const full = new RecentModelCalls(3, 60_000)
    for (let i = 0; i < 5; i++) full.reconcile('p', [call(`s${i}`, `parent${i}`)], i)
    expect(full.size).toBeLessThanOrEqual(3)
    expect(full.reconcile('p', [call('parent0', '')], 10)).toBeUndefined()
    expect(full.reconcile('p', [call('parent4', '')], 10)).toEqual(new Map([[`${T}/parent4`, 's4']]))
  })

  it('counts each call once, whatever requests its spans came in, in whatever order, retried or not', () => {
    // Calls of one span or a stacked pair (same usage on both); a request carries at most one span of
    // a call (pairs inside one request are decided while it is prepared: stacked-calls.ts). Stacks of
    // three are the case above: their top and bottom arriving first both count.
    const calls = fc.array(fc.record({ depth: fc.integer({ min: 1, max: 2 }), usage: fc.integer({ min: 1, max: 3 }) }), { minLength: 1, maxLength: 6 })
    fc.assert(
      fc.property(calls, fc.infiniteStream(fc.nat()), (specs, random) => {
        const spans: Array<ModelCall & { call: number }> = []
        specs.forEach((s, c) => {
          for (let d = 0; d < s.depth; d++) spans.push({ ...call(`c${c}d${d}`, d === 0 ? '' : `c${c}d${d - 1}`, s.usage, s.usage), call: c })
        })
        const r = random[Symbol.iterator]()
        const next = () => r.next().value as number
        // Shuffled, then cut into requests of one span each, some of them sent twice.
        const order = spans.map((s) => ({ s, k: next() })).sort((a, b) => a.k - b.k).map((x) => x.s)
        const sent = order.flatMap((s) => (next() % 4 === 0 ? [s, s] : [s]))
        const m = new RecentModelCalls()
        const decision = new Map<string, string>()
        sent.forEach((s, i) => {
          const demoted = m.reconcile('p', [s], i)?.get(`${T}/${s.spanId}`) ?? ''
          const before = decision.get(s.spanId)
          if (before !== undefined) expect(demoted).toBe(before)
          decision.set(s.spanId, demoted)
        })
        specs.forEach((_, c) => {
          const counted = spans.filter((s) => s.call === c && decision.get(s.spanId) === '')
          expect(counted).toHaveLength(1)
        })
      }),
      { numRuns: 500 },
    )
  })
})
