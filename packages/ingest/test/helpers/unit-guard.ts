import childProcess from 'node:child_process'
import { syncBuiltinESMExports } from 'node:module'
import net from 'node:net'
import { afterEach, vi } from 'vitest'

/**
 * Setup file of the `unit` project. Its files share one process without isolation
 * and run in seconds; that holds only while none of them starts ClickHouse (chDB's
 * addon, or the engine through koffi), a server, a connection or a process. Each of
 * those fails here naming the rule; and since product code may catch the error (a
 * refused connection is a 502, not a crash), the test that tried fails afterwards too.
 */
const attempts: string[] = []

function refuse(what: string): never {
  attempts.push(what)
  throw new Error(`a unit test must not ${what}: this test belongs in an integration file (*.test.ts, not *.unit.test.ts)`)
}

// The store module imports chDB's connection at its top, so code that only renders SQL
// (migrations, identifiers) can still be imported; opening the embedded engine cannot.
vi.mock('chdb/connection', () => ({ createChdbConnection: () => refuse('open embedded ClickHouse (chDB)') }))
process.dlopen = () => refuse("load a native addon (chDB's engine, koffi)")
net.Socket.prototype.connect = function connect() {
  return refuse('open a connection')
}
net.Server.prototype.listen = function listen() {
  return refuse('listen on a port')
}
const cp = childProcess as unknown as Record<string, unknown>
for (const name of ['spawn', 'spawnSync', 'exec', 'execSync', 'execFile', 'execFileSync', 'fork']) {
  cp[name] = () => refuse(`start a process (child_process.${name})`)
}
// ESM importers of node:child_process and node:net see the replacements too.
syncBuiltinESMExports()

afterEach(() => {
  const tried = [...new Set(attempts.splice(0))]
  if (tried.length > 0) throw new Error(`a unit test must not ${tried.join(', ')}: this test belongs in an integration file`)
})
