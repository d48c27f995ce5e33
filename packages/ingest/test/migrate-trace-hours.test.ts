import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadMigrations, migrate, type Store } from '../src/store/index.js'
import { backfillAgain, backfillCutShort, storeBefore } from './helpers/migrating.js'
import { tempDir } from './helpers/tmp.js'

/**
 * clickhouse/013 adds trace_hours, each trace's roots' and spans' earliest and latest starts
 * by hour, to a store that already holds spans: the spans stored before it are in it once the
 * migration applies, the view adds those stored after, and it says what the spans say.
 */
const MIGRATION = '013_trace_hours.sql'
const HOUR = 3_600_000
// Recent whole hours (inside the retention).
const T0 = Math.floor(Date.now() / HOUR) * HOUR - 6 * HOUR
const fmt = (ms: number) => new Date(ms).toISOString().replace('T', ' ').replace('Z', '')

let dir: ReturnType<typeof tempDir>
let store: Store
let applied: string[]

function row(trace: number, span: number, at: number, o: { root?: boolean; contentFilled?: number } = {}): Record<string, unknown> {
  return {
    project_id: 'p',
    trace_id: trace.toString(16).padStart(32, '0'),
    span_id: (trace * 100 + span).toString(16).padStart(16, '0'),
    parent_span_id: o.root === true ? '' : (trace * 100).toString(16).padStart(16, '0'),
    name: 'chat',
    kind: 'llm',
    service_name: 'svc',
    status_code: 'ok',
    start_time: fmt(at),
    end_time: fmt(at + 1000),
    ...(o.contentFilled ? { content_filled: o.contentFilled } : {}),
  }
}

const before = [
  row(1, 0, T0 + 5 * 60_000, { root: true }),
  row(1, 1, T0 + 10 * 60_000),
  row(1, 2, T0 + HOUR + 60_000),
  row(2, 1, T0 + 2 * HOUR + 30_000),
  row(3, 0, T0 + 3 * HOUR + 1, { root: true }),
  row(3, 0, T0 + 3 * HOUR + 1, { root: true }),
]
// A version the content merge wrote (content_filled set), moved here to tell it apart: never read.
const merged = row(2, 1, T0 + 2 * HOUR + 90_000, { contentFilled: 1 })

/** The table per hour and trace, as the listing reads it (rows not merged yet folded). */
async function table(store: Store): Promise<Array<Record<string, string | null>>> {
  const rs = await store.client.query({
    query: `SELECT hour, trace_id, toString(min(first_root)) AS first_root, toString(max(last_root)) AS last_root,
              toString(min(first_start)) AS first_start, toString(max(last_start)) AS last_start
            FROM trace_hours WHERE project_id = 'p' GROUP BY hour, trace_id ORDER BY hour, trace_id`,
    format: 'JSONEachRow',
  })
  return rs.json()
}

/** The same from the spans as sent. */
async function fromSpans(store: Store): Promise<Array<Record<string, string | null>>> {
  const rs = await store.client.query({
    query: `SELECT toStartOfHour(start_time, 'UTC') AS hour, trace_id,
              toString(minIf(toNullable(start_time), parent_span_id = '')) AS first_root, toString(maxIf(toNullable(start_time), parent_span_id = '')) AS last_root,
              toString(min(start_time)) AS first_start, toString(max(start_time)) AS last_start
            FROM spans WHERE project_id = 'p' AND content_filled = 0 GROUP BY hour, trace_id ORDER BY hour, trace_id`,
    format: 'JSONEachRow',
  })
  return rs.json()
}

async function rowCount(): Promise<number> {
  const rs = await store.client.query({ query: "SELECT count() AS n FROM trace_hours WHERE project_id = 'p'", format: 'JSONEachRow' })
  return Number((await rs.json<{ n: string }>())[0]?.n)
}

describe('migration 013: each trace by hour', () => {
  // Closed when this describe ends: embedded chDB opens one data directory per process, and the next has its own.
  beforeAll(async () => {
    dir = tempDir()
    // The store as it was before 013: every earlier migration, and spans.
    store = await storeBefore(MIGRATION, dir.path)
    await store.client.insert({ table: 'spans', values: before, format: 'JSONEachRow' })
    await store.client.insert({ table: 'spans', values: [merged], format: 'JSONEachRow' })
    // Migrated here, not in a test: the cluster project retries a failed test on the same store
    // (vitest.config.ts), and a migration runs once. Each test checks only what it adds.
    applied = (await migrate(store)).applied
  }, 120_000)

  afterAll(async () => {
    await store?.close().catch(() => undefined)
    dir?.cleanup()
  })

  it('holds the spans stored before it, as the spans say, and applies once', async () => {
    expect(applied).toEqual(loadMigrations().filter((m) => m.file >= MIGRATION).map((m) => m.file))
    const rows = await table(store)
    expect(rows).toEqual(await fromSpans(store))
    // trace 1 in two hours (its root in the first), trace 2 without a root, trace 3 a root stored twice
    expect(rows.map((r) => [Number.parseInt(String(r.trace_id), 16), r.first_root !== null])).toEqual([
      [1, true],
      [1, false],
      [2, false],
      [3, true],
    ])
    expect((await migrate(store)).applied).toEqual([])
  })

  it('changes no answer when a second server runs the backfill again', async () => {
    await backfillAgain(store, MIGRATION, 'trace_hours', 'cityHash64(trace_id)')
    expect(await table(store)).toEqual(await fromSpans(store))
  })

  it('takes the spans stored after it from the view, a replay of an insert once', async () => {
    const late = [row(4, 0, T0 + 4 * HOUR + 1000, { root: true }), row(4, 1, T0 + 4 * HOUR + 2000), row(1, 3, T0 + HOUR + 30 * 60_000)]
    const settings = { insert_deduplication_token: 'migrate-trace-hours:segment-1' }
    const was = await rowCount()
    await store.client.insert({ table: 'spans', values: late, format: 'JSONEachRow', clickhouse_settings: settings })
    const once = await rowCount()
    await store.client.insert({ table: 'spans', values: late, format: 'JSONEachRow', clickhouse_settings: settings })
    expect(await rowCount()).toBe(once)
    expect(once).toBeGreaterThan(was)
    await store.client.insert({ table: 'spans', values: [row(4, 1, T0 + 4 * HOUR + 2000, { contentFilled: 2 })], format: 'JSONEachRow' })
    expect(await rowCount()).toBe(once)
    expect(await table(store)).toEqual(await fromSpans(store))
  })
})

describe('migration 013 cut short (a shutdown or crash mid-backfill) and applied at the next start', () => {
  let cut: ReturnType<typeof tempDir>
  let cutStore: Store
  beforeAll(async () => {
    cut = tempDir()
    cutStore = await storeBefore(MIGRATION, cut.path)
    await cutStore.client.insert({ table: 'spans', values: before, format: 'JSONEachRow' })
    // The run cut short wrote trace 3's rows and was not recorded; the next start runs it whole.
    await backfillCutShort(cutStore, MIGRATION, 'trace_hours', 'cityHash64(trace_id)', `trace_id = '${(3).toString(16).padStart(32, '0')}'`)
    await migrate(cutStore)
  }, 120_000)
  afterAll(async () => {
    await cutStore?.close().catch(() => undefined)
    cut?.cleanup()
  })

  it('holds every trace, as the spans say (an insert token would have dropped the whole run by its first block)', async () => {
    const rows = await table(cutStore)
    expect(rows.map((r) => Number.parseInt(String(r.trace_id), 16))).toEqual([1, 1, 2, 3])
    expect(rows).toEqual(await fromSpans(cutStore))
  })
})
