import { readFile } from 'node:fs/promises'
import type { Logger } from 'pino'
import type { IngestMetrics } from '../metrics.js'
import type { Store } from '../store/index.js'
import { ROW_COLUMNS } from './row-format.js'
import { segmentBody } from './segment-file.js'
import type { SealedSegment, Spool } from './spool.js'

export interface InserterOptions {
  store: Store
  spool: Spool
  concurrency: number
  metrics: IngestMetrics
  log: Logger
  /** Called when an insert slot frees up and nothing is queued for it. */
  onIdleSlot?: () => void
}

// ClickHouse error codes that mean "this data will never be accepted", as opposed
// to "the server is down or busy": such a segment is quarantined, not retried forever.
const DATA_ERRORS = new Set([6, 26, 27, 38, 41, 53, 69, 70, 72, 117, 130, 131, 173, 252, 321, 349, 1001])
const MAX_BACKOFF_MS = 10_000

/**
 * Inserts sealed spool segments into `spans`, one INSERT per segment with the
 * segment name as insert_deduplication_token, and deletes a segment only after
 * ClickHouse confirmed it. Failures retry with backoff: nothing is dropped.
 */
export class Inserter {
  private readonly queue: SealedSegment[] = []
  private running = 0
  private backoffMs = 0
  private retryTimer: NodeJS.Timeout | undefined
  private idleWaiters: Array<() => void> = []
  private stopped = false
  lastError: Error | undefined
  lastSuccessAt = 0

  constructor(private readonly opts: InserterOptions) {}

  enqueue(segment: SealedSegment): void {
    this.queue.push(segment)
    this.pump()
  }

  get pending(): number {
    return this.queue.length + this.running
  }

  /** A segment sealed now would wait for an insert slot. */
  get busy(): boolean {
    return this.running >= this.opts.concurrency || this.queue.length > 0 || this.retryTimer !== undefined
  }

  /** Resolves when every queued segment is in ClickHouse (or the inserter stops). */
  idle(): Promise<void> {
    if (this.pending === 0) return Promise.resolve()
    return new Promise((resolve) => this.idleWaiters.push(resolve))
  }

  stop(): void {
    this.stopped = true
    clearTimeout(this.retryTimer)
    this.notifyIdle(true)
  }

  private pump(): void {
    if (this.stopped || this.retryTimer) return
    while (this.running < this.opts.concurrency && this.queue.length > 0) {
      const segment = this.queue.shift() as SealedSegment
      this.running++
      void this.insert(segment).finally(() => {
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

  private async insert(segment: SealedSegment): Promise<void> {
    const { metrics, log, store, spool } = this.opts
    const started = process.hrtime.bigint()
    try {
      const settings = {
        insert_deduplication_token: `spanlens:${segment.name}`,
        // Without this a deduplicated retry still feeds spans_minute: counts would double.
        deduplicate_blocks_in_dependent_materialized_views: 1,
        // On a cluster, confirm only once the shards have the rows: the spool
        // deletes a segment on this confirmation.
        ...(store.cluster ? { distributed_foreground_insert: 1 } : {}),
      }
      let rows = segment.rows
      if (segment.layout === 'plain') {
        // The file is nothing but rows: ClickHouse reads it, JS never holds it.
        await store.insertFile({ table: 'spans', columns: ROW_COLUMNS, format: segment.format, path: segment.path, settings })
      } else {
        // A segment from before plain segments: its records are framed, so join them in memory.
        const parsed = await segmentBody(await readFile(segment.path))
        rows = parsed.rows
        await store.insertRaw({ table: 'spans', columns: ROW_COLUMNS, format: segment.format, body: [parsed.body], settings })
      }
      const seconds = Number(process.hrtime.bigint() - started) / 1e9
      metrics.insertDuration.observe(seconds)
      metrics.insertBatches.inc({ result: 'ok' })
      metrics.insertRows.inc(rows)
      await spool.remove(segment)
      this.backoffMs = 0
      this.lastError = undefined
      this.lastSuccessAt = Date.now()
    } catch (err) {
      const error = err as Error & { code?: string }
      metrics.insertBatches.inc({ result: 'error' })
      this.lastError = error
      const code = Number(error.code)
      if (DATA_ERRORS.has(code)) {
        log.error({ segment: segment.name, code, err: error.message }, 'ClickHouse rejected a spool segment; quarantined in spool/dead')
        spool.quarantine(segment)
        return
      }
      this.backoffMs = Math.min(MAX_BACKOFF_MS, this.backoffMs === 0 ? 200 : this.backoffMs * 2)
      log.warn({ segment: segment.name, err: error.message, retryInMs: this.backoffMs }, 'insert failed; will retry')
      this.queue.unshift(segment)
      if (!this.retryTimer && !this.stopped) {
        this.retryTimer = setTimeout(() => {
          this.retryTimer = undefined
          this.pump()
        }, this.backoffMs)
      }
    }
  }
}
