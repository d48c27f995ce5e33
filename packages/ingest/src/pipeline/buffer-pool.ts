/**
 * Reusable buffers for the rows of one request, from prepare until the spool
 * has written them. Each request needs ~200 KB for its rows; freshly allocated,
 * that was external memory, and V8 answers external memory growth with a full
 * mark-compact: in the ingest bench one every ~0.6 s with a 21-38 MB heap,
 * pauses up to 35 ms, which land directly on acknowledgement latency.
 *
 * A buffer must be given back only once nothing reads it any more (the
 * spool's write of it has completed).
 */
export class BufferPool {
  private readonly free: Buffer[] = []
  private readonly mine = new WeakSet<ArrayBuffer>()

  constructor(
    /** Size of every pooled buffer; larger requests are not pooled. */
    readonly bufferBytes: number,
    /** Buffers kept while unused; the rest are left to the GC. */
    private readonly maxFree: number,
  ) {}

  /** A pooled buffer of `bufferBytes`, or undefined when `minBytes` does not fit one. */
  take(minBytes: number): Buffer | undefined {
    if (minBytes > this.bufferBytes) return undefined
    const reused = this.free.pop()
    if (reused) return reused
    // Not from Node's shared pool: the whole ArrayBuffer is this buffer's.
    const fresh = Buffer.allocUnsafeSlow(this.bufferBytes)
    this.mine.add(fresh.buffer as ArrayBuffer)
    return fresh
  }

  /** Returns a buffer (or any view of it) that came from take(); anything else is ignored. */
  give(view: Uint8Array): void {
    const buffer = view.buffer as ArrayBuffer
    if (!this.mine.has(buffer) || this.free.length >= this.maxFree) return
    this.free.push(Buffer.from(buffer, 0, this.bufferBytes))
  }
}
