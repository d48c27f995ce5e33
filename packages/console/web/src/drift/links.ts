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

/** The span number each built-in numeric signal reads (query/src/drift/signals.ts), as the API's filter names it. */
const NUMBER_OF: Record<string, string> = {
  latency: 'durationMs',
  ttft: 'ttftMs',
  input_tokens: 'inputTokens',
  output_tokens: 'outputTokens',
  total_tokens: 'totalTokens',
  cost: 'costUsd',
}

/**
 * The filter that bounds a numeric signal's values: a span number, a trace's score
 * (`score:<name>` as `score.<name>`, all conditions on one score) or a span attribute
 * read as a number (`attr_num:<key>` as `attrNum.<key>`, the signal's own expression).
 */
function numberKey(signal: string): string | undefined {
  if (signal.startsWith('score:')) return `score.${signal.slice(6)}`
  if (signal.startsWith('attr_num:')) return `attrNum.${signal.slice(9)}`
  return NUMBER_OF[signal]
}

/**
 * A traces filter for the spans in one category of a signal's distribution: a numeric
 * signal's bin (edges from the report, bins (e[i-1], e[i]], as strict and inclusive
 * conditions on the number: a span's, a score's, an attribute's), a model, status, kind,
 * service, tool or attribute value; null where no traces filter selects it.
 */
function binQuery(s: SignalDrift, i: number, category: string): TraceQuery | null {
  const edges = Array.isArray(s.detail?.binEdges) ? (s.detail.binEdges as number[]) : null
  if (s.type === 'numeric') {
    const key = numberKey(s.signal)
    if (!key || !edges) return null
    const conditions = [i > 0 ? `>${edges[i - 1]}` : '', i < edges.length ? `<=${edges[i]}` : ''].filter(Boolean)
    return conditions.length > 0 ? { [key]: conditions.join(',') } : null
  }
  if (s.type !== 'categorical') return null
  // The model signal reads the span's model (asked, else answered): the group filter reads the same.
  if (s.signal === 'model') return { 'group.model': category }
  if (['status', 'kind', 'service'].includes(s.signal)) return { [s.signal]: category }
  if (s.signal === 'tool') return { name: category }
  if (s.signal.startsWith('attr:')) return { [`attr.${s.signal.slice(5)}`]: category }
  return null
}

export function binHref(report: DriftReport, side: Side, s: SignalDrift, i: number, category: string): string | null {
  const q = binQuery(s, i, category)
  return q ? tracesHref({ ...sideQuery(report, side, s.signal), ...q }) : null
}
