import { spansWithContent } from '../content/span-content.js'
import { type ClickHouseClient, ParamBag, select } from '../db.js'
import { errors } from '../errors.js'
import { nanosToIso } from '../time.js'
import { LIVE_SCORES, type ScoreBrief } from '../scores/live.js'
import { TRACE_SLACK } from '../traces/slack.js'
import { type SpanTotals, TOTALS_SELECT, totalsOf } from '../traces/totals.js'

/** One trace of a session: a turn of the conversation, with its totals over every span (SpanTotals). */
export interface SessionTurn extends SpanTotals {
  traceId: string
  name: string
  service: string
  startTime: string
  durationMs: number
  /** error when any span of the trace failed */
  status: string
  userId: string
  /** what started the turn: the root span's input, else the earliest input of the trace */
  input: string
  /** what ended it: the root span's output, else the latest output of the trace */
  output: string
  scores: ScoreBrief[]
}

export interface Session {
  sessionId: string
  userIds: string[]
  startTime: string
  endTime: string
  /** over every trace of the session, shown in `turns` or not */
  totals: { traces: number } & SpanTotals
  /** oldest first */
  turns: SessionTurn[]
  /** more traces than `limit`: the first `limit` are shown */
  truncated: boolean
}

/** A turn's own columns: its root span's (the earliest root, else the earliest span) and the first input, last output and first user. */
const TURN_SELECT = [
  ...['name', 'service_name', 'status_code', 'user_id', 'input', 'output'].map((c) => `argMin(${c}, (parent_span_id != '', start_time, span_id)) AS root_${c}`),
  "argMinIf(input, (start_time, span_id), input != '') AS first_input",
  "argMaxIf(output, (end_time, start_time, span_id), output != '') AS last_output",
  "argMinIf(user_id, (start_time, span_id), user_id != '') AS first_user",
].join(', ')

interface TurnRow extends Record<string, unknown> {
  trace_id: string
  root_name: string
  root_service_name: string
  root_status_code: string
  root_user_id: string
  root_input: string
  root_output: string
  first_input: string
  last_output: string
  first_user: string
}

/**
 * A session's traces in the order they started, each with its input and output
 * (content from GenAI log records included), and the session's totals over all its
 * traces, however many `limit` shows. A trace belongs to the session when any of its
 * spans carries the session id. Every number is counted in ClickHouse over every span:
 * no reply is cut short by a trace's size.
 */
export async function getSession(client: ClickHouseClient, project: string, sessionId: string, opts: { limit: number }): Promise<Session> {
  const bag = new ParamBag()
  const p = bag.add(project, 'String')
  const carried = `project_id = ${p} AND session_id = ${bag.add(sessionId, 'String')}`
  const ids = await select<{ trace_id: string; t: string }>(
    client,
    `SELECT trace_id, toString(toUnixTimestamp64Nano(min(start_time))) AS t FROM spans
     WHERE ${carried} GROUP BY trace_id ORDER BY min(start_time), trace_id LIMIT ${opts.limit + 1}`,
    bag.values,
  )
  if (ids.length === 0) throw errors.NOT_FOUND(`session ${sessionId}`)
  const traceIds = ids.slice(0, opts.limit).map((r) => r.trace_id)
  // The first row started first. A span of a session's trace that carries no session id
  // may start before it (a clock behind): as far before as a trace's spans may start before its root (slack.ts).
  const since = `start_time >= fromUnixTimestamp64Nano(${bag.add(String(BigInt(ids[0]!.t) - BigInt(TRACE_SLACK.beforeRootMs) * 1_000_000n), 'Int64')}, 'UTC')`
  const shown = bag.add(traceIds, 'Array(String)')
  const [wholeRows, turnRows, scoreRows] = await Promise.all([
    select<Record<string, unknown> & { traces: number; users: string[] }>(
      client,
      `SELECT ${TOTALS_SELECT}, uniqExact(trace_id) AS traces, arraySort(groupUniqArrayIf(user_id, user_id != '')) AS users
       FROM spans FINAL WHERE project_id = ${p} AND trace_id IN (SELECT trace_id FROM spans WHERE ${carried}) AND ${since}`,
      bag.values,
    ),
    select<TurnRow>(
      client,
      `SELECT trace_id, ${TOTALS_SELECT}, ${TURN_SELECT}
       FROM ${spansWithContent(p, shown)} WHERE ${since} GROUP BY trace_id`,
      bag.values,
    ),
    select<{ trace_id: string; name: string; value: number | null; string_value: string; data_type: string }>(
      client,
      `SELECT trace_id, name, value, string_value, data_type FROM ${LIVE_SCORES} AND project_id = ${p} AND trace_id IN ${shown} ORDER BY timestamp, name, score_id`,
      bag.values,
    ),
  ])
  const byId = new Map(turnRows.map((r) => [r.trace_id, r]))
  const turns = traceIds.flatMap((id): SessionTurn[] => {
    const r = byId.get(id)
    if (r === undefined) return []
    const { totals, firstNs, durationMs } = totalsOf(r)
    return [
      {
        traceId: id,
        name: r.root_name,
        service: r.root_service_name,
        startTime: nanosToIso(firstNs),
        durationMs,
        status: totals.errors > 0 ? 'error' : r.root_status_code,
        userId: r.root_user_id || r.first_user,
        ...totals,
        input: r.root_input || r.first_input,
        output: r.root_output || r.last_output,
        scores: scoreRows.filter((s) => s.trace_id === id).map((s) => ({ name: s.name, value: s.value === null ? null : Number(s.value), stringValue: s.string_value, dataType: s.data_type })),
      },
    ]
  })
  const whole = wholeRows[0]!
  const { totals, firstNs, lastNs } = totalsOf(whole)
  return {
    sessionId,
    userIds: whole.users,
    startTime: nanosToIso(firstNs),
    endTime: nanosToIso(lastNs),
    totals: { traces: Number(whole.traces), ...totals },
    turns,
    truncated: ids.length > opts.limit,
  }
}
