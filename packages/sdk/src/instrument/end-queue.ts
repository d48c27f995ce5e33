/**
 * LLM calls that ended but whose spans are not built yet (standalone mode, see
 * LlmCall). Built together in one setImmediate, so that work runs while the app
 * waits on its next I/O instead of inside the call it just made.
 *
 * Bounded: at `max` pending calls the batch is built at once, on the call that
 * filled it, so a loop that never yields (nothing but microtasks) cannot grow it.
 * flush() and shutdown() drain it before the exporter's own flush.
 */
export interface Finishable {
  /** Builds and ends the span. Never throws. */
  finish(): void
}

export class EndQueue {
  private items: Finishable[] = []
  private scheduled = false

  constructor(private readonly max = 256) {}

  get size(): number {
    return this.items.length
  }

  push(item: Finishable): void {
    this.items.push(item)
    if (this.items.length >= this.max) this.drain()
    else if (!this.scheduled) {
      this.scheduled = true
      setImmediate(this.run)
    }
  }

  /** Builds every pending span now. */
  drain(): void {
    // Swap first: a finish() that ends another call appends to the fresh list.
    const items = this.items
    if (items.length === 0) return
    this.items = []
    for (let i = 0; i < items.length; i++) items[i]!.finish()
  }

  private run = (): void => {
    this.scheduled = false
    this.drain()
  }
}
