import { errors } from './errors.js'

export interface AdmissionLimits {
  /** Queries of one project running at once. */
  perProject: number
  /** Queries of all projects running at once. */
  total: number
  /** Queries of one project waiting for a slot; one more answers 429. */
  queuePerProject: number
  /** Longest wait for a slot; a query still waiting then answers 429. */
  queueTimeoutMs: number
}

/**
 * Embedded ClickHouse runs one call at a time behind a FIFO gate, and a route
 * makes several calls in turn (a span listing probes up to five windows). With
 * two requests admitted, each of those calls queued behind the other request's
 * next call: a /spans of one project waited behind a second 2 s analyst query of
 * another, which admission had queued after it. One request at a time keeps
 * each project's turn whole. Remote servers run queries in parallel; 8 in all
 * stays under clickhouse-js's 10 keep-alive sockets, leaving two for ingest.
 */
const DEFAULT_ADMISSION: Record<'embedded' | 'remote', Omit<AdmissionLimits, 'queueTimeoutMs'>> = {
  embedded: { perProject: 1, total: 1, queuePerProject: 8 },
  remote: { perProject: 4, total: 8, queuePerProject: 32 },
}

/**
 * The defaults for a mode. A request waits at least for the query running
 * ahead of it, which may take the whole SQL time limit, so the wait allowed is
 * twice that limit (30 s at least): with a 30 s limit, a 30 s wait answered 429
 * to the request queued right behind a query that ran to its limit.
 */
export function defaultAdmission(mode: 'embedded' | 'remote', sqlMaxExecutionSeconds: number): AdmissionLimits {
  return { ...DEFAULT_ADMISSION[mode], queueTimeoutMs: Math.max(30_000, 2 * sqlMaxExecutionSeconds * 1000) }
}

interface Waiter {
  grant: () => void
  timer: NodeJS.Timeout
  slots: number
  /** Stops watching the caller's signal once the waiter is granted or gone. */
  unwatch: () => void
}

/**
 * Admits analyst queries per project. A project runs at most `perProject`
 * queries at once and queues at most `queuePerProject` more; a freed slot goes
 * to the waiting project that started a query least recently, so a project that sends many heavy
 * queries delays another project's query by at most one of its queries per slot,
 * not by its whole backlog. Overflow and a wait beyond `queueTimeoutMs` are
 * SPANLENS_QUERY_BUSY (429) with Retry-After.
 */
export class QueryAdmission {
  private total = 0
  private readonly running = new Map<string, number>()
  private readonly waiting = new Map<string, Waiter[]>()
  /** When each project last started a query (a sequence number); the least recent goes first. */
  private readonly lastStart = new Map<string, number>()
  private starts = 0

  constructor(readonly limits: AdmissionLimits) {}

  /**
   * Runs `query` once admitted. `slots`: how many queries it runs at once (a drift
   * report computes several signals side by side), capped at the per-project limit;
   * it counts that many against both limits, so the sockets they assume hold.
   * `signal`: the caller went away (its client closed the connection). A query that
   * would wait, or still waits, then leaves the queue with SPANLENS_CLIENT_GONE and never
   * runs: a console reloaded five times would otherwise queue five copies of a slow
   * report, each holding the project's turn in embedded mode. One a slot takes at once
   * runs (a client that half-closed its connection to wait for its answer looks gone
   * until the server writes). A query already running is not cancelled: on a cluster of
   * served engines, a cancelled Distributed query can end the other shard (docs/clickhouse.md).
   */
  async run<T>(project: string, query: () => Promise<T>, slots = 1, signal?: AbortSignal): Promise<T> {
    const n = this.slotsFor(slots)
    await this.acquire(project, n, signal)
    try {
      return await query()
    } finally {
      this.release(project, n)
    }
  }

  /** What a request that would run `wanted` queries at once is admitted as. */
  slotsFor(wanted: number): number {
    return Math.max(1, Math.min(wanted, this.limits.perProject, this.limits.total))
  }

  /** Queries running and waiting, for tests and metrics. */
  stats(project: string): { running: number; waiting: number } {
    return { running: this.running.get(project) ?? 0, waiting: this.waiting.get(project)?.length ?? 0 }
  }

  private get retryAfterSeconds(): number {
    return Math.max(1, Math.ceil(this.limits.queueTimeoutMs / 1000))
  }

  private canRun(project: string, slots: number): boolean {
    return this.total + slots <= this.limits.total && (this.running.get(project) ?? 0) + slots <= this.limits.perProject
  }

  private start(project: string, slots: number): void {
    this.lastStart.set(project, ++this.starts)
    this.total += slots
    this.running.set(project, (this.running.get(project) ?? 0) + slots)
  }

  private acquire(project: string, slots: number, signal: AbortSignal | undefined): Promise<void> {
    const queue = this.waiting.get(project)
    if (!queue && this.canRun(project, slots)) {
      this.start(project, slots)
      return Promise.resolve()
    }
    if (signal?.aborted) return Promise.reject(errors.CLIENT_GONE())
    if ((queue?.length ?? 0) >= this.limits.queuePerProject) {
      return Promise.reject(errors.QUERY_BUSY(`project has ${this.limits.queuePerProject} queries waiting`, { retryAfterSeconds: this.retryAfterSeconds }))
    }
    return new Promise<void>((resolve, reject) => {
      const leave = (err: Error) => {
        clearTimeout(waiter.timer)
        waiter.unwatch()
        this.dropWaiter(project, waiter)
        reject(err)
      }
      const onAbort = () => leave(errors.CLIENT_GONE())
      const waiter: Waiter = {
        slots,
        grant: () => {
          waiter.unwatch()
          resolve()
        },
        timer: setTimeout(
          () => leave(errors.QUERY_BUSY(`no query slot within ${this.limits.queueTimeoutMs} ms`, { retryAfterSeconds: this.retryAfterSeconds })),
          this.limits.queueTimeoutMs,
        ),
        unwatch: () => signal?.removeEventListener('abort', onAbort),
      }
      signal?.addEventListener('abort', onAbort, { once: true })
      const list = this.waiting.get(project) ?? []
      list.push(waiter)
      this.waiting.set(project, list)
    })
  }

  private dropWaiter(project: string, waiter: Waiter): void {
    const list = this.waiting.get(project)
    if (!list) return
    const at = list.indexOf(waiter)
    if (at >= 0) list.splice(at, 1)
    if (list.length === 0) this.waiting.delete(project)
    // The waiter that left may have headed its project's queue wanting more slots than
    // are free; the one behind it may fit now.
    if (at === 0) this.grantNext()
  }

  private release(project: string, slots: number): void {
    this.total -= slots
    const left = (this.running.get(project) ?? slots) - slots
    if (left === 0) this.running.delete(project)
    else this.running.set(project, left)
    if (left === 0 && !this.waiting.has(project)) this.lastStart.delete(project)
    this.grantNext()
  }

  /** Gives free slots to waiting projects that may run, the one that started a query least recently first. */
  private grantNext(): void {
    while (this.total < this.limits.total) {
      let next: string | undefined
      for (const [project, list] of this.waiting) {
        // A project's queue is served in order: its first waiter decides.
        if (!this.canRun(project, (list[0] as Waiter).slots)) continue
        if (next === undefined || (this.lastStart.get(project) ?? 0) < (this.lastStart.get(next) ?? 0)) next = project
      }
      if (next === undefined) return
      const list = this.waiting.get(next) as Waiter[]
      const waiter = list.shift() as Waiter
      if (list.length === 0) this.waiting.delete(next)
      clearTimeout(waiter.timer)
      this.start(next, waiter.slots)
      waiter.grant()
    }
  }
}
