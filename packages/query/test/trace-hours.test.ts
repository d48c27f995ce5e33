// The trace listing's count and its other orders find their set of traces in trace_hours
// (clickhouse/013, traces/trace-hours.ts): one row per trace and hour, kept at insert. Its
// answers must be the spans' own (the one pass over the reach grouped by trace, listed.ts's
// groupedListed): with traces without a root, traces crossing an hour, range ends inside an
// hour, the content merge's versions, a replayed insert and a span delivered twice.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Store } from '@spanlens/ingest'
import { ParamBag, select } from '../src/db.js'
import type { SpanFilter } from '../src/filters.js'
import { listTraces } from '../src/traces/list.js'
import { countTraces, groupedListed } from '../src/traces/listed.js'
import { listedFromHours } from '../src/traces/trace-hours.js'
import { openStore } from './helpers/store.js'

let store: Store
let close: () => Promise<void>
// A project per run: the cluster project retries a failed test on the same store.
const project = `hours-${Date.now().toString(36)}`

const MIN = 60_000
const HOUR = 60 * MIN
// Two days ago, on the hour: inside the retention, and a day of reach before it.
const B = Math.floor(Date.now() / HOUR) * HOUR - 48 * HOUR
const fmt = (ms: number) => new Date(ms).toISOString().replace('T', ' ').replace('Z', '')
const hex = (n: number, width: number) => n.toString(16).padStart(width, '0')

interface S {
  trace: number
  span: number
  parent?: number
  at: number
  service?: string
  /** which columns the content merge filled (its versions only) */
  filled?: number
  /** ingested this many seconds after the first versions */
  later?: number
}

function row(s: S): Record<string, unknown> {
  return {
    project_id: project,
    trace_id: hex(s.trace, 32),
    span_id: hex(s.trace * 100 + s.span, 16),
    parent_span_id: s.parent === undefined ? '' : hex(s.trace * 100 + s.parent, 16),
    name: 'op',
    kind: 'llm',
    service_name: s.service ?? 'chat',
    status_code: 'ok',
    start_time: fmt(s.at),
    end_time: fmt(s.at + 5_000),
    duration_ms: 5_000,
    total_tokens: s.span,
    ingested_at: fmt(Date.UTC(2026, 0, 1) + (s.later ?? 0) * 1000),
    ...(s.filled ? { content_filled: s.filled, output: 'merged' } : {}),
  }
}

const spans: S[] = [
  // a root and a child in its hour, a child in the next
  { trace: 1, span: 1, at: B + 10 * MIN },
  { trace: 1, span: 2, parent: 1, at: B + 20 * MIN },
  { trace: 1, span: 3, parent: 1, at: B + 70 * MIN, service: 'tools' },
  // no root anywhere
  { trace: 2, span: 2, parent: 1, at: B + 30 * MIN },
  { trace: 2, span: 3, parent: 1, at: B + 40 * MIN },
  // its root 23 hours before, within reach of every range below
  { trace: 3, span: 1, at: B - 23 * HOUR },
  { trace: 3, span: 2, parent: 1, at: B + 5 * MIN },
  // a root at the end of an hour, its child in the next
  { trace: 4, span: 1, at: B + HOUR - 1 },
  { trace: 4, span: 2, parent: 1, at: B + HOUR + MIN, service: 'tools' },
  // two roots (two services started it), hours apart
  { trace: 5, span: 1, at: B + 15 * MIN },
  { trace: 5, span: 2, at: B + 2 * HOUR + 30 * MIN },
  // a root before the hour's first range ends, a child after it
  { trace: 10, span: 1, at: B - 10 * MIN },
  { trace: 10, span: 2, parent: 1, at: B + 10 * MIN },
  // a child without its root in the range, whose root starts 30 minutes after the range ends
  { trace: 9, span: 2, parent: 1, at: B + 2 * HOUR + 50 * MIN },
  { trace: 9, span: 1, at: B + 3 * HOUR + 35 * MIN },
  // a child whose root starts two days after it: beyond reach
  { trace: 8, span: 2, parent: 1, at: B + 3 * HOUR + 10 * MIN },
  { trace: 8, span: 1, at: B + 51 * HOUR },
  // a root at the first range's start (in it), a span without a root at its end (out of it)
  { trace: 12, span: 1, at: B + 12 * MIN },
  { trace: 11, span: 2, parent: 1, at: B + 3 * HOUR + 20 * MIN },
]
// The content merge's newer versions of trace 6 (content_filled set): the same times again.
const merged: S[] = [
  { trace: 6, span: 1, at: B + 90 * MIN },
  { trace: 6, span: 2, parent: 1, at: B + 95 * MIN },
]
// Inserted once, replayed with the same token, and delivered again in a request of its own.
const replayed: S[] = [
  { trace: 7, span: 1, at: B + 2 * HOUR + 45 * MIN },
  { trace: 7, span: 2, parent: 1, at: B + 3 * HOUR + 5 * MIN },
]

beforeAll(async () => {
  ;({ store, close } = await openStore())
  const insert = (rows: S[], token?: string) =>
    store.client.insert({ table: 'spans', values: rows.map(row), format: 'JSONEachRow', ...(token ? { clickhouse_settings: { insert_deduplication_token: token } } : {}) })
  await insert(spans)
  // A child stored before its root, in the same hour: two rows of one hour until they merge.
  await insert([{ trace: 13, span: 2, parent: 1, at: B + 2 * HOUR + 5 * MIN }])
  await insert([{ trace: 13, span: 1, at: B + 2 * HOUR + MIN }])
  await insert(merged)
  await insert(merged.map((s) => ({ ...s, filled: 2, later: 60 })))
  await insert(replayed, `${project}:segment-1`)
  await insert(replayed, `${project}:segment-1`)
  await insert(replayed.map((s) => ({ ...s, later: 30 })))
}, 120_000)

afterAll(async () => {
  await close()
})

const at = (ms: number) => new Date(ms)
const RANGES: Array<{ name: string; filter: SpanFilter }> = [
  { name: 'ends inside hours', filter: { from: at(B + 12 * MIN), to: at(B + 3 * HOUR + 20 * MIN) } },
  { name: 'from before the hour', filter: { from: at(B - 30 * MIN), to: at(B + 2 * HOUR + 40 * MIN) } },
  { name: 'just over an hour', filter: { from: at(B + 59 * MIN), to: at(B + 2 * HOUR) } },
  { name: 'exactly an hour, ends inside hours', filter: { from: at(B + 50 * MIN), to: at(B + HOUR + 50 * MIN) } },
  { name: 'whole hours', filter: { from: at(B), to: at(B + 4 * HOUR) } },
  { name: 'no end', filter: { from: at(B + 14 * MIN) } },
  { name: 'no start', filter: { to: at(B + 2 * HOUR + 55 * MIN) } },
  // bounds a DateTime does not hold: a reach a day before the epoch, an end past 2106
  { name: 'from the epoch to 2200', filter: { from: at(0), to: new Date('2200-01-01T00:00:00Z') } },
  { name: 'with a span filter', filter: { from: at(B + 12 * MIN), to: at(B + 3 * HOUR + 20 * MIN), service: ['tools'] } },
]

/** The spans' answer: one pass over every span within reach, grouped by trace. */
async function fromSpans(filter: SpanFilter): Promise<string[]> {
  const bag = new ParamBag()
  const rows = await select<{ trace_id: string }>(store.client, groupedListed(project, filter, bag), bag.values)
  return rows.map((r) => r.trace_id).sort()
}

async function ids(sql: string, bag: ParamBag): Promise<string[]> {
  const rows = await select<{ trace_id: string }>(store.client, `SELECT DISTINCT trace_id FROM (${sql})`, bag.values)
  return rows.map((r) => r.trace_id).sort()
}

describe('trace_hours answers the listing as the spans do', () => {
  it.each(RANGES.filter((r) => r.filter.service === undefined))('the set, by id and in one grouped pass: $name', async ({ filter }) => {
    const want = await fromSpans(filter)
    expect(want.length).toBeGreaterThan(0)
    for (const candidatesMax of [10_000, 0]) {
      const bag = new ParamBag()
      const listed = await listedFromHours(store.client, project, filter, () => undefined, bag, candidatesMax)
      expect(listed).toBeDefined()
      expect(await ids(listed?.sql ?? '', bag)).toEqual(want)
    }
  })

  it.each(RANGES)('the count and every order: $name', async ({ filter }) => {
    const want = await fromSpans(filter)
    expect(await countTraces(store.client, project, filter)).toBe(want.length)
    for (const field of ['spans', 'startTime', 'durationMs', 'tokens'] as const) {
      const page = await listTraces(store.client, project, { filter, order: { field, desc: true }, limit: 100, total: true })
      expect(page.items.map((t) => t.traceId).sort(), field).toEqual(want)
      expect(page.total).toBe(want.length)
    }
  })

  it('lists what these traces are: without a root, crossing an hour, merged and delivered twice', async () => {
    const filter = RANGES[0]?.filter ?? {}
    const page = await listTraces(store.client, project, { filter, order: { field: 'spans', desc: true }, limit: 100 })
    const byTrace = new Map(page.items.map((t) => [Number.parseInt(t.traceId, 16), t]))
    expect([...byTrace.keys()].sort((a, b) => a - b)).toEqual([2, 4, 5, 6, 7, 8, 12, 13])
    expect(byTrace.get(2)?.rootMissing).toBe(true)
    expect(byTrace.get(8)?.rootMissing).toBe(true)
    expect(byTrace.get(4)?.spans).toBe(2)
    // the merged and the re-delivered versions are one span each
    expect(byTrace.get(6)?.spans).toBe(2)
    expect(byTrace.get(7)?.spans).toBe(2)
  })

  it('leaves a range under an hour to the spans (one hour may hold both of its ends)', async () => {
    const filter = { from: at(B + 20 * MIN), to: at(B + 50 * MIN) }
    expect(await listedFromHours(store.client, project, filter, () => undefined, new ParamBag(), 10_000)).toBeUndefined()
    expect(await countTraces(store.client, project, filter)).toBe((await fromSpans(filter)).length)
  })
})
