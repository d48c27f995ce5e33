import { contentOf, withContent } from '../content/span-content.js'
import { type ClickHouseClient, ParamBag, select } from '../db.js'
import { errors } from '../errors.js'
import { nanosToIso } from '../time.js'
import { type RawSpan, type Span, spanSelect, toSpan } from './span-row.js'
import { DETAIL_SELECT, RESOURCE_KEY, type RawSpanDetail, type SpanDetail, toSpanDetail } from './span-detail.js'
import { LIVE_SCORES } from '../scores/live.js'
import { type SpanTotals, TOTALS_SELECT, totalsOf } from './totals.js'

export interface Score {
  id: string
  traceId: string
  spanId: string | null
  name: string
  value: number | null
  stringValue: string
  dataType: string
  source: string
  comment: string
  timestamp: string
}

export interface SpanNode extends Span, SpanDetail {
  children: SpanNode[]
  scores: Score[]
}

export interface Trace {
  traceId: string
  startTime: string
  durationMs: number
  /** over every span of the trace, shown in the tree or not */
  totals: SpanTotals
  /** roots of the tree; more than one when a parent span never arrived */
  roots: SpanNode[]
  /** each resource of the tree's spans once, by the key its spans name (`SpanNode.resource`) */
  resources: Record<string, Record<string, string>>
  /** scores attached to the trace as a whole (no span id) */
  scores: Score[]
  /** the trace has more than MAX_TREE_SPANS spans: the tree holds the first by start time */
  truncated: boolean
}

/** The most spans a trace's tree holds: each comes with its input and output, which can be large. */
const MAX_TREE_SPANS = 10_000

/**
 * One trace as a tree, with per-span tokens, cost, latency and scores, and totals over
 * all its spans; content that arrived as GenAI log records fills its spans
 * (content/span-content.ts).
 */
export async function getTrace(client: ClickHouseClient, project: string, traceId: string): Promise<Trace> {
  const bag = new ParamBag()
  const p = bag.add(project, 'String')
  const t = bag.add(traceId, 'String')
  const [stored, totalRows, scoreRows, content, resourceRows] = await Promise.all([
    select<RawSpan & RawSpanDetail>(
      client,
      `SELECT ${spanSelect({ io: true })}, ${DETAIL_SELECT} FROM spans FINAL
       WHERE project_id = ${p} AND trace_id = ${t} ORDER BY start_time, span_id LIMIT ${MAX_TREE_SPANS}`,
      bag.values,
    ),
    select<Record<string, unknown>>(client, `SELECT ${TOTALS_SELECT} FROM spans FINAL WHERE project_id = ${p} AND trace_id = ${t}`, bag.values),
    select<{
      score_id: string
      trace_id: string
      span_id: string
      name: string
      value: number | null
      string_value: string
      data_type: string
      source: string
      comment: string
      ts: string
    }>(
      client,
      `SELECT score_id, trace_id, span_id, name, value, string_value, data_type, source, comment,
              toString(toUnixTimestamp64Nano(timestamp)) AS ts
       FROM ${LIVE_SCORES} AND project_id = ${p} AND trace_id = ${t} ORDER BY timestamp, name, score_id`,
      bag.values,
    ),
    contentOf(client, project, [traceId]),
    // Every version of every span, not only those the tree holds: a superset of the keys it names.
    select<{ resource_key: string; attributes: Record<string, string> }>(
      client,
      `SELECT ${RESOURCE_KEY} AS resource_key, any(resource_attributes) AS attributes FROM spans
       WHERE project_id = ${p} AND trace_id = ${t} GROUP BY resource_key`,
      bag.values,
    ),
  ])
  const all = totalRows[0] === undefined ? undefined : totalsOf(totalRows[0])
  if (stored.length === 0 || all === undefined || all.totals.spans === 0) throw errors.NOT_FOUND(`trace ${traceId}`)
  const rows = withContent(stored, content)
  const scores: Score[] = scoreRows.map((s) => ({
    id: s.score_id,
    traceId: s.trace_id,
    spanId: s.span_id === '' ? null : s.span_id,
    name: s.name,
    value: s.value === null ? null : Number(s.value),
    stringValue: s.string_value,
    dataType: s.data_type,
    source: s.source,
    comment: s.comment,
    timestamp: nanosToIso(s.ts),
  }))

  const nodes = new Map<string, SpanNode>()
  const resources: Record<string, Record<string, string>> = {}
  const allResources = new Map(resourceRows.map((r) => [r.resource_key, r.attributes]))
  for (const r of rows) {
    const node: SpanNode = { ...toSpan(r), ...toSpanDetail(r), children: [], scores: [] }
    nodes.set(r.span_id, node)
    resources[node.resource] ??= allResources.get(node.resource) ?? {}
  }
  const roots: SpanNode[] = []
  for (const node of nodes.values()) {
    const parent = node.parentSpanId ? nodes.get(node.parentSpanId) : undefined
    if (parent) parent.children.push(node)
    else roots.push(node)
  }
  rootCycles(nodes, roots)
  const traceScores: Score[] = []
  for (const s of scores) {
    const node = s.spanId ? nodes.get(s.spanId) : undefined
    if (node) node.scores.push(s)
    else traceScores.push(s)
  }

  return {
    traceId,
    startTime: nanosToIso(all.firstNs),
    durationMs: all.durationMs,
    totals: all.totals,
    roots,
    resources,
    scores: traceScores,
    // The read stopped at the cap with spans left (a span written between the two reads is no cut).
    truncated: stored.length === MAX_TREE_SPANS && all.totals.spans > MAX_TREE_SPANS,
  }
}

/**
 * Spans whose parents form a cycle (A's parent B, B's parent A: ingest refuses only a span that
 * is its own parent, as a cycle's spans can arrive in different requests) hang off no root, so
 * the tree would not show them although the totals count them. Each cycle's earliest span (rows
 * come by start time) becomes a root, cut from its parent's children; its parentSpanId still says
 * what was sent.
 */
function rootCycles(nodes: Map<string, SpanNode>, roots: SpanNode[]): void {
  const reached = new Set<SpanNode>()
  const reach = (from: SpanNode) => {
    const stack = [from]
    while (stack.length > 0) {
      const n = stack.pop() as SpanNode
      if (reached.has(n)) continue
      reached.add(n)
      for (const c of n.children) stack.push(c)
    }
  }
  for (const r of roots) reach(r)
  if (reached.size === nodes.size) return
  for (const node of nodes.values()) {
    if (reached.has(node)) continue
    const parent = nodes.get(node.parentSpanId ?? '') as SpanNode
    parent.children.splice(parent.children.indexOf(node), 1)
    roots.push(node)
    reach(node)
  }
}
