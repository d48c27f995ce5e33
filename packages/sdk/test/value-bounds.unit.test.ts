import { describe, expect, it } from 'vitest'
import { boundArray, boundName, boundString, MAX_ARRAY_ITEMS, MAX_NAME_LENGTH, MAX_VALUE_BYTES } from '../src/value-bounds.js'

const utf8 = (s: string): number => Buffer.byteLength(s)

describe('the bounds on names, keys and values the SDK sends', () => {
  it('cuts a name to 1,024 characters, marker included, and leaves a shorter one as it is', () => {
    const name = 'n'.repeat(MAX_NAME_LENGTH)
    expect(boundName(name)).toBe(name)
    const cut = boundName('a'.repeat(5_000_000))
    expect(cut.length).toBeLessThanOrEqual(MAX_NAME_LENGTH)
    expect(cut).toMatch(/^a+…\[truncated \d+ chars\]$/)
    const kept = cut.indexOf('…')
    expect(cut).toBe(`${'a'.repeat(kept)}…[truncated ${5_000_000 - kept} chars]`)
  })

  it('never cuts a name inside a surrogate pair', () => {
    for (let shift = 0; shift < 2; shift++) {
      const cut = boundName(`${'x'.repeat(shift)}${'🙂'.repeat(2000)}`)
      const kept = cut.slice(0, cut.indexOf('…'))
      expect(kept).toBe(kept.normalize())
      expect(/[\ud800-\udbff]$/.test(kept)).toBe(false)
    }
  })

  it('cuts a string value to 1 MiB of UTF-8, marker included, whatever its characters', () => {
    expect(boundString('x'.repeat(MAX_VALUE_BYTES))).toHaveLength(MAX_VALUE_BYTES)
    for (const unit of ['x', 'é', '€', '🙂']) {
      const value = unit.repeat(Math.ceil((2 * MAX_VALUE_BYTES) / unit.length))
      const cut = boundString(value)
      expect(utf8(cut)).toBeLessThanOrEqual(MAX_VALUE_BYTES)
      expect(utf8(cut)).toBeGreaterThan(MAX_VALUE_BYTES - 64)
      const kept = cut.indexOf('…[truncated')
      expect(cut.slice(kept)).toBe(`…[truncated ${value.length - kept} chars]`)
      expect(value.startsWith(cut.slice(0, kept))).toBe(true)
      expect(/[\ud800-\udbff]$/.test(cut.slice(0, kept))).toBe(false)
    }
    // Under the bound in characters, over it in bytes.
    const wide = 'é'.repeat(MAX_VALUE_BYTES / 2 + 10)
    expect(utf8(boundString(wide))).toBeLessThanOrEqual(MAX_VALUE_BYTES)
  })

  it('keeps an array of 16,384 items at most, the last a marker item when it cut', () => {
    const long = Array.from({ length: MAX_ARRAY_ITEMS + 500 }, (_, i) => i)
    const out = boundArray(long, false)
    expect(out).toHaveLength(MAX_ARRAY_ITEMS)
    expect(out[MAX_ARRAY_ITEMS - 2]).toBe(MAX_ARRAY_ITEMS - 2)
    expect(out[MAX_ARRAY_ITEMS - 1]).toBe('…[truncated 501 items]')
    const short = [1, 2, 3]
    expect(boundArray(short, false)).toBe(short)
    const copied = boundArray(short, true)
    expect(copied).toEqual(short)
    expect(copied).not.toBe(short)
    expect(boundArray(long.slice(0, MAX_ARRAY_ITEMS), false)).toHaveLength(MAX_ARRAY_ITEMS)
  })

  it("keeps an array's strings up to 1 MiB characters together, and a first string alone over it cut", () => {
    const part = 's'.repeat(400_000)
    expect(boundArray([part, part, part, 'x'], false)).toEqual([part, part, '…[truncated 2 items]'])
    const alone = boundArray(['z'.repeat(3 * MAX_VALUE_BYTES), 'y'], false)
    expect(alone).toHaveLength(2)
    expect((alone[0] as string).length + (alone[1] as string).length).toBeLessThanOrEqual(MAX_VALUE_BYTES)
    expect(alone[0]).toMatch(/^z+…\[truncated \d+ chars\]$/)
    expect(alone[1]).toBe('…[truncated 1 items]')
    expect(boundArray(['z'.repeat(3 * MAX_VALUE_BYTES)], false)[0]).toMatch(/…\[truncated \d+ chars\]$/)
  })

  it('leaves what it cut as it is when it meets it again (the span cuts, then the exporter)', () => {
    const cases: unknown[][] = [
      Array.from({ length: 3 * MAX_ARRAY_ITEMS }, (_, i) => i),
      ['a'.repeat(MAX_VALUE_BYTES - 5), 'b'.repeat(100), 'c'],
      ['z'.repeat(2 * MAX_VALUE_BYTES)],
      Array.from({ length: 40 }, () => 'w'.repeat(50_000)),
    ]
    for (const list of cases) {
      const once = boundArray(list, false)
      expect(once).not.toBe(list)
      expect(boundArray(once, false)).toBe(once)
    }
  })
})
