import { spansWithContent } from '../content/span-content.js'
import { ParamBag } from '../db.js'
import { spanConditions, type SpanFilter } from '../filters.js'
import type { SignalSpec } from './signals.js'

/** The two populations being compared, each a span filter (a time window, a release, a model...). */
export interface DriftSets {
  reference: SpanFilter
  current: SpanFilter
}

/**
 * A subquery yielding (v, side) rows, side 0 = reference, 1 = current. A span that
 * matches both filters counts as reference. Values that are NaN or infinite are dropped.
 */
export function sourceQuery(project: string, sets: DriftSets, spec: SignalSpec, bag: ParamBag): string {
  const ref = spanConditions(project, sets.reference, bag).join(' AND ')
  const cur = spanConditions(project, sets.current, bag).join(' AND ')
  Object.assign(bag.values, spec.params ?? {})
  const finite = spec.type === 'numeric' ? ' AND isFinite(v)' : ''
  if (spec.score !== undefined) {
    // A score belongs to the side of the trace it scores (decided by the trace's root span).
    const p = bag.add(project, 'String')
    const name = bag.add(spec.score, 'String')
    return `SELECT s.value AS v0, t.side AS side, assumeNotNull(v0) AS v
      FROM (SELECT trace_id, value FROM scores FINAL WHERE project_id = ${p} AND name = ${name} AND value IS NOT NULL) AS s
      INNER JOIN (
        SELECT trace_id, any(if(${ref}, 0, 1)) AS side FROM spans FINAL
        WHERE parent_span_id = '' AND ((${ref}) OR (${cur})) GROUP BY trace_id) AS t
      ON s.trace_id = t.trace_id
      WHERE 1${finite}`
  }
  const from = spec.content ? spansWithContent(bag, bag.add(project, 'String')) : 'spans FINAL'
  return `SELECT ${spec.expr} AS v, if(${ref}, 0, 1) AS side FROM ${from}
    WHERE ((${ref}) OR (${cur})) AND (${spec.where})${finite}`
}

export function countQuery(project: string, sets: DriftSets, bag: ParamBag): string {
  const ref = spanConditions(project, sets.reference, bag).join(' AND ')
  const cur = spanConditions(project, sets.current, bag).join(' AND ')
  return `SELECT countIf(${ref}) AS n_ref, countIf(NOT (${ref}) AND (${cur})) AS n_cur FROM spans FINAL WHERE (${ref}) OR (${cur})`
}
