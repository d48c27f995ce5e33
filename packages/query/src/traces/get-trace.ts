import { contentOf, withContent } from '../content/span-content.js'
import { type ClickHouseClient, ParamBag, select } from '../db.js'
import { errors } from '../errors.js'
import { nanosToIso } from '../time.js'
import { noTokens, type RawSpan, type Span, spanSelect, TOKEN_FIELDS, TOKEN_KEYS, type Tokens, toSpan } from './span-row.js'
import { LIVE_SCORES } from '../scores/live.js'

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

export interface SpanNode extends Span {
  children: SpanNode[]
  scores: Score[]
}

export interface Trace {
  traceId: string
  startTime: string
  durationMs: number
  totals: {
    spans: number
    errors: number
    llmCalls: number
    /** each token count summed over the trace's spans */
    tokens: Tokens
    costUsd: number
    costIncomplete: boolean
  }
  /** roots of the tree; more than one when a parent span never arrived */
  roots: SpanNode[]
  /** scores attached to the trace as a whole (no span id) */
  scores: Score[]
}

/**
 * One trace as a tree, with per-span tokens, cost, latency and scores, and totals;
 * content that arrived as GenAI log records fills its spans (content/span-content.ts).
 */
export async function getTrace(client: ClickHouseClient, project: string, traceId: string): Promise<Trace> {
  const bag = new ParamBag()
  const p = bag.add(project, 'String')
  const t = bag.add(traceId, 'String')
  const [stored, scoreRows, content] = await Promise.all([
    select<RawSpan>(
      client,
      `SELECT ${spanSelect({ io: true })} FROM spans FINAL
       WHERE project_id = ${p} AND trace_id = ${t} ORDER BY start_time, span_id LIMIT 10000`,
      bag.values,
    ),
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
  ])
  if (stored.length === 0) throw errors.NOT_FOUND(`trace ${traceId}`)
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
  for (const r of rows) nodes.set(r.span_id, { ...toSpan(r), children: [], scores: [] })
  const roots: SpanNode[] = []
  for (const node of nodes.values()) {
    const parent = node.parentSpanId ? nodes.get(node.parentSpanId) : undefined
    if (parent) parent.children.push(node)
    else roots.push(node)
  }
  const traceScores: Score[] = []
  for (const s of scores) {
    const node = s.spanId ? nodes.get(s.spanId) : undefined
    if (node) node.scores.push(s)
    else traceScores.push(s)
  }

  let minNs = BigInt(rows[0]!.start_ns)
  let maxNs = BigInt(rows[0]!.end_ns)
  const totals = { spans: rows.length, errors: 0, llmCalls: 0, tokens: noTokens(), costUsd: 0, costIncomplete: false }
  for (const r of rows) {
    const s = BigInt(r.start_ns)
    const e = BigInt(r.end_ns)
    if (s < minNs) minNs = s
    if (e > maxNs) maxNs = e
    if (r.status_code === 'error') totals.errors++
    if (r.kind === 'llm') {
      totals.llmCalls++
      if (r.cost_usd === null) totals.costIncomplete = true
    }
    for (const k of TOKEN_KEYS) totals.tokens[k] += Number(r[TOKEN_FIELDS[k].alias])
    totals.costUsd += r.cost_usd === null ? 0 : Number(r.cost_usd)
  }
  return {
    traceId,
    startTime: nanosToIso(String(minNs)),
    durationMs: Number(maxNs - minNs) / 1e6,
    totals,
    roots,
    scores: traceScores,
  }
}
