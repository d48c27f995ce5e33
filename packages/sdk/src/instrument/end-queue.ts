/**
 * Standalone LLM calls with work due (see LlmCall): a call is queued when it
 * starts, to describe its request while that is on the network, and when it
 * ends, to build its span. The queue runs in one setImmediate, so that work
 * happens while the app waits on I/O instead of inside the call it just made.
 *
 * Bounded: at `max` entries the batch runs at once, on the call that
 * filled it, so a loop that never yields (nothing but microtasks) cannot grow it.
 * flush() and shutdown() drain it before the exporter's own flush.
 */
export interface Finishable {
  /** Does what is due: describe the request; once ended, build and end the span. Never throws. */
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

  /** Runs everything queued now. */
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
