import { randomUUID } from 'node:crypto'
import type { ClientConnection } from './scoped-settings.js'

/**
 * chDB (chdb-node 3.4.0, libchdb 26.7) keeps the output a failed call had
 * already produced and prepends it to the output of the next successful call on
 * the same session, whatever project that call serves. Measured: after a
 * `throwIf` that failed at row 5, the next `SELECT 42` returned rows 0-4 and
 * then its own row; after a memory-limit failure, 25 MB of the failed query's
 * rows; after a timeout or a result-row limit, the rows sent so far. A failed
 * call that produced nothing (a syntax error) leaves earlier leftovers in
 * place. test/store-chdb-leftover.test.ts keeps the raw reproduction.
 *
 * The guard: after any failed call, and before the connection serves anyone
 * else (the caller holds the call gate's slot), run a query whose output is a
 * fresh marker and throw its output away. The leftover leaves with it. When
 * that drain fails too, every later call first drains again, and fails as a
 * store error rather than run on a session that may still hold rows. Cost:
 * one trivial query per failed call, ~2 ms (a failed call took 4.3 ms with the
 * drain, a successful one 2.2 ms, means of 20 on the 2-core dev host).
 */
export class LeftoverGuard {
  private dirty = false
  /** Bytes of another call's output thrown away since the store opened. */
  discardedBytes = 0
  /** Drains run since the store opened (one per failed call, plus retries). */
  drains = 0

  constructor(
    private readonly runText: (sql: string) => Promise<string>,
    /** The store error a failed drain becomes (the caller cannot be served safely). */
    private readonly failure: (reason: string, cause: unknown) => Error,
  ) {}

  /** Runs `call` on a clean session and leaves the session clean after it, failed or not. */
  async run<T>(call: () => Promise<T>): Promise<T> {
    if (this.dirty) await this.drain()
    try {
      return await call()
    } catch (err) {
      this.dirty = true
      // A drain failure must not hide the caller's own error; the next call retries it.
      await this.drain().catch(() => undefined)
      throw err
    }
  }

  /** Runs the marker query and discards whatever precedes the marker. */
  async drain(): Promise<void> {
    this.drains++
    const marker = `spanlens-drain-${randomUUID()}`
    let out: string
    try {
      out = await this.runText(`SELECT '${marker}'`)
    } catch (err) {
      // The engine's message stays in `cause`: ingest classifies an insert failure by
      // the ClickHouse type at the end of the message, and this one is transient.
      throw this.failure('the session could not be cleared after a failed call', err)
    }
    const at = out.lastIndexOf(`${marker}\n`)
    if (at < 0 || at + marker.length + 1 !== out.length) {
      throw this.failure(`the session drain returned ${out.length} bytes without its marker at the end`, undefined)
    }
    this.discardedBytes += at
    this.dirty = false
  }
}

/** The same connection with every call taken through `guard`. */
export function guardLeftovers(inner: ClientConnection, guard: LeftoverGuard): ClientConnection {
  return {
    query: (params) => guard.run(() => inner.query(params)),
    command: (params) => guard.run(() => inner.command(params)),
    exec: (params) => guard.run(() => inner.exec(params)),
    insert: (params) => guard.run(() => inner.insert(params)),
    ping: (params) => guard.run(() => inner.ping(params)),
    close: () => inner.close(),
  }
}
