/** How long closing waits for a cancelled statement to stop before it lets the process go on. */
const STOP_WAIT_MS = 10_000

/**
 * Cancels every statement the embedded engine is running, then waits (up to STOP_WAIT_MS) until
 * nothing of chDB's runs in this process. For closing the store: chDB has no interrupt in its C
 * API, so a statement runs to its end after its caller stopped waiting, and until it ends the
 * process cannot exit (process.exit waited for an 18 s query here) nor open another data
 * directory. What runs at close is a migration cut short by shutdown (013's backfill runs ~35 s
 * at 100 M spans). The engine's own `KILL QUERY`, from a second session on the same directory
 * (sessions on one directory share the engine), stops a statement within its current block:
 * 60 ms for a scan measured here. A migration stopped so is not recorded, and the next start
 * applies it again (docs/clickhouse.md, "Migrations at start", names the one migration that
 * does not take that well).
 */
export async function cancelRunning(dir: string): Promise<void> {
  // Loaded here, by an embedded store that has chDB's engine loaded already: importing the root
  // module loads the native binding, which no other process of Spanlens (a unit test, the served
  // engine's parent) may load.
  const { drainPending, Session } = await import('chdb')
  try {
    const session = new Session(dir)
    try {
      // Every statement but this one: in embedded mode the engine runs only this store's.
      await session.queryAsync("KILL QUERY WHERE query NOT ILIKE 'KILL QUERY%' ASYNC FORMAT Null")
    } finally {
      session.close()
    }
  } catch {
    // The engine could not take the statement: what runs ends on its own, and the wait below is bounded.
  }
  let timer: NodeJS.Timeout | undefined
  await Promise.race([drainPending(), new Promise<void>((resolve) => (timer = setTimeout(resolve, STOP_WAIT_MS).unref()))])
  clearTimeout(timer)
}
