import { type ClickHouseClient, ParamBag, numOrNull, select } from '../db.js'
import { chTime } from '../time.js'
import { LIVE_SCORES } from '../scores/live.js'
import { spansAround } from '../traces/slack.js'

export interface UserBucket {
  time: string
  traces: number
  /** LLM calls */
  calls: number
  errors: number
  tokens: number
  costUsd: number
}

export interface UserScore {
  name: string
  count: number
  mean: number | null
  /** scores at or below 0 (a thumbs-down on a 0/1 or -1/1 scale) */
  negative: number
  points: Array<{ time: string; count: number; mean: number | null }>
}

export interface UserSummary {
  userId: string
  from: string
  to: string
  bucketSeconds: number
  totals: {
    traces: number
    sessions: number
    spans: number
    calls: number
    errors: number
    tokens: number
    costUsd: number
    /** LLM calls without a known price (not in costUsd) */
    costUnknownCalls: number
    firstSeen: string | null
    lastSeen: string | null
  }
  /** one row per bucket with traffic */
  series: UserBucket[]
  scores: UserScore[]
  /** the user's sessions, most recent first (at most 50) */
  sessions: Array<{ sessionId: string; traces: number; startTime: string; lastTime: string }>
}

const iso = (ch: string) => new Date(`${ch.replace(' ', 'T')}Z`).toISOString()

/**
 * A user's traces (any span carrying the user id) in a time range: totals, calls,
 * errors, tokens and cost per bucket over every span of those traces, their scores
 * (feedback) per bucket, and their sessions.
 */
export async function userSummary(client: ClickHouseClient, project: string, userId: string, opts: { from: Date; to: Date; bucketSeconds: number }): Promise<UserSummary> {
  const bag = new ParamBag()
  const p = bag.add(project, 'String')
  const from = bag.add(chTime(opts.from), "DateTime64(9, 'UTC')")
  const to = bag.add(chTime(opts.to), "DateTime64(9, 'UTC')")
  const traces = `SELECT trace_id FROM spans WHERE project_id = ${p} AND user_id = ${bag.add(userId, 'String')} AND start_time >= ${from} AND start_time < ${to}`
  // The traces' other spans start around the window as a trace's spans do around its root (slack.ts).
  const around = spansAround({ from: opts.from, to: opts.to })
  const spansFrom = bag.add(chTime(around.from ?? opts.from), "DateTime64(9, 'UTC')")
  const spansTo = bag.add(chTime(around.to ?? opts.to), "DateTime64(9, 'UTC')")
  const spans = `FROM spans FINAL WHERE project_id = ${p} AND trace_id IN (${traces}) AND start_time >= ${spansFrom} AND start_time < ${spansTo}`
  const bucket = (col: string) => `toString(toStartOfInterval(${col}, toIntervalSecond(${bag.add(opts.bucketSeconds, 'UInt32')}), 'UTC'))`
  const [totals, series, scores, sessions] = await Promise.all([
    select<Record<string, unknown>>(
      client,
      `SELECT uniqExact(trace_id) AS traces, uniqExactIf(session_id, session_id != '') AS sessions, count() AS spans,
              countIf(kind = 'llm') AS calls, countIf(status_code = 'error') AS errors, sum(total_tokens) AS tokens,
              sum(ifNull(cost_usd, 0)) AS cost, countIf(kind = 'llm' AND cost_usd IS NULL) AS cost_unknown,
              if(count() > 0, toString(min(start_time)), '') AS first, if(count() > 0, toString(max(start_time)), '') AS last
       ${spans}`,
      bag.values,
    ),
    select<Record<string, unknown>>(
      client,
      `SELECT ${bucket('start_time')} AS t, uniqExact(trace_id) AS traces, countIf(kind = 'llm') AS calls, countIf(status_code = 'error') AS errors,
              sum(total_tokens) AS tokens, sum(ifNull(cost_usd, 0)) AS cost
       ${spans} GROUP BY t ORDER BY t`,
      bag.values,
    ),
    select<{ name: string; t: string; n: number; mean: number | null; neg: number }>(
      client,
      `SELECT name, ${bucket('timestamp')} AS t, count() AS n, avgIf(assumeNotNull(value), value IS NOT NULL) AS mean, countIf(value <= 0) AS neg
       FROM ${LIVE_SCORES} AND project_id = ${p} AND trace_id IN (${traces})
       GROUP BY name, t ORDER BY name, t`,
      bag.values,
    ),
    select<{ session_id: string; traces: number; first: string; last: string }>(
      client,
      `SELECT session_id, uniqExact(trace_id) AS traces, toString(min(start_time)) AS first, toString(max(start_time)) AS last
       ${spans} AND session_id != '' GROUP BY session_id ORDER BY max(start_time) DESC, session_id LIMIT 50`,
      bag.values,
    ),
  ])
  const t = totals[0] ?? {}
  const byName = new Map<string, UserScore>()
  for (const s of scores) {
    const entry = byName.get(s.name) ?? { name: s.name, count: 0, mean: null, negative: 0, points: [] }
    const mean = numOrNull(s.mean)
    const n = Number(s.n)
    if (mean !== null) entry.mean = ((entry.mean ?? 0) * entry.count + mean * n) / (entry.count + n)
    entry.count += n
    entry.negative += Number(s.neg)
    entry.points.push({ time: iso(s.t), count: n, mean })
    byName.set(s.name, entry)
  }
  return {
    userId,
    from: opts.from.toISOString(),
    to: opts.to.toISOString(),
    bucketSeconds: opts.bucketSeconds,
    totals: {
      traces: Number(t.traces ?? 0),
      sessions: Number(t.sessions ?? 0),
      spans: Number(t.spans ?? 0),
      calls: Number(t.calls ?? 0),
      errors: Number(t.errors ?? 0),
      tokens: Number(t.tokens ?? 0),
      costUsd: Number(t.cost ?? 0),
      costUnknownCalls: Number(t.cost_unknown ?? 0),
      firstSeen: t.first ? iso(String(t.first)) : null,
      lastSeen: t.last ? iso(String(t.last)) : null,
    },
    series: series.map((r) => ({
      time: iso(String(r.t)),
      traces: Number(r.traces),
      calls: Number(r.calls),
      errors: Number(r.errors),
      tokens: Number(r.tokens),
      costUsd: Number(r.cost),
    })),
    scores: [...byName.values()],
    sessions: sessions.map((s) => ({ sessionId: s.session_id, traces: Number(s.traces), startTime: iso(s.first), lastTime: iso(s.last) })),
  }
}
