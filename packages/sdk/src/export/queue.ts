/**
 * Bounded FIFO ring, by count and by bytes. When either bound would be passed, a push
 * drops the oldest items: with the endpoint down the newest spans are the useful ones,
 * and memory stays flat however long the outage lasts and however large the spans.
 */
export class BoundedQueue<T> {
  private items: (T | undefined)[]
  private head = 0
  private count = 0
  private total = 0

  constructor(
    readonly capacity: number,
    private readonly maxBytes: number,
    private readonly sizeOf: (item: T) => number,
  ) {
    this.items = new Array<T | undefined>(capacity)
  }

  get size(): number {
    return this.count
  }

  /** The items' bytes, as sizeOf counts them. */
  get bytes(): number {
    return this.total
  }

  /** Adds an item; returns how many items were dropped to make room (the item itself when it alone is over maxBytes). */
  push(item: T): number {
    const size = this.sizeOf(item)
    if (size > this.maxBytes) return 1
    let dropped = 0
    while (this.count > 0 && (this.count >= this.capacity || this.total + size > this.maxBytes)) {
      this.shift()
      dropped++
    }
    this.items[(this.head + this.count) % this.capacity] = item
    this.count++
    this.total += size
    return dropped
  }

  /** Removes and returns the oldest items, up to `max` of them and `maxBytes` together (one at least, when any). */
  take(max: number, maxBytes = Infinity): T[] {
    const out: T[] = []
    let bytes = 0
    while (this.count > 0 && out.length < max) {
      const size = this.sizeOf(this.items[this.head] as T)
      if (out.length > 0 && bytes + size > maxBytes) break
      bytes += size
      out.push(this.shift())
    }
    return out
  }

  private shift(): T {
    const item = this.items[this.head] as T
    this.items[this.head] = undefined
    this.head = (this.head + 1) % this.capacity
    this.count--
    this.total -= this.sizeOf(item)
    return item
  }
}
