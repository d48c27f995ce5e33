import type { SpanEvent, SpanNode } from '../api/types.js'

/** Milliseconds from one nanosecond time (a decimal string) to another: BigInt, as nanoseconds since the epoch overflow a double and a Date keeps only milliseconds. */
export const msBetween = (fromNs: string | bigint, toNs: string): number => Number(BigInt(toNs) - BigInt(fromNs)) / 1e6

/** Orders nanosecond times (decimal strings), earliest first. */
export const byNanos = (a: string, b: string): number => (BigInt(a) < BigInt(b) ? -1 : BigInt(a) > BigInt(b) ? 1 : 0)

/** Milliseconds from the span's start to one of its events. */
export const eventOffsetMs = (span: SpanNode, event: SpanEvent): number => msBetween(span.startTimeUnixNano, event.timeUnixNano)

export interface WaterfallRow {
  span: SpanNode
  depth: number
  /** ms from the trace's earliest span start */
  offsetMs: number
}

/**
 * Depth-first rows, children by start time, with offsets from the earliest start (`startNs`, nanoseconds).
 * Walked from an explicit stack: a trace can nest thousands of spans deep (a loop that keeps its span active).
 */
export function flatten(roots: SpanNode[]): { rows: WaterfallRow[]; totalMs: number; startNs: string } {
  const all: Array<{ span: SpanNode; depth: number }> = []
  const byStart = (a: SpanNode, b: SpanNode) => byNanos(a.startTimeUnixNano, b.startTimeUnixNano)
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
  if (all.length === 0) return { rows: [], totalMs: 0, startNs: '0' }
  let t0 = BigInt(all[0]!.span.startTimeUnixNano)
  for (const r of all) {
    const s = BigInt(r.span.startTimeUnixNano)
    if (s < t0) t0 = s
  }
  let totalMs = 0
  const rows = all.map((r) => {
    const offsetMs = msBetween(t0, r.span.startTimeUnixNano)
    totalMs = Math.max(totalMs, offsetMs + r.span.durationMs)
    return { ...r, offsetMs }
  })
  return { rows, totalMs, startNs: String(t0) }
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
