import type { ClickHouseClient } from '@clickhouse/client'
import { type MergeKind, mergeContent } from '@spanlens/query'
import type { Logger } from 'pino'
import type { IngestMetrics } from '../metrics.js'

/** How often a full run (every key wherever its span is) follows the near runs. */
const FULL_EVERY_MS = 3_600_000

/**
 * Runs the content merge (@spanlens/query's mergeContent: content that arrived as GenAI log
 * records written onto its spans, which analytics read as stored) every `intervalMs`, one
 * run at a time: a near run (each span looked up in the hours around it), and a full run at
 * start and at least hourly (content/merge.ts says why both). A failed run is logged and
 * counted; the next one takes its window again (the merge records how far it got only when a
 * run ends). `run('full')` merges at once, after any run in flight: the server's flush() ends
 * with it, so what was acknowledged before a flush is in analytics after it.
 */
export class ContentMergeJob {
  private timer: NodeJS.Timeout | undefined
  private last: Promise<void> = Promise.resolve()
  private stopped = false
  /** When the last full run started; 0: none yet in this process. */
  private fullAt = 0

  constructor(
    private readonly client: ClickHouseClient,
    private readonly intervalMs: number,
    private readonly metrics: IngestMetrics,
    private readonly log: Logger,
  ) {}

  start(): void {
    this.schedule()
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

  private schedule(): void {
    if (this.stopped) return
    this.timer = setTimeout(() => {
      this.run(Date.now() - this.fullAt >= FULL_EVERY_MS ? 'full' : 'near')
        .catch((err: unknown) => this.log.warn({ err }, 'content merge failed; the next run takes its window again'))
        .finally(() => this.schedule())
    }, this.intervalMs)
    this.timer.unref()
  }

  private async once(kind: MergeKind): Promise<void> {
    const startedAt = Date.now()
    try {
      const { keys } = await mergeContent(this.client, { kind })
      if (kind === 'full') this.fullAt = startedAt
      this.metrics.contentMerges.inc({ kind, result: 'ok' })
      this.metrics.contentMergeKeys.inc(keys)
    } catch (err) {
      this.metrics.contentMerges.inc({ kind, result: 'error' })
      throw err
    }
  }
}
