/**
 * A map that forgets: entries older than `maxAgeMs`, and the oldest past
 * `maxEntries`. What the pipeline remembers of earlier requests so that an
 * exporter's retry is treated as the first attempt was (repeated-requests.ts): exporters give up retrying within minutes (the
 * OpenTelemetry Collector after 5, the SDK after its 5 retries). In memory only:
 * a retry that reaches a restarted server, or another server behind a load
 * balancer, is new to it.
 */
export class Recent<V> {
  // Insertion order is arrival order: the oldest entries are first, for expiry and eviction.
  private readonly entries = new Map<string, { value: V; at: number }>()

  constructor(
    private readonly maxEntries: number,
    private readonly maxAgeMs: number,
  ) {}

  get(key: string, now = Date.now()): V | undefined {
    this.expire(now)
    return this.entries.get(key)?.value
  }

  set(key: string, value: V, now = Date.now()): void {
    this.entries.delete(key)
    this.entries.set(key, { value, at: now })
    this.expire(now)
  }

  delete(key: string): void {
    this.entries.delete(key)
  }

  get size(): number {
    return this.entries.size
  }

  private expire(now: number): void {
    for (const [k, v] of this.entries) {
      if (now - v.at < this.maxAgeMs && this.entries.size <= this.maxEntries) break
      this.entries.delete(k)
    }
  }
}
