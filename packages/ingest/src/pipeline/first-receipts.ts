/**
 * When each request that carried timeless log records (neither time nor
 * observed time) was first received, by a hash of its body. Such a record is
 * timestamped with its arrival (OTLP: the observer's time), which would give a
 * retry of the same request (an exporter that lost the reply) new row keys and
 * so a second row; with the first arrival's time the retry's rows collapse with
 * the first's (ReplacingMergeTree). Bounded in entries and age: exporters give
 * up retrying within minutes (the OpenTelemetry Collector after 5, the SDK's
 * after its 5 retries). In memory only: a retry that reaches a restarted server
 * is stored again.
 */
export class FirstReceipts {
  // Insertion order is arrival order: the oldest entries are first, for expiry and eviction.
  private readonly seen = new Map<string, { ns: string; at: number }>()

  constructor(
    private readonly maxEntries = 10_000,
    private readonly maxAgeMs = 15 * 60_000,
  ) {}

  /** The first arrival time recorded for `key`, recording `receivedNs` when there is none. */
  firstOf(key: string, receivedNs: string, now = Date.now()): string {
    for (const [k, v] of this.seen) {
      if (now - v.at < this.maxAgeMs && this.seen.size < this.maxEntries) break
      this.seen.delete(k)
    }
    const first = this.seen.get(key)
    if (first) return first.ns
    this.seen.set(key, { ns: receivedNs, at: now })
    return receivedNs
  }

  get size(): number {
    return this.seen.size
  }
}
