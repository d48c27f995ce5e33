import { contentOf, withContent } from '../content/span-content.js'
import { type ClickHouseClient, ParamBag, select } from '../db.js'
import { errors } from '../errors.js'
import { nanosToIso } from '../time.js'
import { noTokens, type RawSpan, spanSelect, TOKEN_KEYS, type Tokens, toSpan } from '../traces/span-row.js'
import { LIVE_SCORES } from '../scores/live.js'

/** One trace of a session: a turn of the conversation. */
export interface SessionTurn {
  traceId: string
  name: string
  service: string
  startTime: string
  durationMs: number
  /** error when any span of the trace failed */
  status: string
  userId: string
  spans: number
  errors: number
  llmCalls: number
  tokens: Tokens
  costUsd: number
  costIncomplete: boolean
  /** what started the turn: the root span's input, else the earliest input of the trace */
  input: string
  /** what ended it: the root span's output, else the latest output of the trace */
  output: string
  scores: Array<{ name: string; value: number | null; stringValue: string }>
}

export interface Session {
  sessionId: string
  userIds: string[]
  startTime: string
  endTime: string
  totals: { traces: number; spans: number; errors: number; llmCalls: number; tokens: Tokens; costUsd: number; costIncomplete: boolean }
  /** oldest first */
  turns: SessionTurn[]
  /** more traces than `limit`: the first `limit` are shown */
  truncated: boolean
}

const MAX_SPANS = 20_000

/**
 * A session's traces in the order they started, each with its input and output
 * (content from GenAI log records included), and the session's totals. A trace
 * belongs to the session when any of its spans carries the session id.
 */
export async function getSession(client: ClickHouseClient, project: string, sessionId: string, opts: { limit: number }): Promise<Session> {
  const bag = new ParamBag()
  const p = bag.add(project, 'String')
  const ids = await select<{ trace_id: string; t: string }>(
    client,
    `SELECT trace_id, toString(toUnixTimestamp64Nano(min(start_time))) AS t FROM spans
     WHERE project_id = ${p} AND session_id = ${bag.add(sessionId, 'String')}
     GROUP BY trace_id ORDER BY min(start_time), trace_id LIMIT ${opts.limit + 1}`,
    bag.values,
  )
  if (ids.length === 0) throw errors.NOT_FOUND(`session ${sessionId}`)
  const traceIds = ids.slice(0, opts.limit).map((r) => r.trace_id)
  const earliest = ids.reduce((m, r) => (BigInt(r.t) < m ? BigInt(r.t) : m), BigInt(ids[0]!.t))
  const q = new ParamBag()
  const qp = q.add(project, 'String')
  const tids = q.add(traceIds, 'Array(String)')
  const [stored, scoreRows, content] = await Promise.all([
    select<RawSpan>(
      client,
      `SELECT ${spanSelect({ io: true })} FROM spans FINAL
       WHERE project_id = ${qp} AND trace_id IN ${tids} AND start_time >= fromUnixTimestamp64Nano(${q.add(String(earliest - 3_600_000_000_000n), 'Int64')}, 'UTC')
       ORDER BY start_time, span_id LIMIT ${MAX_SPANS}`,
      q.values,
    ),
    select<{ trace_id: string; name: string; value: number | null; string_value: string }>(
      client,
      `SELECT trace_id, name, value, string_value FROM ${LIVE_SCORES} AND project_id = ${qp} AND trace_id IN ${tids} ORDER BY timestamp, name, score_id`,
      q.values,
    ),
    contentOf(client, project, traceIds),
  ])
  const spans = withContent(stored, content).map(toSpan)
  const turns = traceIds.flatMap((id): SessionTurn[] => {
    const of = spans.filter((s) => s.traceId === id)
    if (of.length === 0) return []
    const root = of.find((s) => s.parentSpanId === null) ?? of[0]!
    const start = of.reduce((m, s) => (BigInt(s.startTimeUnixNano) < m ? BigInt(s.startTimeUnixNano) : m), BigInt(of[0]!.startTimeUnixNano))
    // From the first start to the last end, in ms from nanosecond starts (as a trace's duration is).
    const durationMs = Math.max(...of.map((s) => Number(BigInt(s.startTimeUnixNano) - start) / 1e6 + s.durationMs))
    const tokens = noTokens()
    for (const s of of) for (const k of TOKEN_KEYS) tokens[k] += s.tokens[k]
    const withInput = of.filter((s) => s.input)
    const withOutput = of.filter((s) => s.output).sort((a, b) => Date.parse(a.endTime) - Date.parse(b.endTime))
    const errorCount = of.filter((s) => s.status === 'error').length
    const llm = of.filter((s) => s.kind === 'llm')
    return [
      {
        traceId: id,
        name: root.name,
        service: root.service,
        startTime: nanosToIso(String(start)),
        durationMs,
        status: errorCount > 0 ? 'error' : root.status,
        userId: root.userId || (of.find((s) => s.userId)?.userId ?? ''),
        spans: of.length,
        errors: errorCount,
        llmCalls: llm.length,
        tokens,
        costUsd: of.reduce((n, s) => n + (s.costUsd ?? 0), 0),
        costIncomplete: llm.some((s) => s.costUsd === null),
        input: root.input || (withInput[0]?.input ?? ''),
        output: root.output || (withOutput[withOutput.length - 1]?.output ?? ''),
        scores: scoreRows.filter((s) => s.trace_id === id).map((s) => ({ name: s.name, value: s.value === null ? null : Number(s.value), stringValue: s.string_value })),
      },
    ]
  })
  const totals = { traces: turns.length, spans: 0, errors: 0, llmCalls: 0, tokens: noTokens(), costUsd: 0, costIncomplete: false }
  for (const t of turns) {
    totals.spans += t.spans
    totals.errors += t.errors
    totals.llmCalls += t.llmCalls
    totals.costUsd += t.costUsd
    totals.costIncomplete ||= t.costIncomplete
    for (const k of TOKEN_KEYS) totals.tokens[k] += t.tokens[k]
  }
  const ends = turns.map((t) => Date.parse(t.startTime) + t.durationMs)
  return {
    sessionId,
    userIds: [...new Set(spans.map((s) => s.userId).filter(Boolean))].sort(),
    startTime: turns[0]?.startTime ?? nanosToIso(String(earliest)),
    endTime: new Date(Math.max(...ends, Date.parse(turns[0]?.startTime ?? '0'))).toISOString(),
    totals,
    turns,
    truncated: ids.length > opts.limit,
  }
}
