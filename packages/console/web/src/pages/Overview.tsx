import { api } from '../api/client'
import type { Summary, SummaryDimension, SummaryRow } from '../api/types'
import { HBars } from '../components/Bars'
import { NoData } from '../components/FirstRun'
import { ErrorBox, Loading } from '../components/State'
import { PALETTE, TimeSeriesChart, type Series } from '../components/TimeSeriesChart'
import { COST_NOTE, groupName, int, ms, pct, time, tokenDetails, usd } from '../format'
import { useAsync } from '../hooks'
import { isoOf, tracesHref } from '../links'
import { bucketGrid, OVERVIEW_RANGES, toSeries, type GroupedSeries, type OverviewRange } from '../overview/series'
import { TokenUsage } from '../overview/TokenUsage'
import { Link, setSearch, useLocation } from '../router'
import { Stat } from './TracePage'

type Split = '' | 'model' | 'service'
const SPLITS: Split[] = ['', 'model', 'service']

/** Axis ticks of counts can fall between integers on a small scale. */
const count = (v: number) => (Number.isInteger(v) ? int(v) : v.toFixed(1))

function lines(groups: GroupedSeries[], pick: (r: SummaryRow) => number | null, zero: boolean): Series[] {
  return groups.map((g, i) => ({ label: g.label, color: PALETTE[i % PALETTE.length]!, values: g.rows.map((r) => (r ? pick(r) : zero ? 0 : null)) }))
}

function ByGroup({ title, rows, dim, range, kind }: { title: string; rows: SummaryRow[]; dim: SummaryDimension; range: OverviewRange; kind: string }) {
  const sorted = [...rows].sort((a, b) => b.calls - a.calls)
  const href = (r: SummaryRow) => tracesHref({ from: range.from, kind, [dim]: r.group[dim] || undefined })
  return (
    <div class="card" data-by={dim}>
      <h2 class="h3">{title}</h2>
      <div class="table-scroll">
      <table class="grid compact">
        <thead>
          <tr>
            <th>{dim}</th>
            <th class="num">Calls</th>
            <th class="num">Error rate</th>
            <th class="num">Tokens</th>
            <th class="num">Cost</th>
            <th class="num">p50</th>
            <th class="num">p95</th>
            <th class="num">p99</th>
          </tr>
        </thead>
        <tbody>
          {sorted.map((r) => (
            <tr key={r.group[dim]}>
              <td>{r.group[dim] ? <Link href={href(r)}>{r.group[dim]}</Link> : groupName('')}</td>
              <td class="num">
                <Link href={href(r)} aria-label={`${int(r.calls)} calls of ${r.group[dim] || 'no ' + dim}: their traces`}>
                  {int(r.calls)}
                </Link>
              </td>
              <td class="num">
                {r.errors > 0 && r.group[dim] ? (
                  <Link href={tracesHref({ from: range.from, kind, [dim]: r.group[dim], status: 'error' })} aria-label={`${pct(r.errorRate)} errors of ${r.group[dim]}: their traces`}>
                    {pct(r.errorRate)}
                  </Link>
                ) : (
                  pct(r.errorRate)
                )}
              </td>
              <td class="num" {...(tokenDetails(r.tokens) ? { title: tokenDetails(r.tokens) } : {})}>
                {int(r.tokens.total)}
              </td>
              <td class="num" {...(r.costUnknownCalls > 0 ? { title: `${int(r.costUnknownCalls)} calls without a price. ${COST_NOTE}` } : {})}>
                {usd(r.costUsd, r.costUnknownCalls > 0)}
              </td>
              <td class="num">{ms(r.latencyMs.p50)}</td>
              <td class="num">{ms(r.latencyMs.p95)}</td>
              <td class="num">{ms(r.latencyMs.p99)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      </div>
      <HBars title={`Cost by ${dim}`} rows={sorted.slice(0, 12).map((r) => ({ label: groupName(r.group[dim]), value: r.costUsd }))} format={(v) => usd(v)} />
      <HBars title={`p95 latency by ${dim}`} rows={sorted.slice(0, 12).map((r) => ({ label: groupName(r.group[dim]), value: r.latencyMs.p95 }))} format={(v) => ms(v)} />
    </div>
  )
}

/** Without ?range=, or with one the select does not offer: the last 24 hours (the type checks the index). */
const DEFAULT_RANGE: OverviewRange & { from: 'now-24h' } = OVERVIEW_RANGES[2]

/** The page's state is its URL: ?range=now-7d&split=model&kind= (kind absent = LLM calls). */
export function OverviewPage() {
  const { search } = useLocation()
  const range = OVERVIEW_RANGES.find((r) => r.from === search.get('range')) ?? DEFAULT_RANGE
  const asked = search.get('split') ?? ''
  const split: Split = (SPLITS as string[]).includes(asked) ? (asked as Split) : ''
  const kind = search.get('kind') === 'all' ? '' : 'llm'
  const state: Record<string, string | undefined> = { range: range.from, split, kind: kind === '' ? 'all' : undefined }
  const update = (patch: Record<string, string | undefined>) => setSearch({ ...state, ...patch })
  const base = { from: range.from, kind }
  const overTime = useAsync(() => api.get<Summary>('/summary', { ...base, bucket: range.bucket, groupBy: split }), [range.from, split, kind])
  const totals = useAsync(() => api.get<Summary>('/summary', base), [range.from, kind])
  const byModel = useAsync(() => api.get<Summary>('/summary', { ...base, groupBy: 'model' }), [range.from, kind])
  const byService = useAsync(() => api.get<Summary>('/summary', { ...base, groupBy: 'service' }), [range.from, kind])

  const grid = bucketGrid(range)
  const total = totals.state === 'done' ? totals.value.rows[0] : undefined
  return (
    <section>
      <h1>Overview</h1>
      <form class="filters" onSubmit={(e) => e.preventDefault()} autocomplete="off">
        <label>
          Time
          <select name="range" value={range.from} onChange={(e) => update({ range: (e.target as HTMLSelectElement).value })}>
            {OVERVIEW_RANGES.map((r) => (
              <option key={r.from} value={r.from}>
                {r.label}
              </option>
            ))}
          </select>
        </label>
        <label>
          Spans
          <select name="kind" value={kind} onChange={(e) => update({ kind: (e.target as HTMLSelectElement).value === '' ? 'all' : undefined })}>
            <option value="llm">LLM calls</option>
            <option value="">All spans</option>
          </select>
        </label>
        <label>
          Split charts by
          <select name="split" value={split} onChange={(e) => update({ split: (e.target as HTMLSelectElement).value as Split })}>
            <option value="">nothing</option>
            <option value="model">model</option>
            <option value="service">service</option>
          </select>
        </label>
      </form>
      {totals.state === 'error' && <ErrorBox error={totals.error} />}
      {totals.state === 'done' && totals.value.rows.length === 0 ? (
        <NoData what={`No ${kind ? 'LLM calls' : 'spans'} in this range.`} />
      ) : (
        <>
      <div class="stats">
        <Stat label="Calls" value={int(total?.calls ?? 0)} />
        <Stat label="Error rate" value={pct(total?.errorRate ?? 0)} />
        <Stat label="Tokens" value={int(total?.tokens.total ?? 0)} {...(total ? { detail: tokenDetails(total.tokens) } : {})} />
        <Stat label="Cost" value={usd(total?.costUsd ?? 0, (total?.costUnknownCalls ?? 0) > 0)} />
        <Stat label="p50" value={ms(total?.latencyMs.p50)} />
        <Stat label="p95" value={ms(total?.latencyMs.p95)} />
        <Stat label="p99" value={ms(total?.latencyMs.p99)} />
      </div>
      {totals.state === 'done' && <Counted summary={totals.value} />}
      {overTime.state === 'loading' && <Loading what="Loading charts" />}
      {overTime.state === 'error' && <ErrorBox error={overTime.error} />}
      {overTime.state === 'done' && <Charts rows={overTime.value.rows} grid={grid} split={split} range={range} kind={kind} />}
      <TokenUsage range={range} grid={grid} />
      <div class="two-col">
        {byModel.state === 'done' && <ByGroup title="By model" rows={byModel.value.rows} dim="model" range={range} kind={kind} />}
        {byService.state === 'done' && <ByGroup title="By service" rows={byService.value.rows} dim="service" range={range} kind={kind} />}
      </div>
        </>
      )}
    </section>
  )
}

/**
 * The times the totals count. The per-minute rollup counts whole minutes, so a range starting inside a
 * minute counts all of it: the page says from when, instead of letting "last 24 hours" read as exact.
 */
function Counted({ summary }: { summary: Summary }) {
  const { from, to } = summary.counted
  if (from === null) return null
  return (
    <p class="muted small counted">
      Counted from {time(from)} to {to === null ? 'now' : time(to)}
      {summary.source === 'rollup' && ', in whole minutes'}.
    </p>
  )
}

function Charts({ rows, grid, split, range, kind }: { rows: SummaryRow[]; grid: number[]; split: Split; range: OverviewRange; kind: string }) {
  const groups = toSeries(rows, grid, split || null)
  // A point leads to the traces of its bucket (the root span started in it).
  const bucket = (i: number) => (grid[i] === undefined ? null : tracesHref({ from: isoOf(grid[i]!), to: isoOf(grid[i]! + range.bucketMs / 1000), kind }))
  const errorsIn = (i: number) => (grid[i] === undefined ? null : tracesHref({ from: isoOf(grid[i]!), to: isoOf(grid[i]! + range.bucketMs / 1000), kind, status: 'error' }))
  const single = groups[0]
  const latency: Series[] =
    !split && single
      ? [
          { label: 'p50', color: PALETTE[0]!, values: single.rows.map((r) => r?.latencyMs.p50 ?? null) },
          { label: 'p95', color: PALETTE[4]!, values: single.rows.map((r) => r?.latencyMs.p95 ?? null) },
          { label: 'p99', color: PALETTE[1]!, values: single.rows.map((r) => r?.latencyMs.p99 ?? null) },
        ]
      : lines(groups, (r) => r.latencyMs.p95, false)
  return (
    <div class="chart-grid">
      <TimeSeriesChart title="Calls" x={grid} series={lines(groups, (r) => r.calls, true)} format={count} href={bucket} />
      <TimeSeriesChart title="Error rate" x={grid} series={lines(groups, (r) => r.errorRate, false)} format={(v) => pct(v, 1)} href={errorsIn} />
      <TimeSeriesChart title="Tokens" x={grid} series={lines(groups, (r) => r.tokens.total, true)} format={count} href={bucket} />
      <TimeSeriesChart title="Cost (USD)" x={grid} series={lines(groups, (r) => r.costUsd, true)} format={(v) => usd(v)} href={bucket} />
      <TimeSeriesChart title={split ? 'p95 latency' : 'Latency p50 / p95 / p99'} x={grid} series={latency} format={ms} href={bucket} />
    </div>
  )
}
