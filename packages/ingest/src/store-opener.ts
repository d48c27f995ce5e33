import type { Logger } from 'pino'
import { clickHouseErrorType, errors, isClientTimeout, isSpanlensError, isStoreUnreachable, LogLimit, OUTAGE_WARN_EVERY_MS } from './errors.js'
import { backoffMs } from './pipeline/backoff.js'
import { GatewayUnavailable } from './store/index.js'

/** Timers, injected so that a unit test drives them. */
export interface OpenerClock {
  now(): number
  /** Calls `fn` after `ms`; the function returned cancels it. */
  after(fn: () => void, ms: number): () => void
}

const systemClock: OpenerClock = {
  now: () => Date.now(),
  after: (fn, ms) => {
    // Unref'd: a server that closes while waiting for its store exits without waiting out the backoff.
    const timer = setTimeout(fn, ms).unref()
    return () => clearTimeout(timer)
  },
}

export interface StoreOpenerOptions {
  /** One attempt: reach ClickHouse, create the database, apply the migrations. */
  open: () => Promise<void>
  /** Whether a failure is retried (the store unreachable) rather than stopping the server. */
  retries: (err: unknown) => boolean
  log: Logger
  /** Uniform in [0, 1): the jitter of the waits (backoff.ts). */
  random?: () => number
  clock?: OpenerClock
  /**
   * How long start() waits for the first attempt before the server listens anyway, the attempt
   * going on in the background; undefined: for as long as it takes.
   */
  firstWaitMs?: number
  /** What the first attempt is still doing when start-up stops waiting for it, for the warning. */
  stillOpening?: () => 'unreached' | 'migrating'
}

const STILL_TRYING = Symbol('still trying')

/**
 * Opens the store for `spanlens serve`, which takes data into its spool whether or not ClickHouse
 * answers. The first attempt runs before the server listens, for up to `firstWaitMs`; one that
 * takes longer (migrations over a large store) goes on in the background. When it finds the store unreachable,
 * the server starts anyway and the attempts go on in the background, with the inserter's jittered
 * backoff (200 ms doubling to 10 s), until one succeeds: only then do inserts, the content merge
 * and the query routes start. A Kubernetes pod restarted during a ClickHouse outage crash-looped
 * and took no data before, although its spool could. Any other failure (a refusal, a migration
 * that fails or is invalid) stops start-up: retrying changes no setting and no file.
 */
export class StoreOpener {
  private state: 'opening' | 'open' | 'failed' | 'closed' = 'opening'
  private attempting = false
  private failures = 0
  private cancelWait: (() => void) | undefined
  /**
   * A warning at the first failure, then at most one per 30 s: an outage of an hour logs 120
   * lines rather than one per attempt (about 720 once the backoff reaches its 10 s ceiling).
   */
  private readonly warnings: LogLimit
  private firstFailureAt = 0
  private resolve!: () => void
  private reject!: (err: unknown) => void
  /**
   * Resolves once the store is open and migrated; rejects with the failure that stopped it in
   * the background; never settles when closed first (shutdown while waiting).
   */
  readonly opened: Promise<void>

  constructor(private readonly opts: StoreOpenerOptions) {
    this.opened = new Promise<void>((resolve, reject) => {
      this.resolve = resolve
      this.reject = reject
    })
    // A caller that does not watch it is no unhandled rejection; every watcher still sees the failure.
    this.opened.catch(() => undefined)
    const clock = opts.clock ?? systemClock
    this.warnings = new LogLimit(OUTAGE_WARN_EVERY_MS, () => clock.now())
  }

  get isOpen(): boolean {
    return this.state === 'open'
  }

  /**
   * The first attempt. Resolves with the store open, or unreachable and retried in the
   * background; rejects with any other failure, which stops start-up.
   */
  async start(): Promise<void> {
    const first = this.attempt()
    const { firstWaitMs, clock = systemClock } = this.opts
    let cancel: (() => void) | undefined
    const waited =
      firstWaitMs === undefined
        ? await first
        : await Promise.race([first, new Promise<typeof STILL_TRYING>((resolve) => (cancel = clock.after(() => resolve(STILL_TRYING), firstWaitMs)))])
    cancel?.()
    if (waited === STILL_TRYING) {
      // A store that takes connections and answers nothing holds an attempt for the whole request
      // timeout (30 s by default): as long as Kubernetes' default liveness probe allows a server
      // that does not listen, and so did a backfill over a large store (013's: ~35 s at 100 M
      // spans). The attempt goes on; what it ends in is handled as a background one's.
      if (this.opts.stillOpening?.() === 'migrating') {
        this.opts.log.warn({ waitedMs: firstWaitMs }, 'the migrations are still running: the server listens and takes OTLP into the spool; queries answer 503 SPANLENS_STORE_MIGRATING until they are applied')
      } else {
        this.opts.log.warn({ waitedMs: firstWaitMs }, 'the store has not answered yet: the server listens and takes OTLP into the spool while it keeps trying')
      }
      void first.then((fatal) => this.reportFatal(fatal))
      return
    }
    if (waited !== undefined) throw waited
  }

  /** Ends the waiting at once (a flush waits for the store); a failure backs off as before. */
  retryNow(): void {
    if (this.state !== 'opening' || this.attempting || this.cancelWait === undefined) return
    this.cancelWait()
    this.cancelWait = undefined
    this.attemptInBackground()
  }

  /** No more attempts: what the spool holds waits for the next start. An attempt in flight is not awaited. */
  close(): void {
    if (this.state === 'opening') this.state = 'closed'
    this.cancelWait?.()
    this.cancelWait = undefined
  }

  /** One attempt; resolves with the failure that stops the server, if any. */
  private async attempt(): Promise<unknown> {
    this.attempting = true
    try {
      await this.opts.open()
    } catch (err) {
      if (this.state !== 'opening') return undefined
      if (!this.opts.retries(err)) {
        this.state = 'failed'
        this.reject(err)
        return err
      }
      this.retryLater(err)
      return undefined
    } finally {
      this.attempting = false
    }
    if (this.state !== 'opening') return undefined
    this.state = 'open'
    if (this.failures > 0) {
      this.opts.log.info({ attempts: this.failures + 1, unreachableForSeconds: this.unreachableForSeconds() }, 'store reached and migrated: inserts from the spool start')
    }
    this.resolve()
    return undefined
  }

  private retryLater(err: unknown): void {
    const { log, clock = systemClock } = this.opts
    const now = clock.now()
    if (this.failures === 0) this.firstFailureAt = now
    this.failures++
    const retryInMs = backoffMs(this.failures, this.opts.random ?? Math.random)
    const notLoggedSince = this.warnings.take()
    if (notLoggedSince !== undefined) {
      log.warn(
        { err, attempts: notLoggedSince + 1, unreachableForSeconds: this.unreachableForSeconds(), retryInMs },
        'the store is unreachable: OTLP is taken into the spool, inserts and the query routes wait until it opens (retried with backoff; this warning at most every 30 s)',
      )
    }
    this.cancelWait = clock.after(() => {
      this.cancelWait = undefined
      this.attemptInBackground()
    }, retryInMs)
  }

  private attemptInBackground(): void {
    void this.attempt().then((fatal) => this.reportFatal(fatal))
  }

  private reportFatal(fatal: unknown): void {
    if (fatal !== undefined) this.opts.log.error({ err: fatal }, 'opening the store failed: the server stops; what it acknowledged stays in the spool for the next start')
  }

  private unreachableForSeconds(): number {
    return this.failures === 0 ? 0 : ((this.opts.clock ?? systemClock).now() - this.firstFailureAt) / 1000
  }
}

/**
 * Whether a failed open is the store being unreachable: ClickHouse (or a node of
 * SPANLENS_CLICKHOUSE_NODES) refusing the connection, not resolving, cut off or silent past the
 * request timeout, at bootstrap or during a migration, or a reverse proxy in front of it answering
 * /ping with a gateway's 502, 503 or 504 (store/gateway-status.ts), or an `ON CLUSTER` migration
 * whose hosts did not all apply it within the cluster's distributed_ddl_task_timeout (a host down:
 * ClickHouse keeps the task queued for it, and the migration's statements may run again). Not: SPANLENS_STORE_REFUSED, a
 * migration ClickHouse failed, an invalid or edited migration, nor an address that answers HTTP
 * but not /ping as ClickHouse does otherwise (a path that is wrong, create-store.ts).
 */
export function unreachableAtOpen(err: unknown): boolean {
  if (!isSpanlensError(err) || (err.code !== errors.STORE_UNREACHABLE.code && err.code !== errors.MIGRATION_FAILED.code)) return false
  return isStoreUnreachable(err.cause) || isClientTimeout(err.cause) || err.cause instanceof GatewayUnavailable || isDistributedDdlTimeout(err.cause)
}

/**
 * ClickHouse's TIMEOUT_EXCEEDED for an `ON CLUSTER` statement some host has not run yet: "…they are
 * going to execute the query in background", in older releases' wording ("Watching task … is
 * executing longer than distributed_ddl_task_timeout") and newer ("Distributed DDL task … is not
 * finished on N of M hosts").
 */
function isDistributedDdlTimeout(err: unknown): boolean {
  const message = err instanceof Error ? err.message : ''
  return clickHouseErrorType(err) === 'TIMEOUT_EXCEEDED' && /going to execute the query in background/i.test(message)
}
