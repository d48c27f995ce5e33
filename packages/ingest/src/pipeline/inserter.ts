import type { Logger } from 'pino'
import type { IngestMetrics } from '../metrics.js'
import type { Store } from '../store/index.js'
import { backoffMs } from './backoff.js'
import type { DeadLetters } from './dead-letter.js'
import type { FailingSegment, FailingSegments } from './failing-segments.js'
import { describeInsertFailure, failureText, mayHaveReachedStore, publicFailureText, StoreWideFailure, type InsertFailure } from './insert-errors.js'
import { InsertFailureLog } from './insert-failure-log.js'
import { inserterHealth, type InserterHealth } from './inserter-health.js'
import { insertSegment, unknownColumns } from './segment-insert.js'
import { writeSegmentLetter } from './set-aside.js'
import { rowTargetOf } from './segment-rows.js'
import type { SealedSegment, Spool } from './spool.js'
import { restoreMissingOfSegment } from './stored-rows.js'

export interface InserterOptions {
  store: Store
  spool: Spool
  deadLetters: DeadLetters
  /** The segments failing now, with their attempts and last error (/readyz, `spanlens dead-letter stuck`). */
  failing: FailingSegments
  concurrency: number
  metrics: IngestMetrics
  log: Logger
  /** Called when an insert slot frees up and nothing is queued for it. */
  onIdleSlot?: () => void
  /** Uniform in [0, 1): the jitter of retry waits (backoff.ts). Math.random unless a test fixes it. */
  random?: () => number
  /**
   * Resolves once the store's tables exist (migrated): nothing is inserted before, so nothing
   * fails against a missing table or counts as a failure. Without it the store is open already.
   */
  storeOpened?: Promise<void>
  /**
   * Inserts again the rows of a segment the table lacks after an insert of it was answered
   * (stored-rows.ts); called only for a segment an earlier attempt may have stored. Replaced
   * by tests that count the calls.
   */
  restoreMissing?: typeof restoreMissingOfSegment
}

/**
 * Inserts sealed spool segments into their tables, one INSERT per segment with the
 * segment name as insert_deduplication_token, and deletes a segment only after
 * ClickHouse confirmed it. A store that is down, busy or misconfigured is
 * retried with backoff for as long as it takes: nothing is dropped. A segment
 * whose column line names columns its table lacks is set aside whole instead
 * (setAsideIfUnknownColumns). A segment ClickHouse refuses as data has its
 * refused rows isolated (isolating-insert.ts): they go to the dead letters with
 * the reason, every other row is inserted. An error of a type we do not know is
 * isolated too, but blames rows only when they differ; refused by every slice
 * alike (StoreWideFailure), the segment is retried as the store's failure.
 */
export class Inserter {
  private readonly queue: SealedSegment[] = []
  private running = 0
  /** Failures in a row, of any segment: the ceiling of the wait before the next insert (backoff.ts). */
  private failures = 0
  private retryTimer: NodeJS.Timeout | undefined
  /**
   * Segments whose failure may be their own (an error of a type we do not know), each
   * waiting out its own backoff: successes of the others do not shorten it, and it
   * holds no insert slot meanwhile.
   */
  private readonly held = new Map<string, { segment: SealedSegment; timer: NodeJS.Timeout }>()
  private idleWaiters: Array<() => void> = []
  private stopped = false
  /** Failed inserts of each segment with an error of a type we do not know (segment-insert.ts): its own backoff. */
  private readonly unknownAttempts = new Map<string, number>()
  /**
   * Segments whose rows may be in ClickHouse, or may be remembered by its deduplication log,
   * though no insert of them was confirmed: one failed after its request was sent, or the
   * segment is replayed from an earlier run. Once an insert of one is answered, the rows the
   * table lacks are inserted again (stored-rows.ts).
   */
  private readonly unconfirmed = new Set<string>()
  /** The insert of each segment being inserted (insert() never rejects): setAside waits for it. */
  private readonly inFlight = new Map<string, Promise<void>>()
  private readonly failureLog: InsertFailureLog
  lastError: Error | undefined
  lastFailure: InsertFailure | undefined
  lastSuccessAt = 0
  /** When inserts started failing (undefined while they succeed). */
  failingSince: number | undefined
  private storeOpen: boolean

  constructor(private readonly opts: InserterOptions) {
    this.failureLog = new InsertFailureLog(opts.log)
    this.storeOpen = opts.storeOpened === undefined
    opts.storeOpened?.then(
      () => {
        this.storeOpen = true
        this.pump()
      },
      // The server stops (store-opener.ts): the segments stay spooled for the next start.
      () => undefined,
    )
  }

  /** The store is not open yet: segments wait, spooled, and shutdown need not wait for them. */
  get waitingForStore(): boolean {
    return !this.storeOpen
  }

  /** `replayed`: the segment was left by an earlier run, which may have inserted it in part or whole. */
  enqueue(segment: SealedSegment, replayed = false): void {
    if (replayed) this.unconfirmed.add(segment.name)
    this.queue.push(segment)
    this.pump()
  }

  get pending(): number {
    return this.queue.length + this.running + this.held.size
  }

  /** A segment sealed now would wait for an insert slot. */
  get busy(): boolean {
    return !this.storeOpen || this.running >= this.opts.concurrency || this.queue.length > 0 || this.retryTimer !== undefined
  }

  /** Resolves when every queued segment is in ClickHouse (or the inserter stops). */
  idle(): Promise<void> {
    if (this.pending === 0) return Promise.resolve()
    return new Promise((resolve) => this.idleWaiters.push(resolve))
  }

  stop(): void {
    this.stopped = true
    clearTimeout(this.retryTimer)
    for (const { timer } of this.held.values()) clearTimeout(timer)
    this.notifyIdle(true)
  }

  /**
   * Retries at once every segment waiting out a backoff: a caller waiting for the
   * spool to empty (flush, shutdown) asked for it now. A failure again backs off as before,
   * from where it was.
   */
  retryNow(): void {
    if (this.stopped) return
    clearTimeout(this.retryTimer)
    this.retryTimer = undefined
    for (const { segment, timer } of this.held.values()) {
      clearTimeout(timer)
      this.queue.push(segment)
    }
    this.held.clear()
    this.pump()
  }

  /**
   * Moves a segment into the dead letters at an operator's request (the admin route): one that
   * no retry inserts (set-aside.ts writes the letter). A segment waiting for its retry is taken
   * out of the retries at once; one being inserted is waited for: inserted, there is nothing to
   * set aside (`left`); failed, it is taken before anything retries it. So no insert of it runs
   * while, or after, its letter is written. `unknown`: this inserter does not hold it (never
   * sealed, inserted earlier, not this server's).
   */
  async setAside(name: string): Promise<{ state: 'set-aside'; rows: number; reason: string } | { state: 'left' | 'unknown' }> {
    const inFlight = this.inFlight.get(name)
    // Its insert ends first; a failure puts it back in held or the queue, where no retry can
    // start before this continues (retries wait for a timer, this for a promise).
    if (inFlight) await inFlight
    const held = this.held.get(name)
    let segment: SealedSegment | undefined
    if (held) {
      clearTimeout(held.timer)
      this.held.delete(name)
      segment = held.segment
    } else {
      const at = this.queue.findIndex((s) => s.name === name)
      if (at >= 0) segment = this.queue.splice(at, 1)[0]
    }
    if (segment === undefined) return { state: inFlight ? 'left' : 'unknown' }
    try {
      const letter = await writeSegmentLetter(
        segment,
        this.opts.deadLetters,
        this.opts.failing.get(name),
        Date.now(),
      )
      await this.opts.spool.remove(segment)
      this.setAsideDone(name)
      this.opts.log.warn({ segment: name, rows: letter.rows, reason: letter.reason }, 'a spool segment was set aside into spool/dead by an operator; `spanlens dead-letter replay` inserts it')
      return { state: 'set-aside', ...letter }
    } catch (err) {
      // The letter could not be written (a full disk): the segment is retried as before.
      this.queue.push(segment)
      this.pump()
      throw err
    } finally {
      this.notifyIdle(false)
    }
  }

  private pump(): void {
    if (this.stopped || this.retryTimer || !this.storeOpen) return
    while (this.running < this.opts.concurrency && this.queue.length > 0) {
      const segment = this.queue.shift() as SealedSegment
      this.running++
      const inserting = this.insert(segment)
      this.inFlight.set(segment.name, inserting)
      void inserting.finally(() => {
        this.inFlight.delete(segment.name)
        this.running--
        this.pump()
        if (!this.busy) this.opts.onIdleSlot?.()
        this.notifyIdle(false)
      })
    }
  }

  private notifyIdle(force: boolean): void {
    if (!force && this.pending > 0) return
    const waiters = this.idleWaiters
    this.idleWaiters = []
    for (const w of waiters) w()
  }

  /** Every segment failing now, the oldest failure first. */
  failingSegments(): FailingSegment[] {
    return this.opts.failing.list()
  }

  health(now = Date.now()): InserterHealth {
    return inserterHealth({ failingSince: this.failingSince, lastFailure: this.lastFailure, pending: this.pending, failing: this.failingSegments() }, now)
  }

  private async insert(segment: SealedSegment): Promise<void> {
    const { metrics, log, spool } = this.opts
    const started = process.hrtime.bigint()
    try {
      const outcome = await insertSegment(this.opts.store, segment, {
        // Segments waiting behind this one when it ends: the engine stays with ingest for the next (call-gate.ts).
        followedBy: () => this.queue.length > 0 && !this.stopped,
        unknownAttempts: this.unknownAttempts,
      })
      if (this.unconfirmed.has(segment.name)) {
        const restored = await (this.opts.restoreMissing ?? restoreMissingOfSegment)(this.opts.store, segment, outcome.dead)
        metrics.insertVerifiedSegments.inc({ result: restored.missing > 0 ? 'restored' : 'complete' })
        if (restored.missing > 0) {
          metrics.insertRestoredRows.inc(restored.result.inserted)
          outcome.inserted += restored.result.inserted
          outcome.dead.push(...restored.result.dead)
          log.warn(
            { segment: segment.name, table: segment.table, rows: segment.rows, missing: restored.missing, restored: restored.result.inserted },
            'ClickHouse answered a retried insert as a duplicate but held none of some of its rows (its deduplication log outlived the part, e.g. the engine was killed mid-insert); they are inserted again',
          )
        }
      }
      metrics.insertDuration.observe(Number(process.hrtime.bigint() - started) / 1e9)
      metrics.insertBatches.inc({ result: outcome.dead.length > 0 ? 'isolated' : 'ok' })
      metrics.insertRows.inc(outcome.inserted)
      if (outcome.dead.length > 0) {
        // Durable before the segment goes: a crash in between isolates it again into the same letter.
        this.opts.deadLetters.write(segment.name, rowTargetOf(segment), outcome.dead)
        for (const d of outcome.dead) metrics.deadLetterRows.inc({ project: d.project, reason: d.reason.split(/[ :]/)[0] || 'unknown' })
        log.error(
          { segment: segment.name, rows: outcome.dead.length, inserted: outcome.inserted, reason: outcome.dead[0]?.reason },
          'ClickHouse refused rows of a spool segment; they are in spool/dead, the rest is inserted',
        )
      }
      await spool.remove(segment)
      this.forget(segment.name)
      if (this.failingSince !== undefined) this.failureLog.succeededAgain(this.failures, this.failingSince)
      this.notFailing()
      this.lastSuccessAt = Date.now()
    } catch (err) {
      const failure = describeInsertFailure(err)
      if (mayHaveReachedStore(err)) this.unconfirmed.add(segment.name)
      if (failure.kind === 'store' && (await this.setAsideIfUnknownColumns(segment, err))) return
      metrics.insertBatches.inc({ result: 'error' })
      metrics.insertFailures.inc({ kind: failure.kind })
      this.lastError = err as Error
      this.lastFailure = failure
      this.failingSince ??= Date.now()
      const storeWide = err instanceof StoreWideFailure ? err.slices : undefined
      this.opts.failing.failed(segment, { error: failureText(failure), shown: publicFailureText(failure), kind: failure.kind, slicesAlike: storeWide }, Date.now())
      this.failures++
      const random = this.opts.random ?? Math.random
      // A failure that may be this segment's own waits by its own count of failures and
      // holds nobody up; a store-wide one retries this segment first, after every insert waits.
      const own = failure.kind === 'unknown'
      const retryInMs = backoffMs(own ? (this.unknownAttempts.get(segment.name) ?? 1) : this.failures, random)
      this.failureLog.failed(segment.name, err, failure, retryInMs)
      if (own) this.hold(segment, retryInMs)
      else this.queue.unshift(segment)
      // Every insert waits a little too: if the store is failing for all of them, one backs off for all.
      if (!this.retryTimer && !this.stopped) {
        this.retryTimer = setTimeout(
          () => {
            this.retryTimer = undefined
            this.pump()
          },
          own ? backoffMs(this.failures, random) : retryInMs,
        )
      }
    }
  }

  /** The segment left the spool (inserted, or set aside): nothing of its failures is kept. */
  private forget(name: string): void {
    this.opts.failing.cleared(name)
    this.failureLog.forget(name)
    this.unknownAttempts.delete(name)
    this.unconfirmed.delete(name)
  }

  /**
   * The segment was set aside into spool/dead. When it was the last one failing, /readyz says the
   * inserter is stuck no more at once, without waiting for the next insert.
   */
  private setAsideDone(name: string): void {
    this.forget(name)
    if (this.opts.failing.size === 0) this.notFailing()
  }

  /** Inserts succeed, or the segments that failed are set aside: nothing is failing (/readyz). */
  private notFailing(): void {
    this.failures = 0
    this.lastError = undefined
    this.lastFailure = undefined
    this.failingSince = undefined
  }

  private hold(segment: SealedSegment, ms: number): void {
    if (this.stopped) return
    const timer = setTimeout(() => {
      this.held.delete(segment.name)
      this.queue.push(segment)
      this.pump()
    }, ms)
    this.held.set(segment.name, { segment, timer })
  }

  /** A segment whose column line names columns its table lacks is set aside whole (segment-insert.ts). */
  private async setAsideIfUnknownColumns(segment: SealedSegment, err: unknown): Promise<boolean> {
    const { store, spool, log } = this.opts
    const unknown = await unknownColumns(store, segment)
    if (unknown.length === 0) return false
    spool.setAside(segment)
    this.setAsideDone(segment.name)
    log.error(
      { segment: segment.name, table: segment.table, rows: segment.rows, columns: unknown, err },
      'a spool segment names columns its table does not have; its rows are set aside unread in spool/dead, not inserted',
    )
    return true
  }
}
