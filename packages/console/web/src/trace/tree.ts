import type { SpanEvent, SpanNode } from '../api/types.js'

/** Milliseconds from the span's start to one of its events, from the nanosecond times (a Date keeps only milliseconds). */
export const eventOffsetMs = (span: SpanNode, event: SpanEvent): number => Number(BigInt(event.timeUnixNano) - BigInt(span.startTimeUnixNano)) / 1e6

export interface WaterfallRow {
  span: SpanNode
  depth: number
  /** ms from the trace's earliest span start */
  offsetMs: number
}

/**
 * Depth-first rows, children by start time, with offsets from nanosecond starts (BigInt: ns overflow doubles).
 * Walked from an explicit stack: a trace can nest thousands of spans deep (a loop that keeps its span active).
 */
export function flatten(roots: SpanNode[]): { rows: WaterfallRow[]; totalMs: number } {
  const all: Array<{ span: SpanNode; depth: number }> = []
  const byStart = (a: SpanNode, b: SpanNode) => (BigInt(a.startTimeUnixNano) < BigInt(b.startTimeUnixNano) ? -1 : BigInt(a.startTimeUnixNano) > BigInt(b.startTimeUnixNano) ? 1 : 0)
  // Pushed in reverse start order, so the earliest is taken first.
  const stack: Array<{ span: SpanNode; depth: number }> = []
  const pushAll = (nodes: SpanNode[], depth: number) => {
    const sorted = [...nodes].sort(byStart)
    for (let i = sorted.length - 1; i >= 0; i--) stack.push({ span: sorted[i]!, depth })
  }
  pushAll(roots, 0)
  while (stack.length > 0) {
    const next = stack.pop()!
    all.push(next)
    pushAll(next.span.children, next.depth + 1)
  }
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

/** Every span of the tree, parents before their children. */
export function allSpans(roots: SpanNode[]): SpanNode[] {
  const out: SpanNode[] = []
  const stack = [...roots].reverse()
  while (stack.length > 0) {
    const n = stack.pop()!
    out.push(n)
    for (let i = n.children.length - 1; i >= 0; i--) stack.push(n.children[i]!)
  }
  return out
}

export function findSpan(roots: SpanNode[], spanId: string): SpanNode | undefined {
  return allSpans(roots).find((s) => s.spanId === spanId)
}
