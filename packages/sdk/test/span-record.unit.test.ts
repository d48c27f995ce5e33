import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { hrTime } from '@opentelemetry/core'
import { hrTimeAt } from '../src/trace/time.js'

describe('times of an LLM span written without the tracer', () => {
  it('are the nanoseconds the tracer gives the same performance.now() reading', () => {
    const reading = fc.oneof(
      fc.double({ min: 0, max: 1e10, noNaN: true }),
      // Readings whose fraction of a second lands near the carry into the next second.
      fc.integer({ min: 0, max: 1e7 }).map((s) => s * 1000 + 999.9999 - (performance.timeOrigin % 1)),
      fc.integer({ min: 0, max: 1e10 }).map((n) => n / 1000),
    )
    fc.assert(
      fc.property(reading, (ms) => {
        const [s, ns] = hrTimeAt(ms)
        const [ts, tns] = hrTime(ms)
        return s === ts && ns === tns
      }),
      { seed: 19, numRuns: 20_000 },
    )
    const now = performance.now()
    expect(hrTimeAt(now)).toEqual(hrTime(now))
  })
})
