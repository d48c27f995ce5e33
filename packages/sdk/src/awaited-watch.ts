import { diag } from './diag.js'
import { getRuntime } from './runtime.js'

/**
 * `await observe(name, fn)` gives back the traced function: fn never runs and nothing is sent.
 * observe.ts gives each traced function a `then` getter, which every await and promise
 * resolution reads; the first read watches the function for a call. Those read and never
 * called are named once, when no call can come any more.
 */

/** Traced functions read as promises (awaited, resolved), whether each was called since. */
const awaitedFunctions: { name: string; called: boolean }[] = []
/** How many of them are watched at once: enough to name a mistake, bounded however often it repeats. */
const MAX_WATCHED = 16

export function watchAwaited(name: string): { name: string; called: boolean } | undefined {
  // Before init() nothing would be said, and a traced call then passes straight through without reading `opts`.
  if (!getRuntime()) return undefined
  if (awaitedFunctions.length >= MAX_WATCHED) {
    const uncalled = awaitedFunctions.filter((w) => !w.called)
    awaitedFunctions.length = 0
    awaitedFunctions.push(...uncalled)
    if (awaitedFunctions.length >= MAX_WATCHED) return undefined
  }
  const watch = { name, called: false }
  awaitedFunctions.push(watch)
  return watch
}

/**
 * Says once which traced functions were awaited as if observe() had run them, and never called:
 * at shutdown() and when the process ends (init.ts), when no call can come any more. Never at
 * flush(): a function returned from an async function is resolved first and called later, and
 * a flush can come in between.
 */
export function reportAwaitedUncalled(): void {
  const names = [...new Set(awaitedFunctions.filter((w) => !w.called).map((w) => w.name))]
  awaitedFunctions.length = 0
  if (names.length === 0) return
  diag.warnOnce(
    `observe() returned a traced function that was awaited (or resolved as a promise) and never called: ${names.map((n) => `'${n}'`).join(', ')}. observe(name, fn) does not run fn, so no span was made: call the function it returns, or use span(name, fn) to run fn now`,
  )
}
