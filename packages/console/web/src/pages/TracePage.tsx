import { useRef, useState } from 'preact/hooks'
import { api } from '../api/client'
import type { Trace } from '../api/types'
import { ErrorBox, Loading } from '../components/State'
import { int, ms, time, tokenDetails, usd } from '../format'
import { useAsync } from '../hooks'
import { sessionHref, userHref } from '../links'
import { Link, setSearch, useLocation } from '../router'
import { Scores, SpanDetail, TraceLogs } from '../trace/SpanDetail'
import { allSpans, findSpan, flatten } from '../trace/tree'
import { Waterfall } from '../trace/Waterfall'

export function TracePage({ traceId }: { traceId: string }) {
  const loc = useLocation()
  // Bumped after a score is saved: the trace is read again with it.
  const [version, setVersion] = useState(0)
  const trace = useAsync(() => api.get<Trace>(`/traces/${encodeURIComponent(traceId)}`), [traceId, version])
  // The selected span lives in the URL (?span=), replaced rather than pushed: Back leaves the trace.
  const selected = loc.search.get('span')
  const select = (spanId: string) => setSearch({ span: spanId }, true)
  // While a saved score reloads the trace, the page keeps showing the one it has.
  const shown = useRef<Trace>()
  if (trace.state === 'done') shown.current = trace.value

  if (trace.state === 'loading' && shown.current?.traceId !== traceId) return <Loading what="Loading trace" />
  if (trace.state === 'error') {
    return (
      <section>
        <p>
          <Link href="/traces">← Traces</Link>
        </p>
        <ErrorBox error={trace.error} />
      </section>
    )
  }
  const t = trace.state === 'done' ? trace.value : shown.current!
  const { rows, totalMs, startNs } = flatten(t.roots)
  // Default to the first LLM call: that is what people open a trace for.
  const current = (selected && findSpan(t.roots, selected)) || rows.find((r) => r.span.kind === 'llm')?.span || rows[0]?.span
  const spans = allSpans(t.roots)
  const scoreNames = [...new Set([...t.scores, ...spans.flatMap((s) => s.scores)].map((s) => s.name))].sort()
  const root = t.roots[0]
  const user = spans.find((s) => s.userId)?.userId
  const session = spans.find((s) => s.sessionId)?.sessionId
  const changed = () => setVersion((v) => v + 1)
  return (
    <section class="trace-page">
      <p>
        <Link href="/traces">← Traces</Link>
      </p>
      <h1>
        {root?.name ?? 'Trace'} <span class="muted mono small">{t.traceId}</span>
      </h1>
      <div class="stats">
        <Stat label="Start" value={time(t.startTime)} />
        <Stat label="Duration" value={ms(t.durationMs)} />
        <Stat label="Spans" value={int(t.totals.spans)} />
        <Stat label="Errors" value={int(t.totals.errors)} />
        <Stat label="LLM calls" value={int(t.totals.llmCalls)} />
        <Stat label="Tokens" value={`${int(t.totals.tokens.input)} / ${int(t.totals.tokens.output)}`} hint="input / output" detail={tokenDetails(t.totals.tokens)} />
        <Stat label="Cost" value={usd(t.totals.costUsd, t.totals.costIncomplete)} {...(t.totals.costIncomplete ? { hint: 'some calls have no known price' } : {})} />
      </div>
      {(user || session) && (
        <p class="trace-people">
          {user && (
            <>
              User <Link href={userHref(user)}>{user}</Link>
            </>
          )}
          {user && session && ' · '}
          {session && (
            <>
              Session <Link href={sessionHref(session)}>{session}</Link>
            </>
          )}
        </p>
      )}
      <div class="card">
        <h2 class="h4">Trace scores</h2>
        <Scores scores={t.scores} traceId={t.traceId} names={scoreNames} onChanged={changed} />
      </div>
      {t.truncated && (
        <div class="notice" role="status">
          This trace has {int(t.totals.spans)} spans: the first {int(spans.length)} by start time are shown (a span whose parent is not among them shows as a root). The figures above count them all.
        </div>
      )}
      <Waterfall rows={rows} totalMs={totalMs} selected={current?.spanId ?? null} onSelect={select} />
      {current && <SpanDetail key={current.spanId} span={current} resource={t.resources[current.resource] ?? {}} scoreNames={scoreNames} onScoresChanged={changed} />}
      {rows.length > 0 && <TraceLogs traceId={t.traceId} startNs={startNs} title="Logs of the trace outside any span" card />}
    </section>
  )
}

/** A figure with its label; `detail`, when not empty, is a line of smaller print under it. */
export function Stat({ label, value, hint, detail }: { label: string; value: string; hint?: string; detail?: string }) {
  return (
    <div class="stat" title={hint}>
      <div class="stat-label">{label}</div>
      <div class="stat-value">{value}</div>
      {detail ? <div class="stat-detail">{detail}</div> : null}
    </div>
  )
}
