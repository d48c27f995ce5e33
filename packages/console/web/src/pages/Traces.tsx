import { useState } from 'preact/hooks'
import { api } from '../api/client'
import type { Page, Summary, TraceSummary } from '../api/types'
import { FilterBar, filtersFrom, filtersToSearch, type TraceFilters } from '../components/Filters'
import { Empty, ErrorBox, Loading } from '../components/State'
import { COST_NOTE, int, ms, shortId, time, usd } from '../format'
import { useAsync } from '../hooks'
import { Link, navigate, useLocation } from '../router'

const PAGE_SIZE = 50

/** OTLP's `unset` is what a healthy span reports: shown as ok. */
export function StatusBadge({ status }: { status: string }) {
  const word = status === 'error' ? 'error' : 'ok'
  return <span class={`badge status-${word}`}>{word}</span>
}

export function TracesPage() {
  const loc = useLocation()
  const filters = filtersFrom(loc.search)
  const key = filtersToSearch(filters)
  // Cursors of the pages walked so far; the API pages newest-first with a keyset cursor.
  const [cursors, setCursors] = useState<{ key: string; stack: Array<string | null> }>({ key, stack: [null] })
  const stack = cursors.key === key ? cursors.stack : [null]
  const cursor = stack[stack.length - 1] ?? null

  const page = useAsync(() => api.get<Page<TraceSummary>>('/traces', { ...filters, limit: PAGE_SIZE, cursor }), [key, cursor])
  const options = useAsync(() => api.get<Summary>('/summary', { groupBy: 'service,model', from: filters.from || 'now-30d' }), [filters.from])
  const services = options.state === 'done' ? [...new Set(options.value.rows.map((r) => r.group.service ?? '').filter(Boolean))].sort() : []
  const models = options.state === 'done' ? [...new Set(options.value.rows.map((r) => r.group.model ?? '').filter(Boolean))].sort() : []

  const apply = (f: TraceFilters) => navigate(`/traces?${filtersToSearch(f)}`)

  return (
    <section>
      <h1>Traces</h1>
      <FilterBar key={key} value={filters} onApply={apply} services={services} models={models} />
      {page.state === 'loading' && <Loading what="Loading traces" />}
      {page.state === 'error' && <ErrorBox error={page.error} />}
      {page.state === 'done' && page.value.items.length === 0 && <Empty>No traces match these filters.</Empty>}
      {page.state === 'done' && page.value.items.length > 0 && (
        <table class="grid traces">
          <thead>
            <tr>
              <th>Start</th>
              <th>Trace</th>
              <th>Service</th>
              <th>Status</th>
              <th class="num">Duration</th>
              <th class="num">Spans</th>
              <th class="num">LLM calls</th>
              <th class="num">Tokens</th>
              <th class="num">Cost</th>
              <th>User</th>
              <th>Scores</th>
            </tr>
          </thead>
          <tbody>
            {page.value.items.map((t) => (
              <tr key={t.traceId} class="clickable" onClick={(e) => (e.target as HTMLElement).closest('a') || navigate(`/traces/${t.traceId}`)}>
                <td class="nowrap">{time(t.startTime)}</td>
                <td>
                  <Link href={`/traces/${t.traceId}`} class="trace-link">
                    {t.name || '(unnamed)'}
                  </Link>
                  <div class="muted mono small">{shortId(t.traceId)}</div>
                </td>
                <td>{t.service}</td>
                <td>
                  <StatusBadge status={t.status} />
                  {t.errors > 0 && <span class="muted small"> {t.errors} err</span>}
                </td>
                <td class="num">{ms(t.durationMs)}</td>
                <td class="num">{int(t.spans)}</td>
                <td class="num">{int(t.llmCalls)}</td>
                <td class="num">{int(t.tokens.total)}</td>
                <td class="num" {...(t.costIncomplete || t.costUsd === null ? { title: COST_NOTE } : {})}>
                  {usd(t.costUsd, t.costIncomplete)}
                </td>
                <td class="small">{t.userId}</td>
                <td class="small">
                  {t.scores.map((s) => (
                    <span key={s.name} class="chip">
                      {s.name}: {s.value ?? s.stringValue}
                    </span>
                  ))}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <div class="pager">
        <button type="button" disabled={stack.length <= 1} onClick={() => setCursors({ key, stack: stack.slice(0, -1) })}>
          ← Newer
        </button>
        <span class="muted">Page {stack.length}</span>
        <button
          type="button"
          disabled={page.state !== 'done' || !page.value.nextCursor}
          onClick={() => page.state === 'done' && page.value.nextCursor && setCursors({ key, stack: [...stack, page.value.nextCursor] })}
        >
          Older →
        </button>
      </div>
    </section>
  )
}

