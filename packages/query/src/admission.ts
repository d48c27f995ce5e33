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

  async run<T>(project: string, query: () => Promise<T>): Promise<T> {
    await this.acquire(project)
    try {
      return await query()
    } finally {
      this.release(project)
    }
  }

  /** Queries running and waiting, for tests and metrics. */
  stats(project: string): { running: number; waiting: number } {
    return { running: this.running.get(project) ?? 0, waiting: this.waiting.get(project)?.length ?? 0 }
  }

  private get retryAfterSeconds(): number {
    return Math.max(1, Math.ceil(this.limits.queueTimeoutMs / 1000))
  }

  private canRun(project: string): boolean {
    return this.total < this.limits.total && (this.running.get(project) ?? 0) < this.limits.perProject
  }

  private start(project: string): void {
    this.lastStart.set(project, ++this.starts)
    this.total++
    this.running.set(project, (this.running.get(project) ?? 0) + 1)
  }

  private acquire(project: string): Promise<void> {
    const queue = this.waiting.get(project)
    if (!queue && this.canRun(project)) {
      this.start(project)
      return Promise.resolve()
    }
    if ((queue?.length ?? 0) >= this.limits.queuePerProject) {
      return Promise.reject(errors.QUERY_BUSY(`project has ${this.limits.queuePerProject} queries waiting`, { retryAfterSeconds: this.retryAfterSeconds }))
    }
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        grant: resolve,
        timer: setTimeout(() => {
          this.dropWaiter(project, waiter)
          reject(errors.QUERY_BUSY(`no query slot within ${this.limits.queueTimeoutMs} ms`, { retryAfterSeconds: this.retryAfterSeconds }))
        }, this.limits.queueTimeoutMs),
      }
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
  }

  private release(project: string): void {
    this.total--
    const left = (this.running.get(project) ?? 1) - 1
    if (left === 0) this.running.delete(project)
    else this.running.set(project, left)
    if (left === 0 && !this.waiting.has(project)) this.lastStart.delete(project)
    this.grantNext()
  }

  /** Gives free slots to waiting projects that may run, the one that started a query least recently first. */
  private grantNext(): void {
    while (this.total < this.limits.total) {
      let next: string | undefined
      for (const project of this.waiting.keys()) {
        if (!this.canRun(project)) continue
        if (next === undefined || (this.lastStart.get(project) ?? 0) < (this.lastStart.get(next) ?? 0)) next = project
      }
      if (next === undefined) return
      const list = this.waiting.get(next) as Waiter[]
      const waiter = list.shift() as Waiter
      if (list.length === 0) this.waiting.delete(next)
      clearTimeout(waiter.timer)
      this.start(next)
      waiter.grant()
    }
  }
}
