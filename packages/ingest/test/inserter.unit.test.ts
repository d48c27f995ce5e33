import { dirname } from 'node:path'
import { pino } from 'pino'
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createMetrics } from '../src/metrics.js'
import { backoffCeilingMs, backoffMs, MAX_BACKOFF_MS } from '../src/pipeline/backoff.js'
import type { DeadLetters } from '../src/pipeline/dead-letter.js'
import { FailingSegments, readFailingSegments } from '../src/pipeline/failing-segments.js'
import { Inserter } from '../src/pipeline/inserter.js'
import type { SealedSegment, Spool } from '../src/pipeline/spool.js'
import { SPANS } from '../src/pipeline/tables.js'
import type { Store } from '../src/store/index.js'
import { removeTempDirs, tempDir } from './helpers/tmp.js'

// When the inserter retries, on a fake clock: a store that answers as told (the real
// store's failures and recoveries are in inserter-isolation.test.ts and durability.test.ts).

const refused = () => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:8123'), { code: 'ECONNREFUSED' })
const reset = () => Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })
const unknownType = () => Object.assign(new Error('Code: 999. DB::Exception: injected. (SOMETHING_NEW)'), { code: '999', type: 'SOMETHING_NEW' })

function segment(name: string): SealedSegment {
  return { name, path: `/nonexistent/${name}`, bytes: 1, rows: 1, createdAt: 0, table: 'spans', columns: SPANS.columns, headerBytes: 0, format: 'TabSeparatedWithNames', layout: 'plain', indexPath: undefined }
}

// Each inserter's failing-segments directory.
afterAll(removeTempDirs)

/** An inserter over a store whose inserts fail while `failing()` gives an error, with `random` as its jitter. */
function inserterOver(failing: (name: string) => Error | undefined, random: () => number) {
  const attempts: string[] = []
  const inserted: string[] = []
  /** The segments whose rows were looked up after their insert was answered. */
  const verified: string[] = []
  const store = {
    cluster: undefined,
    insertFile: async (insert: { path: string }) => {
      const name = insert.path.split('/').pop() as string
      attempts.push(name)
      const err = failing(name)
      if (err) throw err
      inserted.push(name)
    },
  } as unknown as Store
  const spool = { remove: async () => undefined } as unknown as Spool
  const failingSegments = new FailingSegments(tempDir('spanlens-inserter-').path)
  const restoreMissing = async (_: Store, s: SealedSegment) => {
    verified.push(s.name)
    return { missing: 0, result: { inserted: 0, dead: [] } }
  }
  const inserter = new Inserter({ store, spool, deadLetters: {} as DeadLetters, failing: failingSegments, concurrency: 1, metrics: createMetrics(), log: pino({ level: 'silent' }), random, restoreMissing })
  return { inserter, attempts, inserted, verified, failingSegments }
}

/** Lets the inserter's promises settle without moving the fake clock. */
const settle = () => vi.advanceTimersByTimeAsync(0)

describe('retry waits are jittered below a doubling ceiling, never past 10 s', () => {
  it('doubles the ceiling from 200 ms with each failure in a row up to 10 s, and draws the wait below it', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 50].map((n) => backoffCeilingMs(n))).toEqual([200, 400, 800, 1600, 3200, 6400, 10_000, 10_000])
    expect(backoffMs(3, () => 0)).toBe(0)
    expect(backoffMs(3, () => 0.5)).toBe(400)
    expect(backoffMs(1000, () => 0.999999)).toBeLessThan(MAX_BACKOFF_MS)
  })

  describe('on a fake clock', () => {
    beforeEach(() => {
      vi.useFakeTimers()
    })
    afterEach(() => {
      vi.useRealTimers()
    })

    it('retries a store failure after the drawn share of the ceiling, so servers that failed together spread out', async () => {
      let fail = 2
      const { inserter, attempts } = inserterOver(() => (fail-- > 0 ? refused() : undefined), () => 0.25)
      inserter.enqueue(segment('a'))
      await settle()
      expect(attempts).toEqual(['a'])
      // First failure: a quarter of 200 ms.
      await vi.advanceTimersByTimeAsync(49)
      expect(attempts).toEqual(['a'])
      await vi.advanceTimersByTimeAsync(1)
      expect(attempts).toEqual(['a', 'a'])
      // Second in a row: a quarter of 400 ms.
      await vi.advanceTimersByTimeAsync(99)
      expect(attempts).toEqual(['a', 'a'])
      await vi.advanceTimersByTimeAsync(1)
      expect(attempts).toEqual(['a', 'a', 'a'])
      expect(inserter.pending).toBe(0)
    })

    it('retries at once when asked (flush, shutdown), instead of waiting out the backoff', async () => {
      let fail = true
      // The longest wait the ceiling allows.
      const { inserter, attempts, inserted } = inserterOver(() => (fail ? refused() : undefined), () => 0.999)
      inserter.enqueue(segment('a'))
      await settle()
      expect(attempts).toEqual(['a'])
      fail = false
      inserter.retryNow()
      await settle()
      expect(inserted).toEqual(['a'])
      expect(inserter.pending).toBe(0)
    })

    it('holds a segment that fails with an error of a type it does not know by its own backoff, while the others go on', async () => {
      const { inserter, attempts, inserted } = inserterOver((name) => (name === 'odd' ? unknownType() : undefined), () => 0.5)
      inserter.enqueue(segment('odd'))
      await settle()
      inserter.enqueue(segment('b'))
      inserter.enqueue(segment('c'))
      // Everyone waits a share of the first ceiling once (the store may be failing for all).
      await vi.advanceTimersByTimeAsync(100)
      expect(inserted).toEqual(['b', 'c'])
      // The others' successes do not shorten the odd one's wait: its second attempt comes at 100 ms, its third 200 ms after.
      expect(attempts.filter((n) => n === 'odd')).toHaveLength(2)
      await vi.advanceTimersByTimeAsync(199)
      expect(attempts.filter((n) => n === 'odd')).toHaveLength(2)
      await vi.advanceTimersByTimeAsync(1)
      expect(attempts.filter((n) => n === 'odd')).toHaveLength(3)
      expect(inserter.pending).toBe(1)
      inserter.stop()
    })

    it('lists each failing segment with when it started failing, its attempts and last error, in memory and on disk, until it is inserted', async () => {
      let fail = true
      const { inserter, failingSegments } = inserterOver((name) => (fail && name === 'odd' ? unknownType() : undefined), () => 0.5)
      const start = Date.now()
      inserter.enqueue(segment('odd'))
      await settle()
      // Its second attempt comes at 100 ms (half of the first ceiling).
      await vi.advanceTimersByTimeAsync(150)
      const health = inserter.health()
      expect(health.failingSegments).toBe(1)
      expect(health.oldestFailing).toEqual([
        { segment: 'odd', table: 'spans', rows: 1, attempts: 2, kind: 'unknown', lastError: 'SOMETHING_NEW (999)', failingForSeconds: 0.15 },
      ])
      // The whole text for the admin route and `spanlens dead-letter stuck`; /readyz, which takes no key, has type and code only.
      expect(inserter.failingSegments()[0]?.lastError).toBe('SOMETHING_NEW (999): Code: 999. DB::Exception: injected. (SOMETHING_NEW)')
      // What `spanlens dead-letter stuck` and a restarted server read.
      expect(readFailingSegments(dirname(failingSegments.path))).toEqual([expect.objectContaining({ segment: 'odd', attempts: 2, firstFailedAt: start, lastFailedAt: start + 100 })])
      fail = false
      inserter.retryNow()
      await settle()
      expect(inserter.health()).toMatchObject({ failingSegments: 0, oldestFailing: [] })
      expect(readFailingSegments(dirname(failingSegments.path))).toEqual([])
    })

    it('looks up the rows of a segment only when an earlier attempt may have stored them: sent and unanswered, or replayed', async () => {
      const errs: Record<string, Array<() => Error>> = { refusedOnly: [refused, refused], reset: [reset], unknown: [unknownType], clean: [] }
      const { inserter, inserted, verified } = inserterOver((name) => errs[name]?.shift()?.(), () => 0)
      for (const name of Object.keys(errs)) inserter.enqueue(segment(name))
      inserter.enqueue(segment('replayed'), true)
      for (let i = 0; i < 10 && inserted.length < 5; i++) {
        inserter.retryNow()
        await settle()
      }
      expect(inserted.sort()).toEqual(['clean', 'refusedOnly', 'replayed', 'reset', 'unknown'])
      // A refused connection carried no byte of the insert; a reset one, or one ClickHouse answered with an error, may have.
      expect(verified.sort()).toEqual(['replayed', 'reset', 'unknown'])
    })
  })
})
