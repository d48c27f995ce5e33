import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { copyData, toJson } from '../src/content.js'
import { boundedJson } from '../src/json-bounded.js'
import { createRedactor } from '../src/redact.js'

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

// The cut's reach past the limit (redact-cut.ts's BOUNDARY_SCAN), written here so this file runs against any version of toJson.
const SCAN = 16_384
const redactor = createRedactor({ builtins: ['apiKey', 'email', 'card', 'phone'], custom: [] })!

describe('toJson', () => {
  it('reads about as much of a 50 MB string, or of an object holding one, as it keeps', () => {
    const text = 'The order shipped, write to a.b@example.com if lost. '.repeat(1_000_000)
    for (const value of [text, { note: text, items: [1, 2, 3] }]) {
      let read = 0
      const out = toJson(value, 100_000, 'input.value', (key, v) => ((read += v.length), redactor(v, key)))
      expect(out).toMatch(/^.{100000}…\[truncated (more than )?\d+ chars\]$/s)
      expect(out).not.toContain('a.b@example')
      expect(read).toBeLessThanOrEqual(3 * (100_000 + SCAN))
    }
  })
})

describe('boundedJson', () => {
  it("writes JSON.stringify's text, or its start of at least the limit when it is longer", () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.integer({ min: 1, max: 300 }), (value, limit) => {
        const full = JSON.stringify(value)
        const out = boundedJson(value, limit)!
        if (out.complete) expect(out.text).toBe(full)
        else {
          expect(out.text.length).toBeGreaterThanOrEqual(limit)
          expect(full.startsWith(out.text)).toBe(true)
        }
      }),
      { seed: 24, numRuns: 2000 },
    )
  })

  it('writes no more than the limit and a string past it of a value holding 50 MB', () => {
    const out = boundedJson({ a: [{ b: 'x'.repeat(50_000_000) }], c: new Uint8Array(50_000_000) }, 1000)!
    expect(out.complete).toBe(false)
    expect(out.text.length).toBeLessThan(1100)
  })

  it('writes a bigint as its digits, binary data as a marker, and leaves out what JSON leaves out', () => {
    const value = { n: 10n, bytes: new Uint8Array(5000), f: () => 1, u: undefined, list: [undefined, () => 1, new Date(0)], long: 'y'.repeat(5000) }
    expect(boundedJson(value, 20_000)!.text).toBe(`{"n":"10","bytes":"[binary]","list":[null,null,"1970-01-01T00:00:00.000Z"],"long":"${'y'.repeat(5000)}"}`)
    expect(boundedJson(() => 1, 10)).toBeUndefined()
  })
})
