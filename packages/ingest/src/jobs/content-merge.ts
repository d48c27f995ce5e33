import type { ClickHouseClient } from '@clickhouse/client'
import { type MergeKind, mergeContent } from '@spanlens/query'
import type { Logger } from 'pino'
import type { IngestMetrics } from '../metrics.js'
import { backoffMs } from '../pipeline/backoff.js'

/** How often a full run (every key wherever its span is) follows the near runs. */
const FULL_EVERY_MS = 3_600_000

/**
 * After a failed run the next waits the interval and a jittered share of a ceiling that doubles
 * from the interval with each failure in a row, up to a minute (backoff.ts, as the inserter
 * waits): a store that is down or struggling gets one merge query every ~35 s on average at
 * the default 5 s interval instead of one every 5 s, and servers sharing it do not retry in step.
 */
const MAX_EXTRA_WAIT_MS = 60_000

/**
 * Runs the content merge (@spanlens/query's mergeContent: content that arrived as GenAI log
 * records written onto its spans, which analytics read as stored) every `intervalMs`, one
 * run at a time: a near run (each span looked up in the hours around it), and a full run at
 * start and at least hourly (content/merge.ts says why both). A failed run is logged and
 * counted; the next one, after a backoff (MAX_EXTRA_WAIT_MS), takes its window again (the merge
 * records how far it got only when a run ends). `run('full')` merges at once, after any run in flight: the server's flush() ends
 * with it, so what was acknowledged before a flush is in analytics after it.
 */
export class ContentMergeJob {
  private timer: NodeJS.Timeout | undefined
  private last: Promise<void> = Promise.resolve()
  private stopped = false
  /** When the last full run started; 0: none yet in this process. */
  private fullAt = 0
  /** Runs failed in a row (any run, flush()'s too): the ceiling of the extra wait. */
  private failures = 0

  constructor(
    private readonly client: ClickHouseClient,
    private readonly intervalMs: number,
    private readonly metrics: IngestMetrics,
    private readonly log: Logger,
    /** Uniform in [0, 1): the jitter of the waits after a failure. Math.random unless a test fixes it. */
    private readonly random: () => number = Math.random,
  ) {}

  start(): void {
    this.schedule(this.intervalMs)
  }

  /** One run now, after the one in flight; rejects with its error. */
  run(kind: MergeKind): Promise<void> {
    const next = this.last.catch(() => undefined).then(() => this.once(kind))
    this.last = next
    return next
  }

  /** No more runs; resolves once the one in flight has ended. */
  async stop(): Promise<void> {
    this.stopped = true
    clearTimeout(this.timer)
    await this.last.catch(() => undefined)
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return
    this.timer = setTimeout(() => {
      this.run(Date.now() - this.fullAt >= FULL_EVERY_MS ? 'full' : 'near').then(
        () => this.schedule(this.intervalMs),
        (err: unknown) => {
          const retryInMs = this.intervalMs + backoffMs(this.failures, this.random, { firstMs: this.intervalMs, maxMs: MAX_EXTRA_WAIT_MS })
          this.log.warn({ err, failuresInRow: this.failures, retryInMs }, 'content merge failed; the next run takes its window again')
          this.schedule(retryInMs)
        },
      )
    }, delayMs)
    this.timer.unref()
  }

  private async once(kind: MergeKind): Promise<void> {
    const startedAt = Date.now()
    try {
      // Stopping ends a long run (a first full one over a large store) after its current batch.
      const { keys } = await mergeContent(this.client, { kind, stop: () => this.stopped })
      this.failures = 0
      if (kind === 'full') this.fullAt = startedAt
      this.metrics.contentMerges.inc({ kind, result: 'ok' })
      this.metrics.contentMergeKeys.inc(keys)
    } catch (err) {
      this.failures++
      this.metrics.contentMerges.inc({ kind, result: 'error' })
      throw err
    }
  }
}
