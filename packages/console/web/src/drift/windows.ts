import { api } from '../api/client'
import type { Summary } from '../api/types'

export interface Windows {
  refFrom: string
  refTo: string
  curFrom: string
  curTo: string
  /** why these windows, for the page to say */
  note: string
}

const HOUR = 3_600_000
const DAY = 24 * HOUR
const FIXED: Windows = { refFrom: 'now-14d', refTo: 'now-7d', curFrom: 'now-7d', curTo: '', note: 'the week before last against the last week' }

/** The earliest bucket with calls, or null. */
const earliest = (s: Summary): number | null => {
  const times = s.rows.filter((r) => r.calls > 0 && r.bucket).map((r) => Date.parse(r.bucket!))
  return times.length ? Math.min(...times) : null
}

/**
 * Default drift windows that have data: the week before last against the last week
 * when the project is two weeks old; otherwise what exists (since the earliest span of
 * the last 14 days) split in two halves, in whole minutes or hours back from now.
 */
export async function defaultWindows(now = Date.now()): Promise<Windows> {
  const hourly = await api.get<Summary>('/summary', { from: 'now-14d', bucket: '1h' })
  let first = earliest(hourly)
  if (first === null || first <= now - 13 * DAY) return FIXED
  if (first > now - 3 * HOUR) first = earliest(await api.get<Summary>('/summary', { from: 'now-3h', bucket: '1m' })) ?? first
  const ageMin = Math.max(2, Math.ceil((now - first) / 60_000))
  const [unit, n] = ageMin > 180 ? (['h', Math.ceil(ageMin / 60)] as const) : (['m', ageMin] as const)
  const half = Math.ceil(n / 2)
  const age = unit === 'h' ? `${n} hours` : `${n} minutes`
  return { refFrom: `now-${n}${unit}`, refTo: `now-${half}${unit}`, curFrom: `now-${half}${unit}`, curTo: '', note: `the project's data is younger than two weeks: its ${age} split in two halves` }
}
