import { CONTENT_COLUMNS, type ContentColumn, contentMayFill, spansWithContent } from '../content/span-content.js'
import { type ClickHouseClient, ParamBag } from '../db.js'
import { contentFreeFilter, spanConditions, type SpanFilter } from '../filters.js'
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
export function sourceQuery(project: string, sets: DriftSets, signal: SignalSpec, bag: ParamBag): string {
  const ref = spanConditions(project, sets.reference, bag).join(' AND ')
  const cur = spanConditions(project, sets.current, bag).join(' AND ')
  const spec = bindParams(signal, bag)
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
  // With the refusal flag as shown, which a set's `refusal` filter reads.
  const from = spec.content ? spansWithContent(bag, bag.add(project, 'String'), { refusal: true }) : 'spans FINAL'
  // Text counts where it is not empty. Read as they are, the column's size subcolumn says so
  // without reading the text: under FINAL, ClickHouse does not turn notEmpty() into it (at 10
  // million spans, counting a day's prompts took 3.6 times as long with notEmpty()).
  const text = spec.type !== 'text' ? '' : spec.content ? ` AND ${spec.expr} != ''` : ` AND ${spec.expr}.size > 0`
  return `SELECT ${spec.expr} AS v, if(${ref}, 0, 1) AS side FROM ${from}
    WHERE ((${ref}) OR (${cur})) AND (${spec.where})${text}${finite}`
}

/**
 * The signals, each read as spans are (its `content` dropped) where content from logs could
 * fill none of the spans it reads (content/span-content.ts, contentMayFill): the same values
 * without the join. The spans a signal reads are checked on the sets without their conditions
 * on content, and without the signal's own "not empty" condition (filled text may be).
 */
export async function withoutIdleContent(client: ClickHouseClient, project: string, sets: DriftSets, specs: readonly SignalSpec[]): Promise<SignalSpec[]> {
  return Promise.all(
    specs.map(async ({ content, ...spec }) => {
      if (!content) return spec
      const column = CONTENT_COLUMNS.find((c) => c === spec.expr)
      const bag = new ParamBag()
      const ref = spanConditions(project, contentFreeFilter(sets.reference), bag).join(' AND ')
      const cur = spanConditions(project, contentFreeFilter(sets.current), bag).join(' AND ')
      const read = [`(${ref}) OR (${cur})`, bindParams(spec, bag).where.replaceAll(`${spec.expr} != ''`, '1')]
      // A content signal whose value is not one of those columns as such is checked on all three.
      const columns: readonly ContentColumn[] = column ? [column] : CONTENT_COLUMNS
      return (await contentMayFill(client, project, read, bag.values, columns)) ? { ...spec, content } : spec
    }),
  )
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
