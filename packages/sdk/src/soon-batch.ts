/**
 * Items handled together soon after they arrive: in one setImmediate (work the
 * SDK keeps out of the app's calls runs while the app waits on I/O), or after
 * `delayMs` (work that can wait runs once for many calls). Used for LLM calls
 * that ended (init.ts, llm-span.ts) and spans waiting to be encoded (exporter.ts).
 *
 * Bounded: at `max` items the batch is handled at once, by the push that
 * filled it, so a loop that never yields (nothing but microtasks) cannot grow
 * it. flush() and shutdown() drain every batch.
 */
export class SoonBatch<T> {
  private items: T[] = []
  private scheduled = false

  /** `handle` must not throw: it gets items the app no longer waits on. */
  constructor(
    private readonly handle: (items: T[]) => void,
    private readonly max = 256,
    private readonly delayMs = 0,
  ) {}

  get size(): number {
    return this.items.length
  }

  push(item: T): void {
    this.items.push(item)
    if (this.items.length >= this.max) this.drain()
    else if (!this.scheduled) {
      this.scheduled = true
      if (this.delayMs > 0) setTimeout(this.run, this.delayMs).unref()
      else setImmediate(this.run)
    }
  }

  /** Handles everything queued now. */
  drain(): void {
    // Swap first: handling an item may push another (an LLM call's span ending
    // reaches the exporter's batch; its own batch gets a fresh list).
    const items = this.items
    if (items.length === 0) return
    this.items = []
    this.handle(items)
  }

  /** Forgets everything queued (the process is exiting); returns how many items that was. */
  discard(): number {
    const n = this.items.length
    this.items = []
    return n
  }

  private run = (): void => {
    this.scheduled = false
    this.drain()
  }
}
