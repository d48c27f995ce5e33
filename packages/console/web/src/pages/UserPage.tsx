import { api } from '../api/client'
import type { UserSummary } from '../api/types'
import { ErrorBox, Loading } from '../components/State'
import { PALETTE, TimeSeriesChart } from '../components/TimeSeriesChart'
import { COST_NOTE, int, num, time, usd } from '../format'
import { useAsync } from '../hooks'
import { isoOf, sessionHref, tracesHref } from '../links'
import { Link, setSearch, useLocation } from '../router'
import { Stat } from './TracePage'

const RANGES = [
  { from: 'now-24h', label: 'Last 24 hours', bucket: '1h', bucketS: 3600 },
  { from: 'now-7d', label: 'Last 7 days', bucket: '6h', bucketS: 21_600 },
  { from: 'now-30d', label: 'Last 30 days', bucket: '1d', bucketS: 86_400 },
  { from: 'now-90d', label: 'Last 90 days', bucket: '1d', bucketS: 86_400 },
] as const

/** Every bucket start (epoch seconds) from `from` to `to`, aligned as the server aligns them. */
function grid(u: UserSummary): number[] {
  const b = u.bucketSeconds
  const out: number[] = []
  for (let t = Math.floor(Date.parse(u.from) / 1000 / b) * b; t < Date.parse(u.to) / 1000; t += b) out.push(t)
  return out
}

/** A user's traffic over time: calls, errors, cost, feedback, and their sessions. State in the URL (?range=). */
export function UserPage({ userId }: { userId: string }) {
  const { search } = useLocation()
  const range = RANGES.find((r) => r.from === search.get('range')) ?? RANGES[2]
  const user = useAsync(() => api.get<UserSummary>(`/users/${encodeURIComponent(userId)}`, { from: range.from, bucket: range.bucket }), [userId, range.from])
  return (
    <section class="user-page">
      <p>
        <Link href={tracesHref({ from: range.from, userId })}>← Traces of this user</Link>
      </p>
      <h1>
        User <span class="mono">{userId}</span>
      </h1>
      <form class="filters" onSubmit={(e) => e.preventDefault()} autocomplete="off">
        <label>
          Time
          <select name="range" value={range.from} onChange={(e) => setSearch({ range: (e.target as HTMLSelectElement).value })}>
            {RANGES.map((r) => (
              <option key={r.from} value={r.from}>
                {r.label}
              </option>
            ))}
          </select>
        </label>
      </form>
      {user.state === 'loading' && <Loading what="Loading the user" />}
      {user.state === 'error' && <ErrorBox error={user.error} />}
      {user.state === 'done' && <UserBody u={user.value} from={range.from} />}
    </section>
  )
}

function UserBody({ u, from }: { u: UserSummary; from: string }) {
  const x = grid(u)
  const at = new Map(u.series.map((b) => [Date.parse(b.time) / 1000, b]))
  const col = (pick: (b: UserSummary['series'][number]) => number) => x.map((t) => pick(at.get(t) ?? { time: '', traces: 0, calls: 0, errors: 0, tokens: 0, costUsd: 0 }))
  const bucketHref = (extra: Record<string, string>) => (i: number) => (x[i] === undefined ? null : tracesHref({ from: isoOf(x[i]!), to: isoOf(x[i]! + u.bucketSeconds), userId: u.userId, ...extra }))
  const t = u.totals
  if (t.traces === 0) return <p class="muted empty">No traces of this user in this range.</p>
  return (
    <>
      <div class="stats">
        <Stat label="Traces" value={int(t.traces)} />
        <Stat label="Sessions" value={int(t.sessions)} />
        <Stat label="LLM calls" value={int(t.calls)} />
        <Stat label="Errors" value={int(t.errors)} />
        <Stat label="Tokens" value={int(t.tokens)} />
        <Stat label="Cost" value={usd(t.costUsd, t.costUnknownCalls > 0)} {...(t.costUnknownCalls > 0 ? { hint: COST_NOTE } : {})} />
        <Stat label="First seen" value={t.firstSeen ? time(t.firstSeen) : '–'} />
        <Stat label="Last seen" value={t.lastSeen ? time(t.lastSeen) : '–'} />
      </div>
      <p>
        <Link href={tracesHref({ from, userId: u.userId, status: 'error' })}>Traces with errors</Link>
      </p>
      <div class="chart-grid">
        <TimeSeriesChart
          title="LLM calls and errors"
          x={x}
          series={[
            { label: 'calls', color: PALETTE[0]!, values: col((b) => b.calls) },
            { label: 'errors', color: PALETTE[1]!, values: col((b) => b.errors) },
          ]}
          format={(v) => (Number.isInteger(v) ? int(v) : v.toFixed(1))}
          href={bucketHref({})}
        />
        <TimeSeriesChart title="Cost (USD)" x={x} series={[{ label: 'cost', color: PALETTE[2]!, values: col((b) => b.costUsd) }]} format={(v) => usd(v)} href={bucketHref({})} />
        {u.scores.length > 0 && (
          <TimeSeriesChart
            title="Scores (mean per bucket)"
            x={x}
            series={u.scores.map((s, i) => {
              const byT = new Map(s.points.map((p) => [Date.parse(p.time) / 1000, p.mean]))
              return { label: s.name, color: PALETTE[(i + 3) % PALETTE.length]!, values: x.map((t) => byT.get(t) ?? null) }
            })}
            format={(v) => num(v, 2)}
          />
        )}
      </div>
      <div class="two-col">
        <div class="card">
          <h2 class="h3">Feedback and scores</h2>
          {u.scores.length === 0 ? (
            <p class="muted small">No scores on this user's traces.</p>
          ) : (
            <table class="grid compact">
              <thead>
                <tr>
                  <th>Score</th>
                  <th class="num">Count</th>
                  <th class="num">Mean</th>
                  <th class="num">At or below 0</th>
                </tr>
              </thead>
              <tbody>
                {u.scores.map((s) => (
                  <tr key={s.name}>
                    <td>
                      <Link href={tracesHref({ from, userId: u.userId, [`score.${s.name}`]: '*' })}>{s.name}</Link>
                    </td>
                    <td class="num">{int(s.count)}</td>
                    <td class="num">{num(s.mean, 3)}</td>
                    <td class="num">
                      {s.negative > 0 ? <Link href={tracesHref({ from, userId: u.userId, [`score.${s.name}`]: '<=0' })}>{int(s.negative)}</Link> : '0'}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </div>
        <div class="card">
          <h2 class="h3">Sessions</h2>
          {u.sessions.length === 0 ? (
            <p class="muted small">No sessions: this user's spans carry no session id.</p>
          ) : (
            <table class="grid compact sessions">
              <thead>
                <tr>
                  <th>Session</th>
                  <th class="num">Traces</th>
                  <th>Last</th>
                </tr>
              </thead>
              <tbody>
                {u.sessions.map((s) => (
                  <tr key={s.sessionId}>
                    <td>
                      <Link href={sessionHref(s.sessionId)}>{s.sessionId}</Link>
                    </td>
                    <td class="num">{int(s.traces)}</td>
                    <td class="nowrap">{time(s.lastTime)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </div>
      </div>
    </>
  )
}
