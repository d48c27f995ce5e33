import { beforeAll, beforeEach } from 'vitest'
import { provided } from './store-mode.js'

/**
 * setupFile of the remote and cluster projects: each file and each test starts with
 * every served engine answering /ping. clickhouse-local can end in std::terminate when a peer
 * resets a native-protocol connection (docs/clickhouse.md, "Restart"); the harness
 * prints why and starts the engine again on its data and ports within seconds
 * (global-clickhouse.ts). A test that started meanwhile failed with a refused
 * connection that says nothing about Spanlens; its retry (vitest.config.ts) waits here.
 */
const WAIT_MS = 60_000

async function everyNodeUp(): Promise<void> {
  const ch = provided()
  if (!ch) return
  await Promise.all((ch.nodes ?? [ch.url]).map(waitForPing))
}

// Registered before the file's own hooks, so its beforeAll (a store opened, a server
// started) does not meet a node that is still starting again.
beforeAll(everyNodeUp, WAIT_MS + 5_000)
beforeEach(everyNodeUp, WAIT_MS + 5_000)

async function waitForPing(url: string): Promise<void> {
  const until = Date.now() + WAIT_MS
  for (;;) {
    try {
      const res = await fetch(new URL('/ping', url), { signal: AbortSignal.timeout(2_000) })
      await res.arrayBuffer()
      if (res.ok) return
    } catch {
      // not listening yet
    }
    if (Date.now() > until) throw new Error(`served ClickHouse at ${url} did not answer /ping within ${WAIT_MS / 1000} s`)
    await new Promise((r) => setTimeout(r, 200))
  }
}
