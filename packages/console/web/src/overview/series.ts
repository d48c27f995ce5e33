import type { SummaryDimension, SummaryRow } from '../api/types'
import { groupName } from '../format'

export const OVERVIEW_RANGES = [
  { from: 'now-1h', label: 'Last hour', bucket: '1m', bucketMs: 60_000 },
  { from: 'now-6h', label: 'Last 6 hours', bucket: '5m', bucketMs: 300_000 },
  { from: 'now-24h', label: 'Last 24 hours', bucket: '30m', bucketMs: 1_800_000 },
  { from: 'now-7d', label: 'Last 7 days', bucket: '6h', bucketMs: 21_600_000 },
  { from: 'now-30d', label: 'Last 30 days', bucket: '1d', bucketMs: 86_400_000 },
] as const

export type OverviewRange = (typeof OVERVIEW_RANGES)[number]

/** Every bucket start (epoch seconds) of the range, aligned as the server aligns them (UTC epoch multiples). */
export function bucketGrid(range: OverviewRange, now = Date.now()): number[] {
  const span = Number(/\d+/.exec(range.from)?.[0]) * (range.from.endsWith('h') ? 3_600_000 : 86_400_000)
  const first = Math.floor((now - span) / range.bucketMs) * range.bucketMs
  const out: number[] = []
  for (let t = first; t <= now; t += range.bucketMs) out.push(t / 1000)
  return out
}

export interface GroupedSeries {
  label: string
  /** one row per grid bucket, undefined where the group had no traffic */
  rows: Array<SummaryRow | undefined>
}

/** Rows split by group (the top `max` groups by calls) and laid on the grid. */
export function toSeries(rows: SummaryRow[], grid: number[], by: SummaryDimension | null, max = 6): GroupedSeries[] {
  const label = (r: SummaryRow) => (by ? groupName(r.group[by]) : 'all')
  const calls = new Map<string, number>()
  for (const r of rows) calls.set(label(r), (calls.get(label(r)) ?? 0) + r.calls)
  const top = [...calls.entries()].sort((a, b) => b[1] - a[1]).slice(0, max).map(([l]) => l)
  const index = new Map(grid.map((t, i) => [t, i]))
  return top.map((l) => {
    const out: Array<SummaryRow | undefined> = grid.map(() => undefined)
    for (const r of rows) {
      if (label(r) !== l || !r.bucket) continue
      const i = index.get(Date.parse(r.bucket) / 1000)
      if (i !== undefined) out[i] = r
    }
    return { label: l, rows: out }
  })
}
