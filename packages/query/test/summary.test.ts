import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Store } from '@spanlens/ingest'
import { summary, type SummaryRow } from '../src/index.js'
import { MAX_SUMMARY_ROWS, ROLLUP_AGGREGATES } from '../src/traces/summary.js'
import type { Tokens } from '../src/traces/span-row.js'
import { insertSpans, openStore, span } from './helpers/store.js'

let store: Store
let close: () => Promise<void>

// Spans over two days and a half, every 7 minutes and 13 seconds, so that buckets of an
// hour, 6 hours and a day have ragged ends wherever a range starts or stops.
// Recent days: older spans would be past the store's retention.
const T0 = Math.floor(Date.now() / 86_400_000) * 86_400_000 - 4 * 86_400_000
const STEP_MS = 7 * 60_000 + 13_000
const N = 500
const starts = Array.from({ length: N }, (_, i) => new Date(T0 + i * STEP_MS + 17_000))
const modelOf = (i: number) => (i % 3 === 0 ? 'claude' : 'gpt-4o')
/** Span i's token counts, each a different multiple of i: a sum read from the wrong column shows. */
const tokensOf = (i: number) => ({ input_tokens: i, output_tokens: 2 * i, total_tokens: 3 * i, cache_read_tokens: 5 * i, cache_write_tokens: 7 * i, reasoning_tokens: 11 * i })
const tokenTotals = (i: number): Tokens => ({ input: i, output: 2 * i, total: 3 * i, cacheRead: 5 * i, cacheWrite: 7 * i, reasoning: 11 * i })

beforeAll(async () => {
  ;({ store, close } = await openStore())
  // Several inserts, so the rollup has several parts, each with its hourly projection.
  for (let k = 0; k < 5; k++) {
    await insertSpans(
      store,
      starts.flatMap((start, i) =>
        i % 5 !== k
          ? []
          : [
              span({
                project_id: 'sum',
                start,
                request_model: modelOf(i),
                status_code: i % 4 === 0 ? 'error' : 'ok',
                ...tokensOf(i),
              }),
            ],
      ),
    )
  }
})
afterAll(async () => close())

/** What the rows must say, from the spans themselves: calls, errors and every token count per (bucket, model). */
function expected(from: Date | undefined, to: Date | undefined, bucketMs: number | undefined): Map<string, [number, number, Tokens]> {
  const out = new Map<string, [number, number, Tokens]>()
  for (const [i, start] of starts.entries()) {
    // The rollup's rows are whole minutes: a bound inside a minute takes that minute in.
    const minute = Math.floor(start.getTime() / 60_000) * 60_000
    if (from && minute < Math.floor(from.getTime() / 60_000) * 60_000) continue
    if (to && minute >= to.getTime()) continue
    const bucket = bucketMs === undefined ? 'all' : new Date(Math.floor(minute / bucketMs) * bucketMs).toISOString()
    const key = `${bucket} ${modelOf(i)}`
    const [calls, errors, tokens] = out.get(key) ?? [0, 0, tokenTotals(0)]
    const add = tokenTotals(i)
    for (const k of Object.keys(add) as Array<keyof Tokens>) add[k] += tokens[k]
    out.set(key, [calls + 1, errors + (i % 4 === 0 ? 1 : 0), add])
  }
  return out
}

const got = (rows: SummaryRow[]) => new Map(rows.map((r) => [`${r.bucket ?? 'all'} ${r.group.model}`, [r.calls, r.errors, r.tokens] as [number, number, Tokens]]))

describe('summary from the rollup', () => {
  const at = (ms: number) => new Date(T0 + ms)
  const H = 3_600_000
  it.each([
    ['no bounds, hourly', undefined, undefined, '1h'],
    ['no bounds, no buckets', undefined, undefined, undefined],
    ['ragged ends, hourly', at(5 * H + 17 * 60_000 + 31_000), at(40 * H + 3 * 60_000 + 5_000), '1h'],
    ['ragged ends, 6-hourly', at(5 * H + 17 * 60_000), at(40 * H + 3 * 60_000), '6h'],
    ['ragged ends, daily', at(5 * H + 17 * 60_000), at(50 * H + 59 * 60_000), '1d'],
    ['from only, daily', at(13 * H + 1), undefined, '1d'],
    ['to only, hourly', undefined, at(30 * H + 30 * 60_000), '1h'],
    ['whole hours, no buckets', at(4 * H), at(33 * H), undefined],
    ['ragged ends, no buckets', at(4 * H + 60_000), at(33 * H), undefined],
    ['inside one hour, hourly', at(7 * H + 5 * 60_000), at(7 * H + 50 * 60_000), '1h'],
    ['15-minute buckets', at(5 * H + 17 * 60_000), at(9 * H), '15m'],
  ])('%s: every bucket counts exactly the spans in it', async (_, from, to, bucket) => {
    const s = await summary(store.client, 'sum', { groupBy: ['model'], ...(bucket ? { bucket } : {}), filter: { ...(from ? { from } : {}), ...(to ? { to } : {}) } })
    expect(s.source).toBe('rollup')
    const bucketMs = bucket === undefined ? undefined : { '1h': H, '6h': 6 * H, '1d': 24 * H, '15m': 15 * 60_000 }[bucket]
    expect(s.bucketSeconds).toBe(bucketMs === undefined ? null : bucketMs / 1000)
    expect(got(s.rows)).toEqual(expected(from, to, bucketMs))
    // Rows in model, then bucket order, each (model, bucket) once.
    const keys = s.rows.map((r) => `${r.group.model} ${r.bucket ?? ''}`)
    expect(keys).toEqual([...keys].sort())
    for (const r of s.rows) expect(r.latencyMs.p50).toBeGreaterThan(0)
  })

  it('says which times it counted: a bound inside a minute counts that whole minute from the rollup, exactly from the spans', async () => {
    const from = at(5 * H + 17 * 60_000 + 31_000)
    const to = at(40 * H + 3 * 60_000 + 5_000)
    const rollup = await summary(store.client, 'sum', { filter: { from, to } })
    expect(rollup.source).toBe('rollup')
    expect(rollup.counted).toEqual({ from: at(5 * H + 17 * 60_000).toISOString(), to: at(40 * H + 4 * 60_000).toISOString() })
    const exact = await summary(store.client, 'sum', { filter: { from, to, status: ['ok'] } })
    expect(exact.source).toBe('spans')
    expect(exact.counted).toEqual({ from: from.toISOString(), to: to.toISOString() })
    expect((await summary(store.client, 'sum', {})).counted).toEqual({ from: null, to: null })
    // On whole minutes nothing is widened.
    expect((await summary(store.client, 'sum', { filter: { from: at(H), to: at(2 * H) } })).counted).toEqual({ from: at(H).toISOString(), to: at(2 * H).toISOString() })
  })

  it('from the spans (a filter the rollup cannot apply), every token count is summed as from the rollup', async () => {
    const s = await summary(store.client, 'sum', { groupBy: ['model'], filter: { status: ['error'] } })
    expect(s.source).toBe('spans')
    const want = new Map<string, Tokens>()
    for (const i of starts.keys()) {
      if (i % 4 !== 0) continue
      const t = want.get(modelOf(i)) ?? tokenTotals(0)
      const add = tokenTotals(i)
      for (const k of Object.keys(add) as Array<keyof Tokens>) t[k] += add[k]
      want.set(modelOf(i), t)
    }
    expect(new Map(s.rows.map((r) => [r.group.model, r.tokens]))).toEqual(want)
  })

  it('whole hours are read through the hourly projection (clickhouse/009, 011): it holds everything the summary reads', async () => {
    const rs = await store.client.query({
      query: `SELECT toStartOfHour(minute, 'UTC') AS h, model, ${ROLLUP_AGGREGATES}
              FROM spans_minute WHERE project_id = 'sum' GROUP BY h, model`,
      format: 'JSONEachRow',
      clickhouse_settings: { force_optimize_projection: 1 },
    })
    expect((await rs.json()).length).toBeGreaterThan(0)
  })
})

describe('summary percentiles', () => {
  it('are the levels docs/statistics.md lists for GET /summary, for latency and TTFT', async () => {
    const doc = readFileSync(new URL('../../../docs/statistics.md', import.meta.url), 'utf8')
    const row = doc.split('\n').find((line) => line.startsWith('| `GET /summary`')) ?? ''
    const documented = (row.split('|')[1] ?? '').match(/p\d+/g)
    const s = await summary(store.client, 'sum', {})
    const r = s.rows[0]
    expect(documented).toEqual(Object.keys(r?.latencyMs ?? {}).filter((k) => /^p\d+$/.test(k)))
    expect(documented).toEqual(Object.keys(r?.ttftMs ?? {}))
  })
})

describe('summary groups', () => {
  it('holds at most MAX_SUMMARY_ROWS rows: the groups with most calls whole, largest first, and says how many groups it left out', async () => {
    // 200 models × 60 minutes = 12,000 rows; model m-000 has the most calls, m-199 the fewest.
    const t = Math.floor(Date.now() / 3_600_000) * 3_600_000 - 2 * 3_600_000
    const models = Array.from({ length: 200 }, (_, m) => `m-${String(m).padStart(3, '0')}`)
    await insertSpans(
      store,
      models.flatMap((model, m) =>
        Array.from({ length: 60 }, (_, minute) => span({ project_id: 'cap', start: new Date(t + minute * 60_000 + 1000), request_model: model })),
      ),
    )
    // Calls decide the ranking: one more span in minute 0 of each of the first 100 models, fewer the later the model.
    await insertSpans(store, models.slice(0, 100).flatMap((model, m) => Array.from({ length: 100 - m }, () => span({ project_id: 'cap', start: new Date(t + 2000), request_model: model }))))
    for (const opts of [{ bucket: '1m' }, { bucket: '30s' }]) {
      const r = await summary(store.client, 'cap', { groupBy: ['model'], filter: { from: new Date(t - 60_000) }, ...opts })
      expect(r.rows.length).toBeLessThanOrEqual(MAX_SUMMARY_ROWS)
      const kept = [...new Set(r.rows.map((x) => x.group.model))]
      // 166 whole groups of 60 rows fit in 10,000; each kept group has every one of its buckets.
      expect(kept.length).toBe(Math.floor(MAX_SUMMARY_ROWS / 60))
      expect(r.omittedGroups).toBe(200 - kept.length)
      expect(kept.sort()).toEqual(models.slice(0, kept.length))
      for (const model of kept) expect(r.rows.filter((x) => x.group.model === model).length).toBe(60)
    }
    // Unbounded in groups but not in rows: every group, nothing left out.
    const all = await summary(store.client, 'cap', { groupBy: ['model'] })
    expect({ rows: all.rows.length, omitted: all.omittedGroups }).toEqual({ rows: 200, omitted: 0 })
  })

  it('refuses a summary whose largest group alone has more buckets with traffic than MAX_SUMMARY_ROWS, naming bucket', async () => {
    const t = Math.floor(Date.now() / 60_000) * 60_000 - 3 * 3_600_000
    await insertSpans(store, Array.from({ length: MAX_SUMMARY_ROWS + 1 }, (_, i) => span({ project_id: 'cap-one', start: new Date(t + i * 1000 + 10) })))
    await expect(summary(store.client, 'cap-one', { filter: { from: new Date(t - 1000) }, bucket: '1s' })).rejects.toMatchObject({ code: 'SPANLENS_BAD_REQUEST', message: expect.stringMatching(/^bucket: /) })
  })

  it('a dimension named twice is refused with a 400 naming groupBy, as /metrics refuses it', async () => {
    await expect(summary(store.client, 'sum', { groupBy: ['model', 'service', 'model'] })).rejects.toMatchObject({ code: 'SPANLENS_BAD_REQUEST', message: 'groupBy: model is named twice' })
  })
})

describe('summary buckets that are not whole minutes', () => {
  const H = 3_600_000
  /** Calls per (bucket, model) counted from the spans' own start times: these buckets read spans, not minutes. */
  function exact(from: Date, to: Date, bucketMs: number): Map<string, number> {
    const out = new Map<string, number>()
    for (const [i, start] of starts.entries()) {
      if (start < from || start >= to) continue
      const key = `${new Date(Math.floor(start.getTime() / bucketMs) * bucketMs).toISOString()} ${modelOf(i)}`
      out.set(key, (out.get(key) ?? 0) + 1)
    }
    return out
  }

  it.each([
    ['30s', 30_000],
    ['90s', 90_000],
    ['1.5m', 90_000],
    ['37s', 37_000],
  ])('%s buckets read the spans and count each span in the bucket of its own start', async (bucket, bucketMs) => {
    // A range inside a minute at each end: spans just inside and just outside it.
    const from = new Date(T0 + 5 * H + 17 * 60_000 + 20_000)
    const to = new Date(T0 + 9 * H + 3 * 60_000 + 16_000)
    const s = await summary(store.client, 'sum', { groupBy: ['model'], bucket, filter: { from, to } })
    expect(s.source).toBe('spans')
    expect(s.bucketSeconds).toBe(bucketMs / 1000)
    const want = exact(from, to, bucketMs)
    expect(want.size).toBeGreaterThan(20)
    expect(new Map(s.rows.map((r) => [`${r.bucket} ${r.group.model}`, r.calls]))).toEqual(want)
  })

  it.each([
    ['1.5s', { from: new Date(T0) }, 'whole number of seconds'],
    ['0s', { from: new Date(T0) }, 'at least 1s'],
    ['0.5s', { from: new Date(T0) }, 'at least 1s'],
    ['30s', {}, 'needs from'],
    ['1s', { from: new Date(T0), to: new Date(T0 + 28 * H) }, 'more than 100000 buckets'],
    ['99999d', {}, 'longer than the maximum'],
  ])('bucket %s is refused with a 400 naming bucket (%j)', async (bucket, filter, words) => {
    const err = await summary(store.client, 'sum', { bucket, filter }).then(
      () => undefined,
      (e: unknown) => e as { code: string; statusCode: number; message: string },
    )
    expect(err?.code).toBe('SPANLENS_BAD_REQUEST')
    expect(err?.statusCode).toBe(400)
    expect(err?.message).toMatch(/^bucket: /)
    expect(err?.message).toContain(words)
  })
})
