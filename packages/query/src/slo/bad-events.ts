import { type SpanFilter, filterToQuery, toSpanFilter } from '../filters.js'
import type { SloDefinition } from './file.js'
import type { SloScope } from './status.js'

/**
 * An SLO's bad events as a traces filter (query-string form, no time): the spans its
 * evaluation (status.ts) counts in `total` and not in `good`. Null where no filter says
 * exactly that: a success SLO over several models (the rollup keeps a span's one model,
 * the `model` filter matches the asked or the answering one), a ratio SLO whose scope
 * and total name different models or share no value of a field, or whose filters
 * already use `not`.
 */
export function badEvents(slo: SloDefinition, scope: SloScope): Record<string, string> | null {
  const f = badEventsFilter(slo, scope)
  return f ? filterToQuery(f) : null
}

function badEventsFilter(slo: SloDefinition, scope: SloScope): SpanFilter | null {
  const ind = slo.indicator
  switch (ind.type) {
    case 'success': {
      const { model, ...rest } = scope
      if (model && model.length > 1) return null
      return { ...rest, ...(model?.[0] !== undefined ? { groups: { model: model[0] } } : {}), status: ['error'] }
    }
    case 'latency':
      return { ...scope, durationMs: [{ op: '>', value: ind.thresholdMs }] }
    case 'ttft':
      // A call without a time to first token is not counted; no condition holds on its NULL.
      return { ...scope, ttftMs: [{ op: '>', value: ind.thresholdMs }] }
    case 'ratio': {
      const total = toSpanFilter(ind.total)
      const good = toSpanFilter(ind.good)
      if (total.not || good.not) return null
      const both = intersect(scope, total)
      return both && { ...both, not: good }
    }
  }
}

/** The scope and the total filter as one filter: each list field's values in both (equal model lists only). */
function intersect(scope: SloScope, total: SpanFilter): SpanFilter | null {
  const out: SpanFilter = { ...total }
  for (const key of ['service', 'model', 'environment', 'kind', 'operation'] as const) {
    const a: readonly string[] | undefined = scope[key]
    const b: readonly string[] | undefined = total[key]
    if (!a || a.length === 0) continue
    if (!b || b.length === 0) {
      Object.assign(out, { [key]: a })
      continue
    }
    // A span can match model a by its request and model b by its response: no one list says "both".
    if (key === 'model' && (a.length !== b.length || a.some((m) => !b.includes(m)))) return null
    const common = a.filter((v) => b.includes(v))
    if (common.length === 0) return null
    Object.assign(out, { [key]: common })
  }
  return out
}
