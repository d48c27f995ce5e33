import { createHash } from 'node:crypto'
import { Recent } from './recent.js'

/**
 * What identifies an exporter's retry: the same bytes. sha1 of the whole body (the
 * inflated one): ~75 µs for the ingest bench's 150 KB request of 100 spans, against
 * ~1.3 ms to prepare it (bench/ingest/request-memory.ts). Anything less
 * than the whole body (the spans' ids and times, say) takes a span sent again with other
 * content for a repeat, and the change is lost.
 */
export function bodyFingerprint(body: Buffer): string {
  return createHash('sha1').update(body).digest('base64')
}

/** Settles the answer to a request that later repeats of it wait for: the reply given, or undefined when it failed. */
export type Answering<R> = (reply: R | undefined) => void

/**
 * Export requests answered lately, by their body's fingerprint (prepare-traces.ts: every
 * request with spans; prepare-logs.ts: when a record took the request's arrival time). An
 * exporter that lost a reply sends the same request again; its spans would be
 * stored a second time, which ReplacingMergeTree folds in `spans` but the
 * per-minute rollup, counted at insert, would count twice, and a log record
 * timestamped with its arrival would be a second row. A repeat of a request
 * that was spooled is answered with the first reply and spools nothing; a repeat
 * that arrives while the first is still being spooled waits for it. A request
 * that failed is forgotten, so its retry is taken as new.
 */
export class RepeatedRequests<R> {
  private readonly answers: Recent<Promise<R | undefined>>

  constructor(maxEntries = 10_000, maxAgeMs = 15 * 60_000) {
    this.answers = new Recent(maxEntries, maxAgeMs)
  }

  /** The reply to an earlier request of this key (undefined if it failed), or undefined when none is remembered. */
  earlier(key: string): Promise<R | undefined> | undefined {
    return this.answers.get(key)
  }

  /** Starts answering `key`: later repeats wait until the returned function is called. */
  open(key: string): Answering<R> {
    let settle!: (reply: R | undefined) => void
    this.answers.set(key, new Promise((resolve) => (settle = resolve)))
    return (reply) => {
      if (reply === undefined) this.answers.delete(key)
      settle(reply)
    }
  }

  get size(): number {
    return this.answers.size
  }
}
