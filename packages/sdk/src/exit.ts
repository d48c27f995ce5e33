import { diag } from './diag.js'

const SIGTERM_FLUSH_MS = 2000
const EXIT_FLUSH_MS = 5000

/** What the exit hooks do to the live SDK (init.ts). */
export interface ExitSubject {
  /** Turns ended LLM calls waiting in their batch into queued spans (counted in spansQueued). */
  drain(): void
  /** Spans not yet accepted or dropped. */
  unsent(): number
  flush(timeoutMs: number): Promise<boolean>
  /** The process exits now: what is unsent is counted as dropped. */
  abandon(): void
}

/**
 * Exit without losing spans silently and without holding a finished app beyond
 * EXIT_FLUSH_MS, whatever the endpoint does. The export requests never keep the
 * process alive (http1-client.ts): with `flushOnExit`, the exit flush's own
 * deadline timer does, once; without it nothing does. Either way, what has not
 * left when the process exits is counted as dropped.
 *
 * beforeExit: one flush for the spans that ended; when it runs out of time its
 * requests are left behind, and the next beforeExit starts another only for
 * spans that ended since (another flush for the same spans would hold an app
 * whose endpoint hangs for another 5 s, and again after that). SIGTERM: a
 * listener disables Node's default "exit on SIGTERM", so when ours is the only
 * one we re-raise the signal after flushing; when the app has its own listener,
 * exiting stays its call.
 */
export function installExitHooks(sdk: ExitSubject, flushOnExit: boolean): () => void {
  let flushing = false
  /** The last exit flush ran out of time, and spansQueued when it ended. */
  let stuck = false
  let queuedAfterFlush = -1
  const onBeforeExit = () => {
    if (flushing) return
    sdk.drain()
    if (sdk.unsent() === 0) return
    if (stuck && diag.stats.spansQueued === queuedAfterFlush) return
    flushing = true
    void sdk.flush(EXIT_FLUSH_MS).then((ok) => {
      flushing = false
      stuck = !ok
      queuedAfterFlush = diag.stats.spansQueued
    })
  }
  const onSigterm = () => {
    const alone = process.listenerCount('SIGTERM') === 1
    const timer = setTimeout(() => undefined, SIGTERM_FLUSH_MS)
    void Promise.race([sdk.flush(SIGTERM_FLUSH_MS), new Promise((r) => setTimeout(r, SIGTERM_FLUSH_MS).unref())])
      .catch(() => undefined)
      .finally(() => {
        clearTimeout(timer)
        if (alone) {
          // The signal ends the process without an 'exit' event: what the exit listener says and counts is done here.
          sdk.abandon()
          process.removeListener('SIGTERM', onSigterm)
          try {
            process.kill(process.pid, 'SIGTERM')
          } catch (err) {
            diag.warnOnce(`could not re-raise SIGTERM: ${String(err)}`)
          }
        }
      })
  }
  const onExit = () => sdk.abandon()
  if (flushOnExit) {
    process.on('beforeExit', onBeforeExit)
    process.on('SIGTERM', onSigterm)
  }
  process.on('exit', onExit)
  return () => {
    process.removeListener('beforeExit', onBeforeExit)
    process.removeListener('SIGTERM', onSigterm)
    process.removeListener('exit', onExit)
  }
}
