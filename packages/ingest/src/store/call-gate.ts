import type { ClientConnection } from './scoped-settings.js'

/**
 * Embedded ClickHouse (chDB) runs one call at a time per process; the others
 * wait inside the native call, each holding one of libuv's 4 threadpool threads.
 * Four analyst queries in flight therefore left no thread for the spool's
 * writes and fsyncs, and acknowledgements stalled for the whole first query
 * (measured: 5.1 s). Waiting here instead holds no thread. Ingest calls go
 * before queued queries, so a busy dashboard cannot hold back the spool's drain.
 */
export type Lane = 'ingest' | 'query'

export class CallGate {
  private running = 0
  private readonly waiting: Record<Lane, Array<() => void>> = { ingest: [], query: [] }
  /** Start times of the calls running now, oldest first. */
  private readonly started: number[] = []

  constructor(private readonly limit: number) {}

  async run<T>(lane: Lane, call: () => Promise<T>): Promise<T> {
    if (this.running < this.limit) this.running++
    else await new Promise<void>((resolve) => this.waiting[lane].push(resolve))
    const startedAt = Date.now()
    this.started.push(startedAt)
    try {
      return await call()
    } finally {
      this.started.splice(this.started.indexOf(startedAt), 1)
      this.release()
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
