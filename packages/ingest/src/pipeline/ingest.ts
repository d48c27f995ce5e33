import type { Logger } from 'pino'
import type { IngestConfig } from '../config/load.js'
import { errors, type SpanlensError } from '../errors.js'
import type { IngestMetrics } from '../metrics.js'
import type { Store } from '../store/index.js'
import { PriceTable } from '../normalize/cost.js'
import { createRedactor } from '../normalize/redact.js'
import { join } from 'node:path'
import { BufferPool } from './buffer-pool.js'
import { DeadLetters, type DeadLetterStats } from './dead-letter.js'
import { FailingSegments } from './failing-segments.js'
import { Inserter } from './inserter.js'
import type { InserterHealth } from './inserter-health.js'
import { ArrivalClock } from './arrival.js'
import { prepare, type Again, type BodyFormat, type PrepareContext, type Prepared } from './prepare.js'
import { PreparePool } from './prepare-pool.js'
import { RecentModelCalls } from './recent-model-calls.js'
import { RepeatedRequests, type Answering } from './repeated-requests.js'
import { SIGNALS, type Signal } from './signals.js'
import { Spool, type SpoolBatch } from './spool.js'
import { spoolLayout } from './spool-layout.js'
import { spoolTableNamed } from './tables.js'
import type { SpoolLock } from './spool-lock.js'

/** How far behind the inserter may fall before /readyz says so. */
const BEHIND_AFTER_MS = 60_000

export interface PipelineHealth {
  inserter: InserterHealth & { behind: boolean; oldestUnconfirmedSeconds: number }
  deadLetters: DeadLetterStats
}

export interface AcceptResult {
  accepted: number
  rejected: number
  problems: string[]
}

/**
 * The data path after decoding: normalize → spool (acknowledge) → batch → insert.
 * One spool segment is one batch; the inserter turns sealed segments into inserts.
 */
export class IngestPipeline {
  readonly spool: Spool
  readonly inserter: Inserter
  readonly deadLetters: DeadLetters
  private readonly failing: FailingSegments
  private readonly ctx: PrepareContext
  /** Request bodies are joined into these buffers when prepare runs on the event loop. */
  readonly bodyPool: BufferPool | undefined
  private readonly pool: PreparePool | undefined
  private inFlight = 0
  private stopping = false
  private readonly maxInFlight: number
  private readonly maxInFlightPerProject: number
  private readonly inFlightByProject = new Map<string, number>()
  private readonly spoolShareBytes: number
  private readonly recentModelCalls = new RecentModelCalls()
  private readonly repeats = new RepeatedRequests<AcceptResult>()
  private readonly arrivals = new ArrivalClock()

  constructor(
    config: IngestConfig,
    store: Store,
    readonly metrics: IngestMetrics,
    private readonly log: Logger,
    spoolLock?: SpoolLock,
    /** Resolves once the store is migrated; until then segments wait in the spool (Inserter). */
    storeOpened?: Promise<void>,
  ) {
    this.maxInFlight = config.maxConcurrentRequests
    this.maxInFlightPerProject = config.maxConcurrentRequestsPerProject
    this.spoolShareBytes = config.spoolMaxBytes * config.spoolProjectShare
    // 256 KiB holds a 100-span request's rows (~180 KB in the bench); bigger requests allocate.
    // The free list covers the requests in flight at once, not the in-flight limit.
    this.ctx = {
      prices: PriceTable.load(config.pricesFile),
      redact: createRedactor(config.redact),
      pool: new BufferPool(256 * 1024, 64),
      retentionDays: config.retentionDays,
      maxRowBytes: 4 * config.bodyLimitBytes,
    }
    this.pool =
      config.workers > 0
        ? new PreparePool(config.workers, { pricesFile: config.pricesFile, redact: config.redact, retentionDays: config.retentionDays, maxRowBytes: 4 * config.bodyLimitBytes }, log)
        : undefined
    // Only on the event-loop path: posting a view of a pooled buffer to a worker would copy all of it.
    this.bodyPool = this.pool ? undefined : this.ctx.pool
    this.spool = new Spool({
      ...spoolLayout(config),
      onSealed: (segment) => this.inserter.enqueue(segment),
      onError: (err) => log.error({ err }, 'spool segment could not be sealed'),
      onRecoveryNote: (message) => log.warn({ detail: message }, 'spool recovery'),
      onDamage: (d) =>
        log.error(
          { segment: d.segment, table: d.table, rowsLost: d.lostRows, recordsLost: d.lostRecords, rowsKept: d.keptRows },
          'spool segment damaged: acknowledged rows lost; the rest is kept, the original files are in spool/dead',
        ),
      onTornTail: (t) => {
        if (t.records !== undefined) metrics.spoolTornRecords.inc(t.records)
        metrics.spoolTornBytes.inc(t.bytes)
        log.warn(
          { segment: t.segment, table: t.table, recordsCut: t.records, bytesCut: t.bytes, fsync: config.spoolFsync },
          'spool segment ended in an unfinished write (a crash mid-write): cut, its requests were never answered (with fsync other than always, after a power loss, it may hold rows acknowledged since the last sync)',
        )
      },
      // Adaptive batching: while inserts are behind, the open segment keeps growing
      // (to SPANLENS_BATCH_MAX_ROWS/_BYTES) instead of sealing at its age. Bigger
      // inserts cost ClickHouse less per row, and the rows could not be inserted
      // sooner anyway; once the inserter frees up, an overdue segment seals at once.
      holdOnAge: () => this.inserter.busy,
      lock: spoolLock,
    })
    this.deadLetters = new DeadLetters(join(config.spoolDir, 'dead'))
    this.failing = new FailingSegments(config.spoolDir)
    this.inserter = new Inserter({
      store,
      spool: this.spool,
      deadLetters: this.deadLetters,
      failing: this.failing,
      concurrency: config.insertConcurrency,
      metrics,
      log,
      onIdleSlot: () => this.spool.sealIfOverdue(),
      ...(storeOpened ? { storeOpened } : {}),
    })
  }

  /** Replays segments an earlier run acknowledged but did not insert. */
  start(): number {
    const leftover = this.spool.recover()
    // Segments set aside or inserted since the note was written are no longer failing.
    this.failing.retain(new Set(leftover.map((s) => s.name)))
    for (const segment of leftover) this.inserter.enqueue(segment, true)
    if (leftover.length > 0) {
      this.log.info({ segments: leftover.length, rows: leftover.reduce((n, s) => n + s.rows, 0) }, 'replaying spool')
    }
    return leftover.length
  }

  /**
   * Admission control before the body is read: the cheapest place to say
   * "later". A project may hold only its share of the slots and of the spool,
   * so one project's slow or heavy clients cannot shut another project out.
   */
  admit(project: string): SpanlensError | undefined {
    if (this.stopping) return errors.SHUTTING_DOWN()
    if (this.spool.full) return errors.SPOOL_FULL('server')
    if (this.spool.bytesOf(project) >= this.spoolShareBytes) return errors.SPOOL_FULL('project')
    if (this.inFlight >= this.maxInFlight) return errors.OVERLOADED('server')
    const mine = this.inFlightByProject.get(project) ?? 0
    if (mine >= this.maxInFlightPerProject) return errors.OVERLOADED('project')
    this.inFlight++
    this.inFlightByProject.set(project, mine + 1)
    return undefined
  }

  /** Called exactly once for each admitted request, however it ended. */
  release(project: string): void {
    this.inFlight = Math.max(0, this.inFlight - 1)
    const mine = (this.inFlightByProject.get(project) ?? 1) - 1
    if (mine <= 0) this.inFlightByProject.delete(project)
    else this.inFlightByProject.set(project, mine)
  }

  /** Requests admitted and not yet ended: all, or one project's. */
  inFlightRequests(project?: string): number {
    return project === undefined ? this.inFlight : (this.inFlightByProject.get(project) ?? 0)
  }

  /** Decodes, normalizes and spools one export request of `signal`; resolves once it is durable. */
  async accept(signal: Signal, project: string, format: BodyFormat, body: Buffer): Promise<AcceptResult> {
    const started = process.hrtime.bigint()
    const receivedNs = this.arrivals.next()
    const run = (again?: Again) => {
      const request = { ...again, receivedNs }
      return this.pool ? this.pool.run(signal, format, body, project, request) : Promise.resolve(prepare(signal, format, body, project, { ...this.ctx, ...request }))
    }
    // Settled once, whichever way the request ends: repeats of it wait on it (repeated-requests.ts).
    let answer: Answering<AcceptResult> | undefined
    try {
      let prepared: Prepared
      try {
        prepared = await run()
        if (prepared.fingerprint !== undefined) {
          // An exporter's retry of a request already spooled (its reply was lost): answered as the first was.
          const key = `${project}\0${signal}\0${format}\0${prepared.fingerprint}`
          for (let earlier = this.repeats.earlier(key); earlier; earlier = this.repeats.earlier(key)) {
            const reply = await earlier
            if (reply) {
              this.giveBack(prepared)
              this.metrics.repeatedRequests.inc({ signal, project })
              return { ...reply, problems: [...reply.problems] }
            }
          }
          answer = this.repeats.open(key)
        }
        const again = this.again(project, prepared)
        if (again) {
          this.giveBack(prepared)
          prepared = await run(again)
        }
      } finally {
        // Decoding copied out everything it kept (strings): the body is free again.
        this.bodyPool?.give(body)
      }
      const result = await this.spoolPrepared(signal, project, prepared, started)
      answer?.(result)
      return result
    } catch (err) {
      answer?.(undefined)
      throw err
    }
  }

  /** Counts a prepared request's items and spools its rows; resolves once they are durable. */
  private async spoolPrepared(signal: Signal, project: string, prepared: Prepared, started: bigint): Promise<AcceptResult> {
    const preparedAt = process.hrtime.bigint()
    this.metrics.prepareDuration.observe(Number(preparedAt - started) / 1e9)
    const counters = this.metrics.signals[signal]
    const rejected = prepared.invalid + prepared.failed + prepared.outOfWindow
    const received = prepared.accepted + rejected
    if (received > 0) counters.received.inc({ project }, received)
    if (prepared.invalid > 0) counters.rejected.inc({ project, reason: `invalid_${SIGNALS[signal].item.replace(/ /g, '_')}` }, prepared.invalid)
    if (prepared.failed > 0) counters.rejected.inc({ project, reason: 'normalize_failed' }, prepared.failed)
    if (prepared.outOfWindow > 0) counters.rejected.inc({ project, reason: 'time_out_of_range' }, prepared.outOfWindow)
    const result: AcceptResult = { accepted: 0, rejected, problems: prepared.problems }
    if (prepared.batches.length === 0) return result
    const batches: SpoolBatch[] = prepared.batches.map((b) => ({
      table: spoolTableNamed(b.table) ?? fail(b.table),
      payload: Buffer.from(b.payload.buffer, b.payload.byteOffset, b.payload.byteLength),
      rows: b.rows,
    }))
    try {
      await this.spool.appendAll(batches, project, this.spoolShareBytes)
    } finally {
      // Written (or failed): nothing reads the rows' buffers any more.
      for (const b of batches) this.ctx.pool?.give(b.payload)
    }
    this.metrics.spoolWriteDuration.observe(Number(process.hrtime.bigint() - preparedAt) / 1e9)
    result.accepted = prepared.accepted
    counters.accepted.inc({ project }, result.accepted)
    this.refreshGauges()
    return result
  }

  /** The rows' buffers of a preparation that will not be spooled, back to the pool. */
  private giveBack(prepared: Prepared): void {
    for (const b of prepared.batches) this.ctx.pool?.give(b.payload)
  }

  /**
   * What only the server's memory of earlier requests can tell, for which a request is prepared
   * again (rarely): the model calls whose stacked pair an earlier request carried the other half of.
   */
  private again(project: string, prepared: Prepared): Again | undefined {
    if (!prepared.modelCalls || prepared.modelCalls.length === 0) return undefined
    const demote = this.recentModelCalls.reconcile(project, prepared.modelCalls)
    return demote ? { demote } : undefined
  }

  /** The inserter and the dead letters, for /readyz. */
  health(): PipelineHealth {
    const oldest = this.spool.oldestAgeMs()
    const dead = this.deadLetters.stats()
    return {
      inserter: { ...this.inserter.health(), behind: oldest >= BEHIND_AFTER_MS, oldestUnconfirmedSeconds: oldest / 1000 },
      deadLetters: dead,
    }
  }

  refreshGauges(): void {
    this.metrics.spoolBytes.set(this.spool.bytes)
    this.metrics.spoolSegments.set(this.spool.segments)
    this.metrics.spoolAge.set(this.spool.oldestAgeMs() / 1000)
  }

  /**
   * Seals the current batch and waits until everything spooled is in ClickHouse. A segment
   * waiting out a retry's backoff (up to 10 s) is retried at once: the caller is waiting.
   */
  async flush(): Promise<void> {
    await this.spool.sealActive()
    this.inserter.retryNow()
    await this.inserter.idle()
    this.refreshGauges()
  }

  /**
   * Stop accepting, seal, give inserts up to `timeoutMs`, retrying at once a segment that
   * waits out a backoff (which could take all of it); what remains stays spooled for the next start.
   * A store not open yet takes no insert in that time: nothing is waited for.
   */
  async stop(timeoutMs: number): Promise<void> {
    this.stopping = true
    await this.spool.close()
    this.inserter.retryNow()
    let timer: NodeJS.Timeout | undefined
    if (!this.inserter.waitingForStore) {
      await Promise.race([this.inserter.idle(), new Promise((r) => (timer = setTimeout(r, timeoutMs)))])
    }
    clearTimeout(timer)
    this.inserter.stop()
    await this.pool?.close()
  }
}

function fail(table: string): never {
  throw errors.INTERNAL(`prepare produced rows for ${table}, a table the spool does not write`)
}
