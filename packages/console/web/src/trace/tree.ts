import type { SpanNode } from '../api/types'

export interface WaterfallRow {
  span: SpanNode
  depth: number
  /** ms from the trace's earliest span start */
  offsetMs: number
}

/** Depth-first rows, children by start time, with offsets from nanosecond starts (BigInt: ns overflow doubles). */
export function flatten(roots: SpanNode[]): { rows: WaterfallRow[]; totalMs: number } {
  const all: Array<{ span: SpanNode; depth: number }> = []
  const byStart = (a: SpanNode, b: SpanNode) => (BigInt(a.startTimeUnixNano) < BigInt(b.startTimeUnixNano) ? -1 : BigInt(a.startTimeUnixNano) > BigInt(b.startTimeUnixNano) ? 1 : 0)
  const walk = (nodes: SpanNode[], depth: number) => {
    for (const n of [...nodes].sort(byStart)) {
      all.push({ span: n, depth })
      walk(n.children, depth + 1)
    }
  }
  walk(roots, 0)
  if (all.length === 0) return { rows: [], totalMs: 0 }
  let t0 = BigInt(all[0]!.span.startTimeUnixNano)
  for (const r of all) {
    const s = BigInt(r.span.startTimeUnixNano)
    if (s < t0) t0 = s
  }
  let totalMs = 0
  const rows = all.map((r) => {
    const offsetMs = Number(BigInt(r.span.startTimeUnixNano) - t0) / 1e6
    totalMs = Math.max(totalMs, offsetMs + r.span.durationMs)
    return { ...r, offsetMs }
  })
  return { rows, totalMs }
}

export function findSpan(roots: SpanNode[], spanId: string): SpanNode | undefined {
  for (const r of roots) {
    if (r.spanId === spanId) return r
    const found = findSpan(r.children, spanId)
    if (found) return found
  }
  return undefined
}
