import type { ParamBag } from '../db.js'
import { spanConditions, type SpanFilter } from '../filters.js'
import type { SignalSpec } from './signals.js'
import { LIVE_SCORES } from '../scores/live.js'
import { headedTraces } from '../traces/heads.js'

/** The two populations being compared, each a span filter (a time window, a release, a model...). */
export interface DriftSets {
  reference: SpanFilter
  current: SpanFilter
}

/**
 * A subquery yielding (v, side) rows, side 0 = reference, 1 = current. A span that
 * matches both filters counts as reference. Values that are NaN or infinite are dropped.
 */
export function sourceQuery(project: string, sets: DriftSets, signal: SignalSpec, bag: ParamBag): string {
  const ref = spanConditions(project, sets.reference, bag).join(' AND ')
  const cur = spanConditions(project, sets.current, bag).join(' AND ')
  const spec = bindParams(signal, bag)
  const finite = spec.type === 'numeric' ? ' AND isFinite(v)' : ''
  if (spec.score !== undefined) {
    // A score belongs to the side of the trace it scores, decided by the trace's head in the sets
    // (traces/heads.ts): its root, or its earliest span when it has no root within reach, as the
    // trace listing lists it. Of a trace with roots on both sides, the reference's, as a span on
    // both sides counts there. Only scored traces' spans are read: the table's key is (project,
    // hour, trace), so a few scored traces skip most of each hour.
    const p = bag.add(project, 'String')
    const name = bag.add(spec.score, 'String')
    const scored = `${LIVE_SCORES} AND project_id = ${p} AND name = ${name} AND value IS NOT NULL`
    const heads = headedTraces(project, hull(sets), `(${ref}) OR (${cur})`, bag, { value: `if(${ref}, 0, 1)`, where: [`trace_id IN (SELECT trace_id FROM ${scored})`], final: true })
    return `SELECT s.value AS v0, t.head_value AS side, assumeNotNull(v0) AS v
      FROM (SELECT trace_id, value FROM ${scored}) AS s
      INNER JOIN (${heads}) AS t
      ON s.trace_id = t.trace_id
      WHERE 1${finite}`
  }
  // Text counts where it is not empty. Read as they are, the column's size subcolumn says so
  // without reading the text: under FINAL, ClickHouse does not turn notEmpty() into it (at 10
  // million spans, counting a day's prompts took 3.6 times as long with notEmpty()). Spans are
  // read as stored: content that arrived as log records is on them once the server's content
  // merge has run (content/merge.ts).
  const text = spec.type === 'text' ? ` AND ${spec.expr}.size > 0` : ''
  return `SELECT ${spec.expr} AS v, if(${ref}, 0, 1) AS side FROM spans FINAL
    WHERE ((${ref}) OR (${cur})) AND (${spec.where})${text}${finite}`
}

/** The time both sets span: from the earlier start to the later end, open where either is. */
function hull(sets: DriftSets): SpanFilter {
  const { reference: r, current: c } = sets
  return {
    ...(r.from && c.from ? { from: r.from < c.from ? r.from : c.from } : {}),
    ...(r.to && c.to ? { to: r.to > c.to ? r.to : c.to } : {}),
  }
}

export function countQuery(project: string, sets: DriftSets, bag: ParamBag): string {
  const ref = spanConditions(project, sets.reference, bag).join(' AND ')
  const cur = spanConditions(project, sets.current, bag).join(' AND ')
  return `SELECT countIf(${ref}) AS n_ref, countIf(NOT (${ref}) AND (${cur})) AS n_cur FROM spans FINAL WHERE (${ref}) OR (${cur})`
}

/**
 * The signal's own parameters (`{sig_key:String}`) renamed to fresh names of `bag`, so that
 * several signals' subqueries, each with its own key, can share one query.
 */
function bindParams(spec: SignalSpec, bag: ParamBag): SignalSpec {
  let { expr, where } = spec
  for (const [name, value] of Object.entries(spec.params ?? {})) {
    const placeholder = new RegExp(`\\{${name}:([^}]+)\\}`, 'g')
    const type = placeholder.exec(`${expr} ${where}`)?.[1]
    if (type === undefined) continue
    const fresh = bag.add(value, type)
    expr = expr.replaceAll(placeholder, fresh)
    where = where.replaceAll(placeholder, fresh)
  }
  return { ...spec, expr, where, params: {} }
}

/**
 * One query of several signals' subqueries, `branch(i, source)` each (`source` the signal's
 * `sourceQuery`), as UNION ALL: each signal is grouped on its own, and ClickHouse runs the
 * branches side by side in one pipeline instead of one query per signal. (One scan whose rows
 * are spread over the signals with arrayJoin, then grouped by signal and value, took 3 times as
 * long as these branches for the five numeric built-ins: bench/README.md, "Query".)
 */
export function unionOfSignals(project: string, sets: DriftSets, specs: readonly SignalSpec[], bag: ParamBag, branch: (i: number, source: string) => string): string {
  return specs.map((spec, i) => branch(i, sourceQuery(project, sets, spec, bag))).join('\n    UNION ALL\n    ')
}
