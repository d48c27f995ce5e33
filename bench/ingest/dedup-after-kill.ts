// Does ClickHouse keep an insert that was retried under its insert_deduplication_token after the
// engine was killed while the insert ran? Spanlens relies on that token for every retry of a spool
// segment (docs/ingest.md, "Durability"). No Spanlens code takes part but the engine's supervisor
// (what `spanlens clickhouse serve` runs), started again here on the same data and ports after
// each kill, as the command does (the command itself gives up after 5 exits within 30 s).
//
//   cd bench && node --conditions=@spanlens/source --import tsx ingest/dedup-after-kill.ts [--rounds 60] [--writers 4]
//
// Each round: `writers` loops insert 200-row blocks into a MergeTree with
// non_replicated_deduplication_window (as the spans table has), each under a token of its own;
// the engine is killed with SIGKILL 150–650 ms in; every insert that got no answer is retried
// under its token once the engine is back, until it succeeds; then every block must be there.
// A block that is missing although its retry succeeded is an insert the engine deduplicated
// against an id it recorded before it died, for a part it never committed (MergeTreeSink
// records the id, then renames the temporary part into place).
import { mkdtempSync, rmSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { ClickHouseLogLevel, createClient, type ClickHouseClient } from '@clickhouse/client'
import { startClickHouseServer, type ClickHouseServer } from '../../packages/ingest/src/clickhouse-server/supervisor.js'
import { twoFreePorts } from '../lib/served-clickhouse.js'

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '60' }, writers: { type: 'string', default: '4' } } })
const ROUNDS = Number(values.rounds)
const WRITERS = Number(values.writers)
const ROWS = 200

const dir = mkdtempSync(join(tmpdir(), 'spanlens-dedup-kill-'))
const ports = await twoFreePorts()
const options = { dataDir: join(dir, 'clickhouse'), host: '127.0.0.1', httpPort: ports.http, tcpPort: ports.tcp, username: 'default', password: '' }
let engine: ClickHouseServer = await startClickHouseServer(options)
const connect = () => createClient({ url: engine.httpUrl, request_timeout: 10_000, log: { level: ClickHouseLogLevel.OFF } })
let client = connect()

const insert = (c: ClickHouseClient, id: number) =>
  c.insert({
    table: 't',
    values: Array.from({ length: ROWS }, (_, i) => ({ k: id * ROWS + i, v: 'x'.repeat(50) })),
    format: 'JSONEachRow',
    clickhouse_settings: { insert_deduplication_token: `block-${id}` },
  })

await client.command({ query: 'CREATE TABLE t (k UInt64, v String) ENGINE = MergeTree ORDER BY k SETTINGS non_replicated_deduplication_window = 100000' })
console.log(`dedup-after-kill: ${ROUNDS} rounds, ${WRITERS} writers, ${ROWS}-row blocks; load ${loadavg()[0]?.toFixed(2)}`)
let next = 0
const everInDoubt = new Set<number>()
const missing: number[] = []
for (let round = 0; round < ROUNDS; round++) {
  const inDoubt: number[] = []
  let going = true
  const writer = async () => {
    while (going) {
      const id = next++
      try {
        await insert(client, id)
      } catch {
        inDoubt.push(id)
        await new Promise((r) => setTimeout(r, 20))
      }
    }
  }
  const writers = Array.from({ length: WRITERS }, writer)
  await new Promise((r) => setTimeout(r, 150 + Math.random() * 500))
  process.kill(engine.pid, 'SIGKILL')
  await engine.exited
  await new Promise((r) => setTimeout(r, 100))
  going = false
  await Promise.all(writers)
  engine = await startClickHouseServer(options)
  await client.close().catch(() => undefined)
  client = connect()
  for (const id of inDoubt) {
    for (let attempt = 1; ; attempt++) {
      try {
        await insert(client, id)
        break
      } catch (err) {
        if (attempt >= 50) throw err
        await new Promise((r) => setTimeout(r, 100))
      }
    }
  }
  for (const id of inDoubt) everInDoubt.add(id)
  const rs = await client.query({ query: 'SELECT DISTINCT intDiv(k, {rows:UInt64}) AS b FROM t', query_params: { rows: ROWS }, format: 'JSONEachRow' })
  const have = new Set((await rs.json<{ b: string }>()).map((r) => Number(r.b)))
  const lost = Array.from({ length: next }, (_, i) => i).filter((i) => !have.has(i) && !missing.includes(i))
  for (const id of lost) {
    missing.push(id)
    console.log(
      everInDoubt.has(id)
        ? `round ${round + 1}: block ${id} is missing; its insert got no answer before a kill, and its retry under the same token succeeded`
        : `round ${round + 1}: block ${id} is missing; its insert was answered with success`,
    )
  }
}
console.log(
  `${next} blocks inserted, ${everInDoubt.size} of them retried after a kill, ${missing.length} missing (${missing.join(', ') || 'none'}); load ${loadavg()[0]?.toFixed(2)}`,
)
await client.close()
await engine.stop()
rmSync(dir, { recursive: true, force: true })
// exitCode, not exit(): a pipe takes stdout asynchronously, and exit() could cut the last lines.
process.exitCode = missing.length > 0 ? 1 : 0
