import type { Logger } from 'pino'
import { LogLimit } from '../errors.js'
import { StoreWideFailure, type InsertFailure } from './insert-errors.js'

/**
 * What an operator reads of failing inserts: a warning when they start, then at most one per
 * interval with how many were left out, each store-wide failure of a segment once, and a line
 * when inserts succeed again.
 */
export class InsertFailureLog {
  /** Retried as often as the backoff allows (up to 15 inserts every 10 s): its warnings are limited. */
  private readonly retryWarnings = new LogLimit()
  /** Segments whose store-wide failure (StoreWideFailure) was logged: each once. */
  private readonly warnedStoreWide = new Set<string>()

  constructor(private readonly log: Logger) {}

  failed(segment: string, err: unknown, failure: InsertFailure, retryInMs: number): void {
    if (err instanceof StoreWideFailure && !this.warnedStoreWide.has(segment)) {
      // Once per segment, whatever the limit: the one failure an operator may have to act on (set-aside.ts).
      this.warnedStoreWide.add(segment)
      this.log.warn(
        { segment, err, kind: failure.kind, slicesAlike: err.slices, retryInMs },
        'every slice of a spool segment failed alike with an error of a type Spanlens does not know: no row is blamed, the segment is retried as the store failing (`spanlens dead-letter stuck` lists it)',
      )
    } else {
      const notLoggedSince = this.retryWarnings.take()
      if (notLoggedSince !== undefined) {
        this.log.warn(
          { segment, err, kind: failure.kind, retryInMs, notLoggedSince },
          `insert failed; will retry (this warning at most every ${this.retryWarnings.intervalMs / 1000} s; notLoggedSince counts the failures in between)`,
        )
      }
    }
  }

  /** An insert succeeded after `failures` failed ones in a row, the first at `failingSince`. */
  succeededAgain(failures: number, failingSince: number): void {
    this.log.info({ failures, failedForSeconds: (Date.now() - failingSince) / 1000 }, 'inserts succeed again')
  }

  /** The segment left the spool: a store-wide failure of a segment of that name is news again. */
  forget(segment: string): void {
    this.warnedStoreWide.delete(segment)
  }
}
