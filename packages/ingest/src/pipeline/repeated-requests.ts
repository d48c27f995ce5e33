import { Recent } from './recent.js'

/** Settles the answer to a request that later repeats of it wait for: the reply given, or undefined when it failed. */
export type Answering<R> = (reply: R | undefined) => void

/**
 * Export requests answered lately, by a fingerprint of what they carried
 * (prepare-traces.ts: every span's ids and times, and the body's length;
 * prepare-logs.ts: the body, when a record took the request's arrival time). An
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
