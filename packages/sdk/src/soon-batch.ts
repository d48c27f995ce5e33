/**
 * Items handled together in one setImmediate, soon after they arrive: work the
 * SDK keeps out of the app's calls runs while the app waits on I/O. Used for
 * LLM calls with work due (llm-span.ts) and for spans waiting to be encoded
 * (exporter.ts).
 *
 * Bounded: at `max` items the batch is handled at once, by the push that
 * filled it, so a loop that never yields (nothing but microtasks) cannot grow
 * it. flush() and shutdown() drain both batches.
 */
export class SoonBatch<T> {
  private items: T[] = []
  private scheduled = false

  /** `handle` must not throw: it gets items the app no longer waits on. */
  constructor(
    private readonly handle: (items: T[]) => void,
    private readonly max = 256,
  ) {}

  get size(): number {
    return this.items.length
  }

  push(item: T): void {
    this.items.push(item)
    if (this.items.length >= this.max) this.drain()
    else if (!this.scheduled) {
      this.scheduled = true
      setImmediate(this.run)
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

  private run = (): void => {
    this.scheduled = false
    this.drain()
  }
}
