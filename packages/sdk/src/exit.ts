import { diag } from './diag.js'

const SIGTERM_FLUSH_MS = 2000
const EXIT_FLUSH_MS = 5000

/**
 * Flushes on `beforeExit` and SIGTERM without changing how the app exits.
 * beforeExit: the flush's request keeps the loop alive just long enough, and
 * the next beforeExit finds an empty queue. SIGTERM: a listener disables Node's
 * default "exit on SIGTERM", so when ours is the only one we re-raise the signal
 * after flushing; when the app has its own listener, exiting stays its call.
 */
export function installExitHooks(flush: (timeoutMs: number) => Promise<boolean>): () => void {
  let flushing = false
  let queuedAtLastFlush = -1
  const onBeforeExit = () => {
    // Without this guard an unreachable endpoint would make every beforeExit
    // start another flush and the app would never exit.
    if (flushing || diag.stats.spansQueued === queuedAtLastFlush) return
    flushing = true
    queuedAtLastFlush = diag.stats.spansQueued
    void flush(EXIT_FLUSH_MS).finally(() => {
      flushing = false
    })
  }
  const onSigterm = () => {
    const alone = process.listenerCount('SIGTERM') === 1
    const timer = setTimeout(() => undefined, SIGTERM_FLUSH_MS)
    void Promise.race([flush(SIGTERM_FLUSH_MS), new Promise((r) => setTimeout(r, SIGTERM_FLUSH_MS).unref())])
      .catch(() => undefined)
      .finally(() => {
        clearTimeout(timer)
        if (alone) {
          process.removeListener('SIGTERM', onSigterm)
          try {
            process.kill(process.pid, 'SIGTERM')
          } catch (err) {
            diag.warnOnce(`could not re-raise SIGTERM: ${String(err)}`)
          }
        }
      })
  }
  process.on('beforeExit', onBeforeExit)
  process.on('SIGTERM', onSigterm)
  return () => {
    process.removeListener('beforeExit', onBeforeExit)
    process.removeListener('SIGTERM', onSigterm)
  }
}
