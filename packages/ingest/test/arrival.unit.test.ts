import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { ArrivalClock } from '../src/pipeline/arrival.js'

const ns = (s: string) => BigInt(s)

describe('the arrival clock', () => {
  it('reads the clock in nanoseconds, and counts requests within one millisecond', () => {
    let now = 1_765_000_000_123
    const clock = new ArrivalClock(() => now)
    expect(clock.next()).toBe('1765000000123000000')
    expect(clock.next()).toBe('1765000000123000001')
    now += 1
    expect(clock.next()).toBe('1765000000124000000')
  })

  it('never goes back, however the clock moves', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -5, max: 5 }), { minLength: 1, maxLength: 300 }), (steps) => {
        let now = 1_765_000_000_000
        const clock = new ArrivalClock(() => now)
        let last = -1n
        for (const step of steps) {
          now += step
          const stamp = clock.next()
          expect(stamp).toMatch(/^\d{19}$/)
          expect(ns(stamp) > last).toBe(true)
          last = ns(stamp)
        }
      }),
    )
  })

  it('a millionth request within one millisecond takes the next millisecond', () => {
    const clock = new ArrivalClock(() => 5_000)
    let stamp = ''
    for (let i = 0; i < 1_000_001; i++) stamp = clock.next()
    expect(stamp).toBe('5001000000')
    expect(clock.next()).toBe('5001000001')
  })
})
