import { Writable } from 'node:stream'
import { pino } from 'pino'
import { describe, expect, it } from 'vitest'
import { errors } from '../src/errors.js'
import { backoffMs } from '../src/pipeline/backoff.js'
import { OUTAGE_WARN_EVERY_MS } from '../src/errors.js'
import { type OpenerClock, StoreOpener, unreachableAtOpen } from '../src/store-opener.js'
import { GatewayUnavailable } from '../src/store/index.js'

// The opener's retries on a clock the test moves: each wait is what backoff.ts gives, the warnings
// are spaced, and a refusal or a close ends the retries. Its real store is in serve-store-down-remote.test.ts.

/** A clock whose timers fire only when the test advances it. */
function manualClock() {
  let now = 0
  const timers: Array<{ at: number; fn: () => void }> = []
  const clock: OpenerClock = {
    now: () => now,
    after: (fn, ms) => {
      const timer = { at: now + ms, fn }
      timers.push(timer)
      return () => void timers.splice(timers.indexOf(timer) >>> 0, 1)
    },
  }
  return {
    clock,
    pending: () => timers.map((t) => t.at - now),
    /** Moves to the next timer and fires it. */
    async fireNext(): Promise<void> {
      timers.sort((a, b) => a.at - b.at)
      const next = timers.shift()
      if (!next) throw new Error('no timer pending')
      now = next.at
      next.fn()
      await new Promise((r) => setImmediate(r))
    },
  }
}

function capturedLog() {
  const lines: Array<{ level: number; msg: string; attempts?: number; err?: { message: string } }> = []
  const log = pino({ level: 'info' }, new Writable({ write: (chunk: Buffer, _enc, done) => (lines.push(JSON.parse(chunk.toString())), done()) }))
  return { log, lines }
}

const refusedConnection = () => Object.assign(new Error('connect ECONNREFUSED 10.0.0.1:8123'), { code: 'ECONNREFUSED' })
const unreachable = () => errors.STORE_UNREACHABLE('http://ch:8123/', 'connect ECONNREFUSED 10.0.0.1:8123', { cause: refusedConnection() })

describe('opening the store in the background', () => {
  it('retries an unreachable store after each jittered backoff until it opens, then resolves `opened`', async () => {
    const { clock, pending, fireNext } = manualClock()
    const { log } = capturedLog()
    let attempts = 0
    const opener = new StoreOpener({
      open: async () => {
        attempts++
        if (attempts <= 4) throw unreachable()
      },
      retries: unreachableAtOpen,
      log,
      random: () => 0.5,
      clock,
    })
    let opened = false
    void opener.opened.then(() => (opened = true))

    await opener.start()
    expect({ open: opener.isOpen, attempts, waits: pending() }).toEqual({ open: false, attempts: 1, waits: [backoffMs(1, () => 0.5)] })
    for (let failures = 2; failures <= 4; failures++) {
      await fireNext()
      expect({ attempts, waits: pending() }).toEqual({ attempts: failures, waits: [backoffMs(failures, () => 0.5)] })
    }
    await fireNext()
    expect({ open: opener.isOpen, opened, attempts, waits: pending() }).toEqual({ open: true, opened: true, attempts: 5, waits: [] })
  })

  it('warns at the first failure and then at most once every 30 s, counting the attempts between', async () => {
    const { clock, fireNext } = manualClock()
    const { log, lines } = capturedLog()
    const opener = new StoreOpener({ open: async () => Promise.reject(unreachable()), retries: unreachableAtOpen, log, random: () => 0.999, clock })
    await opener.start()
    // 0.999 of the ceiling: waits of ~0.2, 0.4, … 10 s; 40 attempts span a few minutes.
    for (let i = 0; i < 40; i++) await fireNext()
    opener.close()
    const warnings = lines.filter((l) => l.level === 40)
    expect(warnings[0]).toMatchObject({ attempts: 1, err: { message: expect.stringContaining('http://ch:8123/') } })
    const spanMs = 41 * 10_000
    expect(warnings.length).toBeLessThanOrEqual(Math.ceil(spanMs / OUTAGE_WARN_EVERY_MS) + 1)
    expect(warnings.length).toBeGreaterThan(1)
    expect(warnings.reduce((n, w) => n + (w.attempts ?? 0), 0)).toBeLessThanOrEqual(41)
  })

  it('stops start-up at once on a refusal, without retrying', async () => {
    const { clock, pending } = manualClock()
    const refused = errors.STORE_REFUSED('http://ch:8123/', 'the login was not accepted')
    const opener = new StoreOpener({ open: async () => Promise.reject(refused), retries: unreachableAtOpen, log: capturedLog().log, clock })
    await expect(opener.start()).rejects.toBe(refused)
    await expect(opener.opened).rejects.toBe(refused)
    expect(pending()).toEqual([])
  })

  it('rejects `opened` when a retry meets a failed migration, and logs it', async () => {
    const { clock, fireNext, pending } = manualClock()
    const { log, lines } = capturedLog()
    const failed = errors.MIGRATION_FAILED('002_scores.sql', 'Syntax error')
    let attempts = 0
    const opener = new StoreOpener({
      open: async () => {
        attempts++
        throw attempts === 1 ? unreachable() : failed
      },
      retries: unreachableAtOpen,
      log,
      clock,
    })
    await opener.start()
    await fireNext()
    await expect(opener.opened).rejects.toBe(failed)
    expect({ waits: pending(), logged: lines.some((l) => l.level === 50 && l.err?.message.includes('002_scores.sql')) }).toEqual({ waits: [], logged: true })
  })

  it('makes no attempt after close, and never resolves `opened`', async () => {
    const { clock, pending } = manualClock()
    let attempts = 0
    const opener = new StoreOpener({
      open: async () => {
        attempts++
        throw unreachable()
      },
      retries: unreachableAtOpen,
      log: capturedLog().log,
      clock,
    })
    await opener.start()
    opener.close()
    opener.retryNow()
    expect({ attempts, waits: pending(), open: opener.isOpen }).toEqual({ attempts: 1, waits: [], open: false })
  })

  it('lets the server listen once firstWaitMs passes with the first attempt still waiting; how that attempt ends is handled in the background', async () => {
    for (const ending of ['unreachable', 'refused'] as const) {
      const { clock, pending, fireNext } = manualClock()
      const { log, lines } = capturedLog()
      let endFirst!: (err: unknown) => void
      let attempts = 0
      const opener = new StoreOpener({
        // The first attempt hangs, as against a ClickHouse that takes connections and answers nothing.
        open: () => (++attempts === 1 ? new Promise<void>((_resolve, reject) => (endFirst = reject)) : Promise.resolve()),
        retries: unreachableAtOpen,
        log,
        random: () => 0.5,
        clock,
        firstWaitMs: 5_000,
      })
      let settled: string | undefined
      opener.opened.then(
        () => (settled = 'opened'),
        (err: unknown) => (settled = (err as { code?: string }).code),
      )
      const started = opener.start()
      expect(pending()).toEqual([5_000])
      await fireNext()
      // It would have waited for the attempt for as long as the store's request timeout.
      await started
      expect(lines.map((l) => l.msg)).toContain('the store has not answered yet: the server listens and takes OTLP into the spool while it keeps trying')
      endFirst(ending === 'unreachable' ? unreachable() : errors.STORE_REFUSED('http://ch:8123/', 'Authentication failed'))
      await new Promise((r) => setImmediate(r))
      if (ending === 'unreachable') {
        expect(pending()).toEqual([backoffMs(1, () => 0.5)])
        await fireNext()
        expect({ settled, attempts }).toEqual({ settled: 'opened', attempts: 2 })
      } else {
        expect({ settled, attempts, waits: pending() }).toEqual({ settled: 'SPANLENS_STORE_REFUSED', attempts: 1, waits: [] })
        expect(lines.map((l) => l.msg)).toContain('opening the store failed: the server stops; what it acknowledged stays in the spool for the next start')
      }
    }
  })

  it('retries a store the network cannot reach, not an address that answers as something else nor a migration ClickHouse refused as SQL', () => {
    const cut = errors.MIGRATION_FAILED('001_spans.sql', 'socket hang up', { cause: Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }) })
    const sql = errors.MIGRATION_FAILED('001_spans.sql', 'Syntax error', { cause: Object.assign(new Error('Syntax error (SYNTAX_ERROR)'), { type: 'SYNTAX_ERROR' }) })
    const notPing = errors.STORE_UNREACHABLE('http://ch:8123/x/', 'it answers HTTP, but not /ping as ClickHouse does', { cause: new Error('There is no handle /x/ping') })
    // clickhouse-js's own timeout: a ClickHouse that takes the connection and answers nothing (SIGSTOP).
    const silent = errors.STORE_UNREACHABLE('http://ch:8123/', 'Timeout error.', { cause: new Error('Timeout error.') })
    // A reverse proxy answering /ping 502 for a ClickHouse that is down (store/gateway-status.ts).
    const gateway = errors.STORE_UNREACHABLE('http://gw:80/x/', 'a reverse proxy answered /ping with 502', { cause: new GatewayUnavailable(502) })
    // An ON CLUSTER migration a host has not run within distributed_ddl_task_timeout, in both of ClickHouse's wordings.
    const ddlTimeout = (message: string) => errors.MIGRATION_FAILED('013_trace_hours.sql', message, { cause: Object.assign(new Error(`${message} (TIMEOUT_EXCEEDED)`), { type: 'TIMEOUT_EXCEEDED' }) })
    const ddlOld = ddlTimeout('Watching task /clickhouse/task_queue/ddl/query-0000000007 is executing longer than distributed_ddl_task_timeout (=180) seconds. There are 1 unfinished hosts (0 of them are currently active), they are going to execute the query in background')
    const ddlNew = ddlTimeout('Distributed DDL task /clickhouse/task_queue/ddl/query-0000000007 is not finished on 1 of 2 hosts (0 of them are currently executing the task, 1 are inactive). They are going to execute the query in background. Was waiting for 180.1 seconds')
    // A statement past its own time limit is no host out of reach.
    const ownTimeout = ddlTimeout('Timeout exceeded: elapsed 30.1 seconds, maximum: 30')
    expect([unreachable(), cut, silent, gateway, ddlOld, ddlNew, sql, notPing, errors.MIGRATION_INVALID('x.sql', 'bad name'), refusedConnection(), ownTimeout].map(unreachableAtOpen)).toEqual([
      true,
      true,
      true,
      true,
      true,
      true,
      false,
      false,
      false,
      false,
      false,
    ])
  })
})
