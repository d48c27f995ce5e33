import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadMigrations, migrate, type Store } from '../src/store/index.js'
import { backfillAgain, storeBefore } from './helpers/migrating.js'
import { tempDir } from './helpers/tmp.js'

/**
 * clickhouse/011 adds cache-write tokens to the per-minute rollup on a store that already
 * holds spans: the minutes counted before it get theirs from the spans, once, and every
 * other figure of the rollup stays as it was.
 */
const MIGRATION = '011_rollup_token_details.sql'
// Recent whole hours (inside the retention), so the spans fall in a few minutes of their own.
const T0 = Math.floor(Date.now() / 3_600_000) * 3_600_000 - 6 * 3_600_000
const fmt = (ms: number) => new Date(ms).toISOString().replace('T', ' ').replace('Z', '')

let dir: ReturnType<typeof tempDir>
let store: Store
let seq = 0
/** The rollup before 011, and the migrations the store took after it. */
let was: Array<Record<string, number | string>>
let applied: string[]

function row(o: { minute: number; model: string; cacheWrite: number; contentFilled?: number; duration?: number }): Record<string, unknown> {
  seq++
  const start = T0 + o.minute * 60_000 + (seq % 50) * 1000
  const duration = o.duration ?? 100 + seq
  return {
    project_id: 'p',
    trace_id: seq.toString(16).padStart(32, '0'),
    span_id: seq.toString(16).padStart(16, '0'),
    name: 'chat',
    kind: 'llm',
    service_name: 'svc',
    status_code: seq % 7 === 0 ? 'error' : 'ok',
    request_model: o.model,
    input_tokens: 1000 + seq,
    output_tokens: 10 + seq,
    total_tokens: 1010 + 2 * seq,
    cache_read_tokens: seq % 3 === 0 ? 500 : 0,
    cache_write_tokens: o.cacheWrite,
    reasoning_tokens: seq % 2,
    duration_ms: duration,
    start_time: fmt(start),
    end_time: fmt(start + duration),
    ...(o.contentFilled ? { content_filled: o.contentFilled } : {}),
  }
}

/** The rollup per minute and model; before 011 it has no cache writes to read. */
async function rollup(migrated = true): Promise<Array<Record<string, number | string>>> {
  const rs = await store.client.query({
    query: `SELECT minute, model, sum(calls) AS calls, sum(errors) AS errors, sum(input_tokens) AS input, sum(cache_read_tokens) AS cache_read,
              ${migrated ? 'sum(cache_write_tokens)' : '0'} AS cache_write, sum(reasoning_tokens) AS reasoning, sum(duration_sum_ms) AS dur, max(duration_max_ms) AS dur_max,
              quantilesTDigestMerge(0.5, 0.9, 0.95, 0.99)(duration_q) AS q, sum(ttft_count) AS ttft
            FROM spans_minute WHERE project_id = 'p' GROUP BY minute, model ORDER BY minute, model`,
    format: 'JSONEachRow',
  })
  return rs.json()
}

const before = [
  ...[0, 0, 1, 1, 1, 2].map((minute, i) => row({ minute, model: 'claude', cacheWrite: 300 * (i + 1) })),
  ...[0, 1, 2].map((minute) => row({ minute, model: 'gpt-4o', cacheWrite: 0 })),
]
// A version the content merge wrote (content_filled set): the rollup never counts it.
const merged = row({ minute: 1, model: 'claude', cacheWrite: 99_999, contentFilled: 1 })

beforeAll(async () => {
  dir = tempDir()
  // The store as it was before 011: every earlier migration, and spans counted by its rollup.
  store = await storeBefore(MIGRATION, dir.path)
  await store.client.insert({ table: 'spans', values: before, format: 'JSONEachRow' })
  await store.client.insert({ table: 'spans', values: [merged], format: 'JSONEachRow' })
  // Migrated here, not in a test: the cluster project retries a failed test on the same store
  // (vitest.config.ts), and a migration runs once. Each test checks only what it adds.
  was = await rollup(false)
  applied = (await migrate(store)).applied
}, 120_000)

afterAll(async () => {
  await store?.close().catch(() => undefined)
  dir?.cleanup()
})

describe('migration 011: cache-write tokens in the rollup', () => {
  it('adds the cache writes of the spans stored before it, once, and leaves every other figure as it was', async () => {
    // 011 and every migration after it, in order.
    expect(applied).toEqual(loadMigrations().filter((m) => m.file >= MIGRATION).map((m) => m.file))
    expect(applied[0]).toBe(MIGRATION)
    const now = await rollup()
    // Per minute and model, from the spans as sent.
    const expected = new Map<string, number>()
    for (const s of before) {
      const key = `${String(s.start_time).slice(0, 16)}:00 ${String(s.request_model)}`
      expected.set(key, (expected.get(key) ?? 0) + Number(s.cache_write_tokens))
    }
    expect(was.every((r) => Number(r.cache_write) === 0)).toBe(true)
    expect(now.map((r) => [`${String(r.minute)} ${String(r.model)}`, Number(r.cache_write)])).toEqual([...expected].sort())
    expect(now.reduce((n, r) => n + Number(r.cache_write), 0)).toBe(300 * (1 + 2 + 3 + 4 + 5 + 6))
    // Calls, errors, the other tokens, durations and their digests: unchanged.
    const rest = (rows: Array<Record<string, unknown>>) => rows.map(({ cache_write: _, ...r }) => r)
    expect(rest(now)).toEqual(rest(was))
  })

  it('adds nothing when a second server runs the backfill again over a span stored in between', async () => {
    // Two servers migrating at once both run the backfill, the second over a span stored in
    // between (counted by the view): it adds nothing, although the spans it reads differ.
    const cacheWrites = (rows: Array<Record<string, unknown>>) => rows.reduce((n, r) => n + Number(r.cache_write), 0)
    const base = cacheWrites(await rollup())
    await store.client.insert({ table: 'spans', values: [row({ minute: 2, model: 'claude', cacheWrite: 5 })], format: 'JSONEachRow' })
    const withLate = await rollup()
    expect(cacheWrites(withLate)).toBe(base + 5)
    await backfillAgain(store, MIGRATION, 'spans_minute', 'rand()')
    expect(await rollup()).toEqual(withLate)
  })

  it('counts the cache writes of spans stored after it in the view', async () => {
    const after = [row({ minute: 2, model: 'claude', cacheWrite: 7 }), row({ minute: 3, model: 'claude', cacheWrite: 11 })]
    const was = await rollup()
    await store.client.insert({ table: 'spans', values: after, format: 'JSONEachRow' })
    const now = await rollup()
    const total = (rows: Array<Record<string, unknown>>, key: string) => rows.reduce((n, r) => n + Number(r[key]), 0)
    expect(total(now, 'cache_write') - total(was, 'cache_write')).toBe(18)
    expect(total(now, 'calls') - total(was, 'calls')).toBe(2)
  })

  it('keeps the analysts view of the rollup in step with its columns', async () => {
    const sum = async (from: string) => {
      const rs = await store.client.query({ query: `SELECT sum(cache_write_tokens) AS w FROM ${from}`, format: 'JSONEachRow' })
      return Number((await rs.json<{ w: string }>())[0]?.w)
    }
    const inView = await sum(`analyst_spans_minute(project = 'p')`)
    // Every cache write of the spans stored before and after 011 (beside the content merge's version): at least 300 × 21 + 18.
    expect(inView).toBeGreaterThanOrEqual(300 * 21 + 18)
    expect(inView).toBe(await sum(`spans_minute WHERE project_id = 'p'`))
  })
})
