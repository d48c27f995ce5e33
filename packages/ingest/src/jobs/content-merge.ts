import type { ClickHouseClient } from '@clickhouse/client'
import { mergeContent } from '@spanlens/query'
import type { Logger } from 'pino'
import type { IngestMetrics } from '../metrics.js'

/**
 * Runs the content merge (@spanlens/query's mergeContent: content that arrived as GenAI log
 * records written onto its spans, which analytics read as stored) every `intervalMs`, one
 * run at a time. A failed run is logged and counted; the next one takes its window again
 * (the merge records how far it got only when a run ends). `run()` merges at once, after
 * any run in flight: the server's flush() ends with it, so what was acknowledged before a
 * flush is in analytics after it.
 */
export class ContentMergeJob {
  private timer: NodeJS.Timeout | undefined
  private last: Promise<void> = Promise.resolve()
  private stopped = false

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
  run(): Promise<void> {
    const next = this.last.catch(() => undefined).then(() => this.once())
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
      this.run()
        .catch((err: unknown) => this.log.warn({ err }, 'content merge failed; the next run takes its window again'))
        .finally(() => this.schedule())
    }, this.intervalMs)
    this.timer.unref()
  }

  private async once(): Promise<void> {
    try {
      const { keys } = await mergeContent(this.client)
      this.metrics.contentMerges.inc({ result: 'ok' })
      this.metrics.contentMergeKeys.inc(keys)
    } catch (err) {
      this.metrics.contentMerges.inc({ result: 'error' })
      throw err
    }
  }
}
