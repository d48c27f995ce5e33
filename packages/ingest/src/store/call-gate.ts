import type { ClientConnection } from './scoped-settings.js'

/**
 * Embedded ClickHouse (chDB) runs one call at a time per process; the others
 * wait inside the native call, each holding one of libuv's 4 threadpool threads.
 * Four analyst queries in flight therefore left no thread for the spool's
 * writes and fsyncs, and acknowledgements stalled for the whole first query
 * (measured: 5.1 s). Waiting here instead holds no thread. Ingest calls go
 * before queued queries, so a busy dashboard cannot hold back the spool's drain.
 *
 * Going first is not enough when the inserter has a backlog: it queues its next
 * segment only after the previous insert's promise resolves and the segment is
 * removed, by which time a waiting query had the engine. One analyst re-posting a
 * 30 s query then let one insert through per query, and the spool filled (measured:
 * 134 MB in 92 s, 143 requests refused with SPOOL_FULL). An ingest call that says
 * another follows (`holdFor`) keeps the engine for the ingest lane until that call
 * arrives, or HOLD_MS passes.
 */
export type Lane = 'ingest' | 'query'

/**
 * How long the engine waits for the ingest call announced by the one that ended: the
 * inserter's removal of the segment and its next call take a few ms; a query waits
 * at most this long for an insert that does not come.
 */
export const HOLD_MS = 250

export interface RunOptions {
  /** Asked as the call ends: another call of this lane follows at once, so keep the engine for it (up to HOLD_MS). */
  holdFor?: () => boolean
}

export class CallGate {
  private running = 0
  private readonly waiting: Record<Lane, Array<() => void>> = { ingest: [], query: [] }
  /** Start times of the calls running now, oldest first. */
  private readonly started: number[] = []
  /** Slots kept for the ingest lane, each until its timer gives it to whoever waits. */
  private readonly held: NodeJS.Timeout[] = []

  constructor(private readonly limit: number) {}

  async run<T>(lane: Lane, call: () => Promise<T>, options: RunOptions = {}): Promise<T> {
    const kept = lane === 'ingest' ? this.held.shift() : undefined
    if (kept !== undefined) clearTimeout(kept)
    else if (this.running < this.limit) this.running++
    else await new Promise<void>((resolve) => this.waiting[lane].push(resolve))
    const startedAt = Date.now()
    this.started.push(startedAt)
    try {
      return await call()
    } finally {
      this.started.splice(this.started.indexOf(startedAt), 1)
      if (lane === 'ingest' && this.waiting.ingest.length === 0 && options.holdFor?.() === true) this.hold()
      else this.release()
    }
  }

  /** What the engine is doing now, for a readiness probe that must not wait behind a long query. */
  activity(): { busySince: number | null; queued: number } {
    return { busySince: this.started[0] ?? null, queued: this.queued }
  }

  /** Calls waiting for their turn. */
  get queued(): number {
    return this.waiting.ingest.length + this.waiting.query.length
  }

  /** Keeps the slot just freed for the ingest lane's next call, for at most HOLD_MS. */
  private hold(): void {
    const timer: NodeJS.Timeout = setTimeout(() => {
      const i = this.held.indexOf(timer)
      if (i < 0) return
      this.held.splice(i, 1)
      this.release()
    }, HOLD_MS)
    // A hold keeps nothing alive: a process that is done exits without waiting for it.
    timer.unref()
    this.held.push(timer)
  }

  private release(): void {
    // The slot passes straight to the next caller, so `running` stays as it is.
    const next = this.waiting.ingest.shift() ?? this.waiting.query.shift()
    if (next) next()
    else this.running--
  }
}

/**
 * The same connection with every call taken through `gate`, in the query lane;
 * a ping goes in the ingest lane so that a readiness probe waits at most for the
 * call running now, not for every query queued behind it.
 */
export function gateCalls(inner: ClientConnection, gate: CallGate): ClientConnection {
  return {
    query: (params) => gate.run('query', () => inner.query(params)),
    command: (params) => gate.run('query', () => inner.command(params)),
    exec: (params) => gate.run('query', () => inner.exec(params)),
    insert: (params) => gate.run('query', () => inner.insert(params)),
    ping: (params) => gate.run('ingest', () => inner.ping(params)),
    close: () => inner.close(),
  }
}
