/**
 * Fixed-capacity FIFO ring. When full, a push overwrites the oldest item: with
 * the endpoint down the newest spans are the useful ones, and memory stays flat
 * however long the outage lasts.
 */
export class BoundedQueue<T> {
  private items: (T | undefined)[]
  private head = 0
  private count = 0

  constructor(readonly capacity: number) {
    this.items = new Array<T | undefined>(capacity)
  }

  get size(): number {
    return this.count
  }

  /** Adds an item; returns true when the oldest was dropped to make room. */
  push(item: T): boolean {
    const tail = (this.head + this.count) % this.capacity
    this.items[tail] = item
    if (this.count < this.capacity) {
      this.count++
      return false
    }
    this.head = (this.head + 1) % this.capacity
    return true
  }

  /** Removes and returns up to `max` of the oldest items. */
  take(max: number): T[] {
    const n = Math.min(max, this.count)
    const out = new Array<T>(n)
    for (let i = 0; i < n; i++) {
      out[i] = this.items[this.head] as T
      this.items[this.head] = undefined
      this.head = (this.head + 1) % this.capacity
    }
    this.count -= n
    return out
  }
}
