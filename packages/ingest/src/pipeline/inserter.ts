import { readFile } from 'node:fs/promises'
import type { Logger } from 'pino'
import { LogLimit } from '../errors.js'
import type { IngestMetrics } from '../metrics.js'
import type { Store } from '../store/index.js'
import { backoffMs } from './backoff.js'
import type { DeadLetters } from './dead-letter.js'
import { secondsFailing, type FailingSegment, type FailingSegments } from './failing-segments.js'
import { describeInsertFailure, failureText, publicFailureText, StoreWideFailure, type InsertFailure } from './insert-errors.js'
import { insertIsolated, insertSettings, type IsolatedResult } from './isolating-insert.js'
import { segmentBody } from './segment-file.js'
import { writeSegmentLetter } from './set-aside.js'
import { readSegmentRows, rowTargetOf } from './segment-rows.js'
import type { SealedSegment, Spool } from './spool.js'
import { spoolTableNamed } from './tables.js'

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
}

/**
 * An error of a type we do not know is retried this often whole before its rows are isolated
 * (a passing failure then costs no isolation); isolation blames rows only if they differ.
 */
const UNKNOWN_ATTEMPTS = 3
/** Failing without a success for this long, the inserter is reported stuck (/readyz). */
const STUCK_AFTER_MS = 60_000

export interface InserterHealth {
  state: 'ok' | 'retrying' | 'stuck'
  /** Seconds since inserts started failing without a success in between. */
  failingForSeconds: number
  /** The last failure as /readyz, which takes no key, may show it (publicFailureText). */
  lastError: string | null
  pending: number
  /** Segments whose inserts failed since their last attempt succeeded, and the oldest few of them. */
  failingSegments: number
  /** Each with its last error as /readyz may show it (publicFailureText); the admin route lists the whole text. */
  oldestFailing: Array<Omit<FailingSegment, 'firstFailedAt' | 'lastFailedAt' | 'lastErrorShown'> & { failingForSeconds: number }>
}

/** Segments /readyz lists by name: the oldest failures, which an operator looks at first. */
const LISTED_FAILING = 10

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
  private readonly unknownAttempts = new Map<string, number>()
  /** The insert of each segment being inserted (insert() never rejects): setAside waits for it. */
  private readonly inFlight = new Map<string, Promise<void>>()
  /** Retried as often as the backoff allows (up to 15 inserts every 10 s): its warnings are limited. */
  private readonly retryWarnings = new LogLimit()
  /** Segments whose store-wide failure (StoreWideFailure) was logged: each once. */
  private readonly warnedStoreWide = new Set<string>()
  lastError: Error | undefined
  lastFailure: InsertFailure | undefined
  lastSuccessAt = 0
  /** When inserts started failing (undefined while they succeed). */
  failingSince: number | undefined
  private storeOpen: boolean

  constructor(private readonly opts: InserterOptions) {
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

  enqueue(segment: SealedSegment): void {
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
    const failingFor = this.failingSince === undefined ? 0 : now - this.failingSince
    const failing = this.failingSegments()
    return {
      state: this.failingSince === undefined ? 'ok' : failingFor >= STUCK_AFTER_MS ? 'stuck' : 'retrying',
      failingForSeconds: failingFor / 1000,
      lastError: this.lastFailure ? publicFailureText(this.lastFailure) : null,
      pending: this.pending,
      failingSegments: failing.length,
      oldestFailing: failing.slice(0, LISTED_FAILING).map(({ firstFailedAt, lastFailedAt: _, lastError: _whole, lastErrorShown, ...rest }) => ({ ...rest, lastError: lastErrorShown, failingForSeconds: secondsFailing(firstFailedAt, now) })),
    }
  }

  private async insert(segment: SealedSegment): Promise<void> {
    const { metrics, log, spool } = this.opts
    const started = process.hrtime.bigint()
    try {
      const outcome = await this.insertSegment(segment)
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
      if (this.failingSince !== undefined) {
        log.info({ failures: this.failures, failedForSeconds: (Date.now() - this.failingSince) / 1000 }, 'inserts succeed again')
      }
      this.notFailing()
      this.lastSuccessAt = Date.now()
    } catch (err) {
      const failure = describeInsertFailure(err)
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
      if (err instanceof StoreWideFailure && !this.warnedStoreWide.has(segment.name)) {
        // Once per segment, whatever the limit: the one failure an operator may have to act on (set-aside.ts).
        this.warnedStoreWide.add(segment.name)
        log.warn(
          { segment: segment.name, err, kind: failure.kind, slicesAlike: err.slices, retryInMs },
          'every slice of a spool segment failed alike with an error of a type Spanlens does not know: no row is blamed, the segment is retried as the store failing (`spanlens dead-letter stuck` lists it)',
        )
      } else {
        const notLoggedSince = this.retryWarnings.take()
        if (notLoggedSince !== undefined) {
          log.warn(
            { segment: segment.name, err, kind: failure.kind, retryInMs, notLoggedSince },
            `insert failed; will retry (this warning at most every ${this.retryWarnings.intervalMs / 1000} s; notLoggedSince counts the failures in between)`,
          )
        }
      }
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
    this.warnedStoreWide.delete(name)
    this.unknownAttempts.delete(name)
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

  /**
   * A failure classified as the store's (schema, permissions) is retried for as
   * long as it takes, and holds up every segment behind it. It is the segment's
   * own when its column line (from format t3, written before its rows) names a
   * column that neither its table has nor this version writes: a damaged column
   * line, or a column dropped since. No retry inserts that segment, so it is set
   * aside whole in dead/ for an operator, and the rest go on. A column this version
   * writes and the table lacks is the store's: a migration is missing, and every
   * segment waits for it.
   */
  private async setAsideIfUnknownColumns(segment: SealedSegment, err: unknown): Promise<boolean> {
    const { store, spool, log } = this.opts
    const written = new Set(spoolTableNamed(segment.table)?.columns ?? [])
    const unwritten = segment.columns.filter((c) => !written.has(c))
    if (unwritten.length === 0) return false
    let columns: Set<string>
    try {
      const rs = await store.client.query({
        query: 'SELECT name FROM system.columns WHERE database = {db:String} AND table = {table:String}',
        query_params: { db: store.database, table: segment.table },
        format: 'JSONEachRow',
      })
      columns = new Set((await rs.json<{ name: string }>()).map((r) => r.name))
    } catch {
      // The store cannot say: retried as a failure of the store.
      return false
    }
    const unknown = unwritten.filter((c) => !columns.has(c))
    if (columns.size === 0 || unknown.length === 0) return false
    spool.setAside(segment)
    this.setAsideDone(segment.name)
    log.error(
      { segment: segment.name, table: segment.table, rows: segment.rows, columns: unknown, err },
      'a spool segment names columns its table does not have; its rows are set aside unread in spool/dead, not inserted',
    )
    return true
  }

  /** The whole segment in one insert; its rows one by one only when ClickHouse refuses that. */
  private async insertSegment(segment: SealedSegment): Promise<IsolatedResult> {
    const { store } = this.opts
    const token = `spanlens:${segment.name}`
    const settings = insertSettings(store, token)
    const { table, columns, format } = segment
    // Segments waiting behind this one when it ends: the engine stays with ingest for the next (call-gate.ts).
    const followedBy = () => this.queue.length > 0 && !this.stopped
    try {
      let rows = segment.rows
      if (segment.layout === 'plain') {
        // The file is nothing but rows (after its column line): ClickHouse reads it, JS never holds it.
        await store.insertFile({ table, columns, format, path: segment.path, settings, followedBy })
      } else {
        // A segment from before plain segments: its records are framed, so join them in memory.
        const parsed = await segmentBody(await readFile(segment.path))
        rows = parsed.rows
        await store.insertRaw({ table, columns, format, body: [parsed.body], settings, followedBy })
      }
      return { inserted: rows, dead: [] }
    } catch (err) {
      const failure = describeInsertFailure(err)
      if (failure.kind === 'transient' || failure.kind === 'store') throw err
      if (failure.kind === 'unknown') {
        const attempts = (this.unknownAttempts.get(segment.name) ?? 0) + 1
        this.unknownAttempts.set(segment.name, attempts)
        if (attempts < UNKNOWN_ATTEMPTS) throw err
      }
      const { rows, ...target } = await readSegmentRows(segment)
      return insertIsolated(store, target, rows, token, failure)
    }
  }
}
