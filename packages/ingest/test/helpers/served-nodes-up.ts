import { afterAll, beforeAll, beforeEach } from 'vitest'
import { provided, takeDatabasesNamed } from './store-mode.js'

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

/**
 * A served engine lives for the whole run, and every database left on it costs it CPU while idle:
 * an idle engine used 1.5% of a core with none, 5.5% with 50 migrated databases and 11% with 150,
 * on a 2-core CI host that runs three engines beside the tests. Registered first, so it runs after
 * the file's own afterAll hooks have stopped its servers.
 */
afterAll(async () => {
  const ch = provided()
  const names = takeDatabasesNamed()
  if (!ch || names.length === 0) return
  const auth = `Basic ${Buffer.from(`${ch.username}:${ch.password}`).toString('base64')}`
  await Promise.all(
    (ch.nodes ?? [ch.url]).map(async (url) => {
      for (const name of names) {
        try {
          const res = await fetch(new URL('/', url), { method: 'POST', headers: { authorization: auth }, body: `DROP DATABASE IF EXISTS ${name} SYNC`, signal: AbortSignal.timeout(30_000) })
          const text = await res.text()
          if (!res.ok) console.warn(`DROP DATABASE ${name} on ${url}: ${res.status} ${text.slice(0, 300)}`)
        } catch {
          // An engine restarting: its databases are left for the run's end, which removes its data directory.
        }
      }
    }),
  )
}, 120_000)

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
