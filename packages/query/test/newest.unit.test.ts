import { describe, expect, it } from 'vitest'
import type { SpanFilter } from '../src/filters.js'
import { type NewestHourBefore, newestFirst } from '../src/traces/newest.js'

// Which windows a newest-first page reads (listing-window.test.ts checks that every page is
// the plain listing's, on the store): a project whose spans stopped a while ago, or that has
// none, must not read every window on the way to the whole filter.
const HOUR = 3_600_000
const NOW = Date.UTC(2026, 11, 7, 10, 30)
const FIRST = Date.UTC(2026, 11, 7, 10)

/** Runs newestFirst over rows at `times` (ms); returns the windows it read (from, or 'all') and what it asked the probe. */
async function reads(times: number[], want: number, filter: SpanFilter = {}) {
  const windows: Array<number | 'all'> = []
  const probes: Array<[number, number]> = []
  const run = async (w: SpanFilter) => {
    windows.push(w === filter ? 'all' : (w.from as Date).getTime())
    return times.filter((t) => t >= (w.from?.getTime() ?? -Infinity)).slice(0, want)
  }
  const probe: NewestHourBefore = async (before, from) => {
    probes.push([before, from.getTime()])
    const older = times.filter((t) => t < before && t >= from.getTime())
    return older.length > 0 ? Math.floor(Math.max(...older) / HOUR) * HOUR : undefined
  }
  const rows = await newestFirst(filter, undefined, want, run, probe, NOW)
  return { rows, windows, probes }
}

describe('the windows a newest-first page reads', () => {
  it('reads the newest hour alone when it fills the page, and asks nothing more', async () => {
    const { windows, probes } = await reads([NOW - 1, NOW - 2, NOW - 3], 2)
    expect(windows).toEqual([FIRST])
    expect(probes).toEqual([])
  })

  it('grows the usual windows when the newest hour holds some rows but not a page', async () => {
    const { windows, probes } = await reads([NOW - 1, FIRST - 3 * HOUR], 2)
    expect(windows).toEqual([FIRST, FIRST - HOUR, FIRST - 5 * HOUR])
    expect(probes).toEqual([])
  })

  it('starts the windows where the spans resume when the newest hour is empty', async () => {
    const stopped = FIRST - 50 * HOUR + 123
    const { rows, windows, probes } = await reads([stopped, stopped - 1], 2)
    expect(rows).toEqual([stopped, stopped - 1])
    expect(windows).toEqual([FIRST, FIRST - 50 * HOUR])
    // The probe looks back as far as the largest window would, no further.
    expect(probes).toEqual([[FIRST, FIRST - 167 * HOUR]])
  })

  it('goes straight to the whole filter when nothing is within the largest window', async () => {
    const { rows, windows } = await reads([FIRST - 400 * HOUR], 1)
    expect(rows).toEqual([FIRST - 400 * HOUR])
    expect(windows).toEqual([FIRST, 'all'])
    expect((await reads([], 50)).windows).toEqual([FIRST, 'all'])
  })

  it('keeps the usual windows when the spans resume the hour before (a filter matching few of a busy project)', async () => {
    const { windows } = await reads([FIRST - 1, FIRST - 2 * HOUR], 2)
    expect(windows).toEqual([FIRST, FIRST - HOUR, FIRST - 5 * HOUR])
  })

  it("never probes or reads before the filter's start", async () => {
    const from = new Date(FIRST - 10 * HOUR)
    const { windows, probes } = await reads([FIRST - 30 * HOUR], 1, { from })
    expect(probes).toEqual([[FIRST, from.getTime()]])
    expect(windows).toEqual([FIRST, 'all'])
    const near = await reads([FIRST - 3 * HOUR, FIRST - 4 * HOUR], 2, { from })
    // resumed 3 h back: the window of that hour holds one row, the 2-hour one from there both
    expect(near.windows).toEqual([FIRST, FIRST - 3 * HOUR, FIRST - 4 * HOUR])
  })
})
