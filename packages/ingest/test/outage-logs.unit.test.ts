import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { errors, LogLimit, replyWithError } from '../src/errors.js'
import { createLogger } from '../src/logger.js'
import { createMetrics } from '../src/metrics.js'
import type { DeadLetters } from '../src/pipeline/dead-letter.js'
import { FailingSegments } from '../src/pipeline/failing-segments.js'
import { Inserter } from '../src/pipeline/inserter.js'
import type { SealedSegment, Spool } from '../src/pipeline/spool.js'
import { SPANS } from '../src/pipeline/tables.js'
import type { Store } from '../src/store/index.js'

// What an operator reads during a ClickHouse outage: a line when it starts, then one per 30 s
// saying how many were left out, no stack for what is expected. Logs captured from the
// server's own logger (pino, JSON); the clock injected (LogLimit's, or vitest's fake one).

interface Line {
  level: number
  msg: string
  err?: { stack?: string; message: string }
  notLoggedSince?: number
  time: number
  code?: string
  reason?: string
}

function capture() {
  const lines: Line[] = []
  const log = createLogger('info', { write: (chunk: string) => void lines.push(JSON.parse(chunk) as Line) })
  return { lines, log }
}

const WARN = 40

describe('the query routes during an outage', () => {
  /** A reply as Fastify's, logging to `log`; what was sent. */
  function reply(log: ReturnType<typeof capture>['log']) {
    const sent: number[] = []
    const r = {
      log,
      header: () => r,
      code(status: number) {
        sent.push(status)
        return r
      },
      send: () => r,
    }
    return { r, sent }
  }

  it('log a store they cannot reach once at warn, without a stack, then at most once per interval with how many 503s were not logged', () => {
    let now = 1_000_000
    const limit = new LogLimit(30_000, () => now)
    const { lines, log } = capture()
    const { r, sent } = reply(log)
    const refused = Object.assign(new Error('connect ECONNREFUSED 10.1.2.3:8123'), { code: 'ECONNREFUSED' })
    // A console polling every second for a minute and a half.
    for (let s = 0; s < 90; s++) {
      replyWithError(refused, r, limit)
      now += 1000
    }
    expect(sent).toEqual(Array(90).fill(503))
    expect(lines.map((l) => ({ level: l.level, code: l.code, notLoggedSince: l.notLoggedSince, stack: l.err?.stack }))).toEqual([
      { level: WARN, code: 'SPANLENS_STORE_UNREACHABLE', notLoggedSince: 0, stack: undefined },
      { level: WARN, code: 'SPANLENS_STORE_UNREACHABLE', notLoggedSince: 29, stack: undefined },
      { level: WARN, code: 'SPANLENS_STORE_UNREACHABLE', notLoggedSince: 29, stack: undefined },
    ])
    // The reason names the error's type, not the address.
    expect(lines[0]?.reason).toContain('ECONNREFUSED')
    expect(lines[0]?.reason).not.toContain('10.1.2.3')
  })

  it('still log any other failure of theirs at error with { err } and its stack, every time', () => {
    const limit = new LogLimit(30_000, () => 0)
    const { lines, log } = capture()
    const { r } = reply(log)
    replyWithError(new TypeError('x is undefined'), r, limit)
    replyWithError(Object.assign(new Error('Code: 60. DB::Exception: no table. (UNKNOWN_TABLE)'), { type: 'UNKNOWN_TABLE' }), r, limit)
    replyWithError(errors.STORE_UNREACHABLE(undefined, 'not reached since this server started'), r, limit)
    expect(lines.map((l) => [l.level, l.msg, typeof l.err?.stack])).toEqual([
      [50, 'request failed', 'string'],
      [50, 'request failed', 'string'],
      [WARN, expect.stringContaining('the store is unreachable'), 'undefined'],
    ])
  })
})

describe('the inserter during an outage', () => {
  let dir: string
  beforeEach(() => {
    vi.useFakeTimers({ now: 0 })
    dir = mkdtempSync(join(tmpdir(), 'spanlens-outage-'))
  })
  afterEach(() => {
    vi.useRealTimers()
    rmSync(dir, { recursive: true, force: true })
  })

  const segment = (name: string): SealedSegment => ({
    name,
    path: `/nonexistent/${name}`,
    bytes: 1,
    rows: 1,
    createdAt: 0,
    table: 'spans',
    columns: SPANS.columns,
    headerBytes: 0,
    format: 'TabSeparatedWithNames',
    layout: 'plain',
    indexPath: undefined,
  })

  it('warns of its first failed insert with { err }, then at most every 30 s with how many failed since, and says when inserts succeed again', async () => {
    let down = true
    const store = {
      cluster: undefined,
      insertFile: async () => {
        if (down) throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:8123'), { code: 'ECONNREFUSED' })
      },
    } as unknown as Store
    const { lines, log } = capture()
    const inserter = new Inserter({
      store,
      spool: { remove: async () => undefined } as unknown as Spool,
      deadLetters: {} as DeadLetters,
      failing: new FailingSegments(dir),
      concurrency: 1,
      metrics: createMetrics(),
      log,
      // Every wait the longest the ceiling allows: up to 10 s, so 100 s hold 12 retries.
      random: () => 0.999,
    })
    inserter.enqueue(segment('a'))
    await vi.advanceTimersByTimeAsync(100_000)
    const failed = inserter.health().oldestFailing[0]?.attempts
    // The waits, 0.999 of each ceiling: 199, 399, 799, 1598, 3196, 6393 ms, then 9990 ms each. So the
    // 15 failures fall at 0, 0.2, 0.6 … 32.56, 42.55 … 72.52, 82.51, 92.50 s; the 62.54 s one is within 30 s of the last line.
    expect(failed).toBe(15)
    const warned = lines.filter((l) => l.level === WARN)
    expect(warned.map((l) => [l.time, l.notLoggedSince])).toEqual([
      [0, 0],
      [32_564, 7],
      [72_524, 3],
    ])
    for (const l of warned) expect(l.err?.message).toContain('ECONNREFUSED')
    down = false
    inserter.retryNow()
    await vi.advanceTimersByTimeAsync(0)
    expect(lines.at(-1)).toMatchObject({ level: 30, msg: 'inserts succeed again', failures: failed })
    inserter.stop()
  })
})
