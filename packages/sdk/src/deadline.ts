/**
 * Runs `round` while `more()` holds, for at most `timeoutMs`; true when it finished in time.
 * The timer is ref'd: the export's and the scores' requests do not hold the process
 * (export/http1-client.ts), so this is what keeps an app that awaits a flush, or is exiting
 * (exit.ts), alive until the work is done or the deadline passed.
 */
export async function whileWithin(timeoutMs: number, more: () => boolean, round: () => Promise<unknown>): Promise<boolean> {
  let timedOut = false
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      timedOut = true
      resolve()
    }, timeoutMs)
  })
  const work = (async () => {
    while (!timedOut && more()) await round()
  })()
  await Promise.race([work, deadline])
  clearTimeout(timer)
  return !timedOut
}
