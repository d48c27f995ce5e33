import type { SignalDrift } from '../api/types'
import { num } from '../format'

export interface Distribution {
  categories: string[]
  reference: number[]
  current: number[]
}

const nums = (v: unknown): number[] | null => (Array.isArray(v) && v.every((x) => typeof x === 'number') ? (v as number[]) : null)
const shares = (counts: number[]) => {
  const total = counts.reduce((a, b) => a + b, 0)
  return counts.map((c) => (total > 0 ? c / total : 0))
}

/**
 * The two distributions a verdict compares, from the report's detail: numeric signals
 * carry reference-decile bin edges and per-bin counts, categorical ones the top
 * categories' shares. Text and embedding signals have none.
 */
export function distributions(s: SignalDrift): Distribution | null {
  const d = s.detail ?? {}
  const edges = nums(d.binEdges)
  const ref = nums(d.referenceBinCounts)
  const cur = nums(d.currentBinCounts)
  if (edges && ref && cur && ref.length === cur.length && ref.length === edges.length + 1) {
    const categories = ref.map((_, i) => (i === 0 ? `≤ ${num(edges[0])}` : i === edges.length ? `> ${num(edges[i - 1])}` : `${num(edges[i - 1])}–${num(edges[i])}`))
    return { categories, reference: shares(ref), current: shares(cur) }
  }
  if (Array.isArray(d.top)) {
    const top = (d.top as Array<Record<string, unknown>>).filter((t) => typeof t === 'object' && t !== null)
    return {
      categories: top.map((t) => String(t.category ?? '')),
      reference: top.map((t) => Number(t.referenceShare ?? 0)),
      current: top.map((t) => Number(t.currentShare ?? 0)),
    }
  }
  return null
}
