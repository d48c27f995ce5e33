import { Recent } from './recent.js'

/**
 * When each request that carried timeless log records (neither time nor
 * observed time) was first received, by a hash of its body. Such a record is
 * timestamped with its arrival (OTLP: the observer's time), which would give a
 * retry of the same request (an exporter that lost the reply) new row keys and
 * so a second row; with the first arrival's time the retry's rows collapse with
 * the first's (ReplacingMergeTree). Bounded in entries and age (recent.ts).
 */
export class FirstReceipts {
  private readonly seen: Recent<string>

  constructor(maxEntries = 10_000, maxAgeMs = 15 * 60_000) {
    this.seen = new Recent(maxEntries, maxAgeMs)
  }

  /** The first arrival time recorded for `key`, recording `receivedNs` when there is none. */
  firstOf(key: string, receivedNs: string, now = Date.now()): string {
    const first = this.seen.get(key, now)
    if (first !== undefined) return first
    this.seen.set(key, receivedNs, now)
    return receivedNs
  }

  get size(): number {
    return this.seen.size
  }
}
