import { describe, expect, it } from 'vitest'
import { StreamText } from '../src/instrument/stream-text.js'

describe('what a stream keeps of its text', () => {
  it('appends while there is room, then keeps nothing more and counts what it left out', () => {
    const t = new StreamText(10)
    let a = ''
    let b = ''
    a = t.append(a, 'hello')
    b = t.append(b, 'wor')
    a = t.append(a, 'ld and more')
    b = t.append(b, 'ld')
    expect([a, b]).toEqual(['hellold', 'wor'])
    expect(t.cut).toBe(9 + 2)
  })

  it('keeps everything under its room, and nothing with none', () => {
    const t = new StreamText(100)
    expect(t.append('ab', 'cd')).toBe('abcd')
    expect(t.cut).toBe(0)
    const none = new StreamText(0)
    expect(none.append('', 'text')).toBe('')
    expect(none.cut).toBe(4)
  })

  it('does not keep half of a surrogate pair', () => {
    const t = new StreamText(3)
    expect(t.append('', 'a🙂🙂')).toBe('a🙂')
    const u = new StreamText(2)
    expect(u.append('', 'a🙂')).toBe('a')
    expect(u.cut).toBe(2)
  })
})
