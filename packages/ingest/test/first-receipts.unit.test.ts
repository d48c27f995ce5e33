import { describe, expect, it } from 'vitest'
import { FirstReceipts } from '../src/pipeline/first-receipts.js'

describe('first receipts of requests with timeless log records', () => {
  it('gives a retry the first arrival, and a new request its own', () => {
    const r = new FirstReceipts()
    expect(r.firstOf('a', '100', 0)).toBe('100')
    expect(r.firstOf('a', '200', 1_000)).toBe('100')
    expect(r.firstOf('b', '300', 2_000)).toBe('300')
  })

  it('forgets an arrival older than its age limit', () => {
    const r = new FirstReceipts(10, 60_000)
    r.firstOf('a', '100', 0)
    expect(r.firstOf('a', '200', 59_999)).toBe('100')
    expect(r.firstOf('a', '300', 60_000)).toBe('300')
    expect(r.size).toBe(1)
  })

  it('keeps at most its entry limit, dropping the oldest', () => {
    const r = new FirstReceipts(3, 60_000)
    for (let i = 0; i < 5; i++) r.firstOf(`k${i}`, String(i), i)
    expect(r.size).toBeLessThanOrEqual(3)
    expect(r.firstOf('k4', 'x', 10)).toBe('4')
    expect(r.firstOf('k0', 'again', 10)).toBe('again')
  })
})
