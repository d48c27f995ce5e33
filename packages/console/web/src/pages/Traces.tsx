import { useEffect, useState } from 'preact/hooks'
import { api } from '../api/client'
import type { AttributeKeys, Page, Summary, TraceSummary } from '../api/types'
import { FilterBar, filtersFrom, filtersToSearch, type TraceFilters } from '../components/Filters'
import { NoData } from '../components/FirstRun'
import { ScoreChips } from '../components/ScoreChips'
import { ErrorBox, Loading } from '../components/State'
import { COST_NOTE, int, ms, shortId, time, usd } from '../format'
import { useAsync } from '../hooks'
import { sessionHref, traceHref, userHref } from '../links'
import { Link, navigate, useLocation } from '../router'
import { Columns, type ColumnId, useColumns } from '../trace-list/columns'
import { SavedViews } from '../trace-list/SavedViews'

const PAGE_SIZE = 50

/** OTLP's `unset` is what a healthy span reports: shown as ok. */
export function StatusBadge({ status }: { status: string }) {
  const word = status === 'error' ? 'error' : 'ok'
  return <span class={`badge status-${word}`}>{word}</span>
}

/** Sortable fields of the listing (the API's `order`); a leading `-` is descending. */
const SORTABLE: Partial<Record<ColumnId, string>> = { start: 'startTime', duration: 'durationMs', spans: 'spans', tokens: 'tokens', cost: 'costUsd' }

function SortHeader({ id, label, order, onSort, num }: { id: ColumnId; label: string; order: string; onSort: (o: string) => void; num?: boolean }) {
  const field = SORTABLE[id]
  if (!field) return <th class={num ? 'num' : ''}>{label}</th>
  const active = order.replace(/^-/, '') === field
  const desc = order.startsWith('-')
  const next = active ? (desc ? field : `-${field}`) : `-${field}`
  return (
    <th class={num ? 'num' : ''} aria-sort={active ? (desc ? 'descending' : 'ascending') : 'none'}>
      <button type="button" class="sort" onClick={() => onSort(next)} title={`Sort by ${label.toLowerCase()}`}>
        {label}
        <span aria-hidden="true">{active ? (desc ? ' ▼' : ' ▲') : ''}</span>
      </button>
    </th>
  )
}

const HEAD: Record<ColumnId, { label: string; num?: boolean }> = {
  start: { label: 'Start' },
  trace: { label: 'Trace' },
  service: { label: 'Service' },
  status: { label: 'Status' },
  duration: { label: 'Duration', num: true },
  spans: { label: 'Spans', num: true },
  llmCalls: { label: 'LLM calls', num: true },
  tokens: { label: 'Tokens', num: true },
  cost: { label: 'Cost', num: true },
  user: { label: 'User' },
  session: { label: 'Session' },
  scores: { label: 'Scores' },
}

function Cell({ id, t }: { id: ColumnId; t: TraceSummary }) {
  switch (id) {
    case 'start':
      return <td class="nowrap">{time(t.startTime)}</td>
    case 'trace':
      return (
        <td>
          <Link href={traceHref(t.traceId)} class="trace-link">
            {t.name || '(unnamed)'}
          </Link>
          <div class="muted mono small">
            {shortId(t.traceId)}
            {t.rootMissing && (
              <span title="No root span has arrived: its parent ran in a service that does not export here, or has not ended yet. Shown from its earliest span."> · no root span</span>
            )}
          </div>
        </td>
      )
    case 'service':
      return <td>{t.service}</td>
    case 'status':
      return (
        <td>
          <StatusBadge status={t.status} />
          {t.errors > 0 && <span class="muted small"> {t.errors} err</span>}
        </td>
      )
    case 'duration':
      return <td class="num">{ms(t.durationMs)}</td>
    case 'spans':
      return <td class="num">{int(t.spans)}</td>
    case 'llmCalls':
      return <td class="num">{int(t.llmCalls)}</td>
    case 'tokens':
      return <td class="num">{int(t.tokens.total)}</td>
    case 'cost':
      return (
        <td class="num" {...(t.costIncomplete || t.costUsd === null ? { title: COST_NOTE } : {})}>
          {usd(t.costUsd, t.costIncomplete)}
        </td>
      )
    case 'user':
      return <td class="small">{t.userId && <Link href={userHref(t.userId)}>{t.userId}</Link>}</td>
    case 'session':
      return <td class="small">{t.sessionId && <Link href={sessionHref(t.sessionId)}>{shortId(t.sessionId)}</Link>}</td>
    case 'scores':
      return (
        <td class="small">
          <ScoreChips scores={t.scores} />
        </td>
      )
  }
}

export function TracesPage() {
  const loc = useLocation()
  const filters = filtersFrom(loc.search)
  const order = loc.search.get('order') ?? ''
  const search = filtersToSearch(filters)
  const key = `${search}&order=${order}`
  // Cursors of the pages walked so far; the API pages with a keyset cursor per order.
  const [cursors, setCursors] = useState<{ key: string; stack: Array<string | null> }>({ key, stack: [null] })
  const stack = cursors.key === key ? cursors.stack : [null]
  const cursor = stack[stack.length - 1] ?? null
  const [columns, setColumns] = useColumns()

  // The count depends on the filters alone and is the listing's costliest read (it needs every span of the
  // range to find traces without a root): asked once per filter set, not again for another page or order.
  const [counted, setCounted] = useState<{ search: string; total: number } | undefined>(undefined)
  const total = counted?.search === search ? counted.total : undefined
  const page = useAsync(() => api.get<Page<TraceSummary>>('/traces', { ...filters, order, limit: PAGE_SIZE, cursor, ...(total === undefined ? { total: 1 } : {}) }), [key, cursor])
  useEffect(() => {
    if (page.state === 'done' && page.value.total !== undefined) setCounted({ search, total: page.value.total })
  }, [page, search])
  const options = useAsync(() => api.get<Summary>('/summary', { groupBy: 'service,model', from: filters.from || 'now-30d' }), [filters.from])
  const keys = useAsync(() => api.get<AttributeKeys>('/attributes'), [])
  const services = options.state === 'done' ? [...new Set(options.value.rows.map((r) => r.group.service ?? '').filter(Boolean))].sort() : []
  const models = options.state === 'done' ? [...new Set(options.value.rows.map((r) => r.group.model ?? '').filter(Boolean))].sort() : []

  const go = (f: TraceFilters, o: string) => navigate(`/traces?${filtersToSearch(f)}${o ? `&order=${encodeURIComponent(o)}` : ''}`)
  const narrowed = Object.keys(filters).some((k) => k !== 'from' && filters[k])
  const shown = columns

  return (
    <section>
      <h1>Traces</h1>
      <FilterBar key={search} value={filters} onApply={(f) => go(f, order)} services={services} models={models} attributeKeys={keys.state === 'done' ? keys.value.attributes.map((k) => k.key) : []} />
      <div class="toolbar">
        <span class="muted" role="status" aria-live="polite">
          {total !== undefined && `${int(total)} ${total === 1 ? 'trace' : 'traces'}`}
        </span>
        <SavedViews current={loc.search.toString()} />
        <Columns value={columns} onChange={setColumns} />
      </div>
      {page.state === 'loading' && <Loading what="Loading traces" />}
      {page.state === 'error' && <ErrorBox error={page.error} />}
      {page.state === 'done' && page.value.items.length === 0 && <NoData what={`No traces match these filters${narrowed ? '' : ' in this time range'}. Widen the time range or clear a filter.`} />}
      {page.state === 'done' && page.value.items.length > 0 && (
        <div class="table-scroll">
          <table class="grid traces">
            <thead>
              <tr>
                {shown.map((id) => (
                  <SortHeader key={id} id={id} label={HEAD[id].label} num={HEAD[id].num ?? false} order={order || '-startTime'} onSort={(o) => go(filters, o === '-startTime' ? '' : o)} />
                ))}
              </tr>
            </thead>
            <tbody>
              {page.value.items.map((t) => (
                <tr key={t.traceId} class="clickable" onClick={(e) => (e.target as HTMLElement).closest('a') || navigate(traceHref(t.traceId))}>
                  {shown.map((id) => (
                    <Cell key={id} id={id} t={t} />
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <div class="pager">
        <button type="button" disabled={stack.length <= 1} onClick={() => setCursors({ key, stack: stack.slice(0, -1) })}>
          ← Previous
        </button>
        <span class="muted">Page {stack.length}</span>
        <button
          type="button"
          disabled={page.state !== 'done' || !page.value.nextCursor}
          onClick={() => page.state === 'done' && page.value.nextCursor && setCursors({ key, stack: [...stack, page.value.nextCursor] })}
        >
          Next →
        </button>
      </div>
    </section>
  )
}
