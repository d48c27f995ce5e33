/**
 * When this server took a request, in nanoseconds since the epoch as a decimal string,
 * strictly increasing from one call to the next: the clock's milliseconds, then a count of
 * the requests taken within that millisecond. A span's GenAI log records sent in separate
 * requests with the same time are merged in the order their requests arrived
 * (clickhouse/014_span_content_received.sql); two requests in one millisecond, or a clock
 * stepped back, must still get two stamps in the order they came. Stamped on the event
 * loop that takes requests, not in the prepare workers, whose clocks would interleave.
 */
export class ArrivalClock {
  private lastMs = 0
  private count = 0

  constructor(private readonly nowMs: () => number = Date.now) {}

  next(): string {
    const now = Math.trunc(this.nowMs())
    if (now > this.lastMs) {
      this.lastMs = now
      this.count = 0
    } else if (++this.count > 999_999) {
      // A millionth request within one millisecond: borrow the next millisecond.
      this.lastMs++
      this.count = 0
    }
    return `${this.lastMs}${String(this.count).padStart(6, '0')}`
  }
}
