import { useState } from 'preact/hooks'
import { api } from '../api/client'
import type { Trace } from '../api/types'
import { ErrorBox, Loading } from '../components/State'
import { int, ms, time, usd } from '../format'
import { useAsync } from '../hooks'
import { Link } from '../router'
import { Scores, SpanDetail } from '../trace/SpanDetail'
import { findSpan, flatten } from '../trace/tree'
import { Waterfall } from '../trace/Waterfall'

export function TracePage({ traceId }: { traceId: string }) {
  const trace = useAsync(() => api.get<Trace>(`/traces/${encodeURIComponent(traceId)}`), [traceId])
  const [selected, setSelected] = useState<string | null>(null)

  if (trace.state === 'loading') return <Loading what="Loading trace" />
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
  const t = trace.value
  const { rows, totalMs } = flatten(t.roots)
  // Default to the first LLM call: that is what people open a trace for.
  const current = (selected && findSpan(t.roots, selected)) || rows.find((r) => r.span.kind === 'llm')?.span || rows[0]?.span
  return (
    <section class="trace-page">
      <p>
        <Link href="/traces">← Traces</Link>
      </p>
      <h1>
        {t.roots[0]?.name ?? 'Trace'} <span class="muted mono small">{t.traceId}</span>
      </h1>
      <div class="stats">
        <Stat label="Start" value={time(t.startTime)} />
        <Stat label="Duration" value={ms(t.durationMs)} />
        <Stat label="Spans" value={int(t.totals.spans)} />
        <Stat label="Errors" value={int(t.totals.errors)} />
        <Stat label="LLM calls" value={int(t.totals.llmCalls)} />
        <Stat label="Tokens" value={`${int(t.totals.tokens.input)} / ${int(t.totals.tokens.output)}`} hint="input / output" />
        <Stat label="Cost" value={usd(t.totals.costUsd, t.totals.costIncomplete)} {...(t.totals.costIncomplete ? { hint: 'some calls have no known price' } : {})} />
      </div>
      {t.scores.length > 0 && (
        <div class="card">
          <h4>Trace scores</h4>
          <Scores scores={t.scores} />
        </div>
      )}
      <Waterfall rows={rows} totalMs={totalMs} selected={current?.spanId ?? null} onSelect={setSelected} />
      {current && <SpanDetail key={current.spanId} span={current} />}
    </section>
  )
}

export function Stat({ label, value, hint }: { label: string; value: string; hint?: string }) {
  return (
    <div class="stat" title={hint}>
      <div class="stat-label">{label}</div>
      <div class="stat-value">{value}</div>
    </div>
  )
}
