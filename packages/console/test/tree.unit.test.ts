import { describe, expect, it } from 'vitest'
import type { SpanNode } from '../web/src/api/types.js'
import { allSpans, findSpan, flatten } from '../web/src/trace/tree.js'

const node = (id: number, startNs: bigint, children: SpanNode[] = []): SpanNode =>
  ({ spanId: `s${id}`, startTimeUnixNano: String(startNs), durationMs: 1, children }) as unknown as SpanNode

describe("the waterfall's rows", () => {
  it('list a chain nested 20,000 deep, each span one level under the one before', () => {
    let leaf = node(19_999, 1_000_000_000n + 19_999n)
    for (let i = 19_998; i >= 0; i--) leaf = node(i, 1_000_000_000n + BigInt(i), [leaf])
    const { rows } = flatten([leaf])
    expect(rows).toHaveLength(20_000)
    expect(rows.every((r, i) => r.depth === i && r.span.spanId === `s${i}`)).toBe(true)
    expect(findSpan([leaf], 's19999')?.spanId).toBe('s19999')
    expect(allSpans([leaf])).toHaveLength(20_000)
  })

  it('put each parent before its children, and siblings by start time', () => {
    const tree = [node(1, 10n, [node(3, 30n), node(2, 20n, [node(4, 25n)])]), node(5, 5n)]
    expect(flatten(tree).rows.map((r) => `${r.span.spanId}@${r.depth}`)).toEqual(['s5@0', 's1@0', 's2@1', 's4@2', 's3@1'])
    expect(allSpans(tree).map((s) => s.spanId)).toEqual(['s1', 's3', 's2', 's4', 's5'])
  })

  it('measure offsets from the earliest start, exactly past 2^53 nanoseconds', () => {
    const t0 = 1_796_633_885_235_000_001n
    const { rows, startNs, totalMs } = flatten([node(1, t0 + 2_500_000n, [node(2, t0 + 2_500_001n)]), node(3, t0)])
    expect(startNs).toBe(String(t0))
    expect(rows.map((r) => r.offsetMs)).toEqual([0, 2.5, 2.500001])
    expect(totalMs).toBe(3.500001)
  })
})
