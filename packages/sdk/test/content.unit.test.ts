import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { copyData } from '../src/content.js'

/** Every plain object or array reachable from `v` within `depth` levels (the copy must not share these). */
function within(v: unknown, depth: number, out = new Set<object>()): Set<object> {
  if (depth <= 0 || typeof v !== 'object' || v === null) return out
  if (!Array.isArray(v) && Object.getPrototypeOf(v) !== Object.prototype && Object.getPrototypeOf(v) !== null) return out
  out.add(v)
  for (const x of Object.values(v)) within(x, depth - 1, out)
  return out
}

describe('copyData', () => {
  it('copies plain data to the depth asked, equal to the original, sharing nothing above that depth', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }).chain((v) => fc.constant(JSON.parse(JSON.stringify(v)) as unknown)), fc.integer({ min: 0, max: 6 }), (v, depth) => {
        const copy = copyData(v, depth)
        expect(copy).toEqual(v)
        const originals = within(v, depth)
        const copies = within(copy, depth)
        for (const o of copies) expect(originals.has(o)).toBe(false)
      }),
      { seed: 14, numRuns: 2000 },
    )
  })

  it('shares what lies deeper, and class instances at any depth', () => {
    const date = new Date(0)
    const bytes = new Uint8Array([1, 2])
    const deep = { schema: { type: 'object' } }
    const v = { a: [{ b: deep }], date, bytes }
    const copy = copyData(v, 3) as typeof v
    expect(copy).not.toBe(v)
    expect(copy.a).not.toBe(v.a)
    expect(copy.a[0]).not.toBe(v.a[0])
    expect(copy.a[0]!.b).toBe(deep)
    expect(copy.date).toBe(date)
    expect(copy.bytes).toBe(bytes)
    const empty = Object.create(null) as Record<string, unknown>
    empty.k = { x: 1 }
    const c = copyData(empty, 2) as Record<string, unknown>
    expect(c).toEqual({ k: { x: 1 } })
    expect(c.k).not.toBe(empty.k)
  })

  it('keeps an own "__proto__" key (from JSON.parse) as data, never as the copy\'s prototype', () => {
    const v = JSON.parse('{"__proto__": {"polluted": true}, "x": {"__proto__": [1]}}') as Record<string, unknown>
    const copy = copyData(v, 3) as Record<string, unknown>
    expect(Object.getPrototypeOf(copy)).toBe(Object.prototype)
    expect(JSON.stringify(copy)).toBe(JSON.stringify(v))
    expect((copy as { polluted?: unknown }).polluted).toBeUndefined()
  })
})
