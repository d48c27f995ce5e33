import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { offsetClock, SLEW, STEP_MS } from '../src/trace/time.js'

const ORIGIN = 1_796_500_000_000.25

/**
 * A run of readings on a machine whose wall clock drifts from the monotonic one: `rate` ms per ms
 * (NTP slews up to 0.0005), starting `start` ms apart; each reading `gap` ms after the one before.
 */
function readings(start: number, rate: number, gaps: number[]) {
  let perf = 0
  let wallOffset = start
  let now = 0
  const clock = offsetClock(() => Math.floor(ORIGIN + now), ORIGIN)
  return gaps.map((gap) => {
    perf += gap
    wallOffset += rate * gap
    now = perf + wallOffset
    return { perf, truth: wallOffset, stamped: perf + clock.sync(perf) }
  })
}

const gaps = fc.array(fc.oneof(fc.double({ min: 0.001, max: 0.2, noNaN: true }), fc.double({ min: 0.2, max: 5_000, noNaN: true })), { minLength: 2, maxLength: 300 })

describe("the SDK's span clock", () => {
  it('gives every reading a later time than the one before, microseconds apart or seconds', () => {
    fc.assert(
      fc.property(fc.double({ min: -STEP_MS / 2, max: STEP_MS / 2, noNaN: true }), fc.double({ min: -0.0005, max: 0.0005, noNaN: true }), gaps, (start, rate, g) => {
        const r = readings(start, rate, g)
        for (let i = 1; i < r.length; i++) expect(r[i]!.stamped - r[i - 1]!.stamped).toBeGreaterThanOrEqual((1 - SLEW) * (r[i]!.perf - r[i - 1]!.perf) - 1e-6)
      }),
      { seed: 5, numRuns: 500 },
    )
  })

  it('stays within the millisecond Date.now() allows of the wall clock while the drift is within the slew', () => {
    fc.assert(
      fc.property(fc.double({ min: -1, max: 0, noNaN: true }), fc.double({ min: -SLEW / 2, max: SLEW / 2, noNaN: true }), gaps, (start, rate, g) => {
        for (const { perf, truth, stamped } of readings(start, rate, g)) expect(Math.abs(stamped - (perf + truth))).toBeLessThanOrEqual(1 + 1e-6)
      }),
      { seed: 6, numRuns: 500 },
    )
  })

  it('follows the wall clock at once when it jumps by more than STEP_MS (set by hand, after sleep)', () => {
    let now = ORIGIN
    const clock = offsetClock(() => Math.floor(now), ORIGIN)
    expect(clock.sync(10)).toBeLessThanOrEqual(0)
    now = ORIGIN + 20 + 3_600_000
    expect(clock.sync(20)).toBeCloseTo(3_600_000, 0)
  })
})
