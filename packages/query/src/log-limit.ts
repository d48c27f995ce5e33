/** How often a warning of an outage (the store unreachable, inserts retried) is repeated while it lasts. */
export const OUTAGE_WARN_EVERY_MS = 30_000

/**
 * Logs the first of a run of like events (a store that cannot be reached, an insert retried),
 * then at most one per `intervalMs`, each saying how many were not logged since the last: an
 * outage of an hour writes 120 lines, not one per request or retry, and none is lost from the
 * count. The clock is injected so a test moves it.
 */
export class LogLimit {
  private lastAt: number | undefined
  private skipped = 0

  constructor(
    readonly intervalMs: number = OUTAGE_WARN_EVERY_MS,
    private readonly now: () => number = Date.now,
  ) {}

  /** Undefined when this event is not to be logged; else how many were not logged before it (0 for the first). */
  take(): number | undefined {
    const now = this.now()
    if (this.lastAt !== undefined && now - this.lastAt < this.intervalMs) {
      this.skipped++
      return undefined
    }
    const skipped = this.skipped
    this.lastAt = now
    this.skipped = 0
    return skipped
  }
}
