import type { ClickHouseClient } from '@clickhouse/client'
import { pino } from 'pino'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { ContentMergeJob } from '../src/jobs/content-merge.js'
import { createMetrics } from '../src/metrics.js'

// When the content merge runs again after failing, on a fake clock: a client that fails or
// answers as told (the merge itself against a real store is in query/test/content-merge.test.ts).

const refused = () => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:8123'), { code: 'ECONNREFUSED' })

/** A client whose queries fail while `failing()`; otherwise the merge finds nothing to do (its clock at 0). */
function clientOver(failing: () => boolean) {
  const calls: number[] = []
  const client = {
    query: async () => {
      calls.push(Date.now())
      if (failing()) throw refused()
      return { json: async () => [{ now: 0, near: 0, full: 0 }] }
    },
  } as unknown as ClickHouseClient
  return { client, calls }
}

describe('the content merge backs off while the store fails', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 0 })
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  it('waits the interval plus a jittered share of a ceiling doubling from the interval after each failure, and the interval again after a success', async () => {
    let fail = true
    const { client, calls } = clientOver(() => fail)
    const lines: Array<{ msg: string; failuresInRow?: number; retryInMs?: number; err?: { message: string } }> = []
    const log = pino({ level: 'warn' }, { write: (line: string) => lines.push(JSON.parse(line)) })
    const job = new ContentMergeJob(client, 1000, createMetrics(), log, () => 0.5)
    job.start()
    await vi.advanceTimersByTimeAsync(1000)
    expect(calls).toEqual([1000])
    // First failure: 1000 + half of 1000.
    await vi.advanceTimersByTimeAsync(1499)
    expect(calls).toHaveLength(1)
    await vi.advanceTimersByTimeAsync(1)
    expect(calls).toEqual([1000, 2500])
    // Second in a row: 1000 + half of 2000; third: 1000 + half of 4000.
    await vi.advanceTimersByTimeAsync(2000)
    expect(calls).toEqual([1000, 2500, 4500])
    await vi.advanceTimersByTimeAsync(3000)
    expect(calls).toEqual([1000, 2500, 4500, 7500])
    expect(lines.map((l) => [l.failuresInRow, l.retryInMs, l.err?.message])).toEqual([
      [1, 1500, expect.stringContaining('ECONNREFUSED')],
      [2, 2000, expect.stringContaining('ECONNREFUSED')],
      [3, 3000, expect.stringContaining('ECONNREFUSED')],
      [4, 5000, expect.stringContaining('ECONNREFUSED')],
    ])
    // The store is back: the run after the fourth failure's wait succeeds, and the next follows at the interval.
    fail = false
    await vi.advanceTimersByTimeAsync(5000)
    expect(calls.at(-1)).toBe(12_500)
    await vi.advanceTimersByTimeAsync(1000)
    expect(calls.at(-1)).toBe(13_500)
    await job.stop()
  })

  it('never waits more than the interval and a minute, however long the store fails', async () => {
    const { client, calls } = clientOver(() => true)
    const job = new ContentMergeJob(client, 5000, createMetrics(), pino({ level: 'silent' }), () => 0.999999)
    job.start()
    await vi.advanceTimersByTimeAsync(30 * 60_000)
    const gaps = calls.slice(1).map((t, i) => t - (calls[i] as number))
    expect(Math.max(...gaps)).toBeLessThan(65_000)
    expect(Math.max(...gaps)).toBeGreaterThan(64_000)
    await job.stop()
  })
})
