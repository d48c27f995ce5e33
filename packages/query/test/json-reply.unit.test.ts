import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { stringifyDeep, stringifyReply } from '../src/json.js'

/** A chain `depth` objects deep, each holding the next in a one-element array (a trace's tree: span → children → span). */
const chain = (depth: number) => {
  const root: { n: number; children: unknown[] } = { n: 0, children: [] }
  let at = root
  for (let i = 1; i < depth; i++) {
    const next = { n: i, children: [] }
    at.children.push(next)
    at = next
  }
  return root
}

describe('the reply serializer', () => {
  it('writes what JSON.stringify writes, for any JSON value and for the values JSON.stringify drops or converts', () => {
    const extras = fc.oneof(fc.constant(undefined), fc.constant(Number.NaN), fc.constant(-0), fc.constant(Number.POSITIVE_INFINITY), fc.constant(() => 1), fc.date({ noInvalidDate: true }))
    const value = fc.letrec((tie) => ({
      v: fc.oneof({ depthSize: 'small' }, fc.jsonValue({ maxDepth: 3 }), extras, fc.array(tie('v'), { maxLength: 4 }), fc.dictionary(fc.string(), tie('v'), { maxKeys: 4 })),
    })).v
    fc.assert(
      fc.property(value, (v) => {
        expect(stringifyDeep(v)).toBe(JSON.stringify(v))
      }),
      { numRuns: 500 },
    )
  })

  it('writes a tree nested deeper than JSON.stringify reaches, which JSON.parse reads back', () => {
    const deep = chain(100_000)
    expect(() => JSON.stringify(deep)).toThrow(RangeError)
    const text = stringifyReply(deep)
    let n = JSON.parse(text) as { n: number; children: Array<{ n: number; children: unknown[] }> }
    let depth = 1
    while (n.children.length > 0) {
      n = n.children[0] as typeof n
      depth++
    }
    expect(depth).toBe(100_000)
    expect(n.n).toBe(99_999)
  })

  it('throws on a cycle, as JSON.stringify does, at any depth', () => {
    const a: Record<string, unknown> = { x: 1 }
    a.self = [a]
    expect(() => stringifyDeep(a)).toThrow(TypeError)
    expect(() => stringifyReply(a)).toThrow(TypeError)
    // The same object twice, not nested in itself, is no cycle.
    const shared = { y: 2 }
    expect(stringifyDeep({ a: shared, b: [shared] })).toBe('{"a":{"y":2},"b":[{"y":2}]}')
  })
})
