import type { DriftReport, SignalDrift } from '../api/types'
import { queryOfFilter, tracesHref, type TraceQuery } from '../links'

/** The spans a built-in signal reads besides the sets' filters (drift/signals.ts). */
const SCOPE: Record<string, TraceQuery> = {
  input_tokens: { kind: 'llm' },
  output_tokens: { kind: 'llm' },
  total_tokens: { kind: 'llm' },
  latency: { kind: 'llm' },
  ttft: { kind: 'llm' },
  cost: { kind: 'llm' },
  model: { kind: 'llm' },
  finish_reason: { kind: 'llm' },
  prompt: { kind: 'llm' },
  completion: { kind: 'llm' },
  tool: { kind: 'tool' },
}

export type Side = 'reference' | 'current'

/** The traces of one side, restricted to the spans the signal reads (kind unless the set names one). */
export function sideQuery(report: DriftReport, side: Side, signal: string): TraceQuery {
  const set = queryOfFilter(report[side])
  return { ...(set.kind ? {} : SCOPE[signal]), ...set }
}

// A nanosecond: durations are whole nanoseconds, so (a, b] is [a + 1 ns, b + 1 ns) for the
// API's minDurationMs (at least) and maxDurationMs (below).
const NS_MS = 1e-6

/**
 * A traces filter for the spans in one category of a signal's distribution: a latency
 * bin (edges from the report, bins (e[i-1], e[i]]), a model, status, kind, service, tool
 * or attribute value; null where no traces filter selects it.
 */
function binQuery(s: SignalDrift, i: number, category: string): TraceQuery | null {
  const edges = Array.isArray(s.detail?.binEdges) ? (s.detail.binEdges as number[]) : null
  if (s.type === 'numeric') {
    if (s.signal !== 'latency' || !edges) return null
    const lo = i === 0 ? undefined : edges[i - 1]
    const hi = i === edges.length ? undefined : edges[i]
    return { ...(lo === undefined ? {} : { minDurationMs: lo + NS_MS }), ...(hi === undefined ? {} : { maxDurationMs: hi + NS_MS }) }
  }
  if (s.type !== 'categorical') return null
  if (['model', 'status', 'kind', 'service'].includes(s.signal)) return { [s.signal]: category }
  if (s.signal === 'tool') return { name: category }
  if (s.signal.startsWith('attr:')) return { [`attr.${s.signal.slice(5)}`]: category }
  return null
}

export function binHref(report: DriftReport, side: Side, s: SignalDrift, i: number, category: string): string | null {
  const q = binQuery(s, i, category)
  return q ? tracesHref({ ...sideQuery(report, side, s.signal), ...q }) : null
}
