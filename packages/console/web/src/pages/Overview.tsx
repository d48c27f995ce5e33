import { useState } from 'preact/hooks'
import { api } from '../api/client'
import type { Summary, SummaryDimension, SummaryRow } from '../api/types'
import { HBars } from '../components/Bars'
import { ErrorBox, Loading } from '../components/State'
import { PALETTE, TimeSeriesChart, type Series } from '../components/TimeSeriesChart'
import { COST_NOTE, int, ms, pct, usd } from '../format'
import { useAsync } from '../hooks'
import { bucketGrid, OVERVIEW_RANGES, toSeries, type GroupedSeries } from '../overview/series'
import { TokenUsage } from '../overview/TokenUsage'
import { Stat } from './TracePage'

type Split = '' | 'model' | 'service'

/** Axis ticks of counts can fall between integers on a small scale. */
const count = (v: number) => (Number.isInteger(v) ? int(v) : v.toFixed(1))

function lines(groups: GroupedSeries[], pick: (r: SummaryRow) => number | null, zero: boolean): Series[] {
  return groups.map((g, i) => ({ label: g.label, color: PALETTE[i % PALETTE.length]!, values: g.rows.map((r) => (r ? pick(r) : zero ? 0 : null)) }))
}

function ByGroup({ title, rows, dim }: { title: string; rows: SummaryRow[]; dim: SummaryDimension }) {
  const sorted = [...rows].sort((a, b) => b.calls - a.calls)
  return (
    <div class="card">
      <h3>{title}</h3>
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
              <td>{r.group[dim] || '(none)'}</td>
              <td class="num">{int(r.calls)}</td>
              <td class="num">{pct(r.errorRate)}</td>
              <td class="num">{int(r.tokens.total)}</td>
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
      <HBars title={`Cost by ${dim}`} rows={sorted.slice(0, 12).map((r) => ({ label: r.group[dim] || '(none)', value: r.costUsd }))} format={(v) => usd(v)} />
      <HBars title={`p95 latency by ${dim}`} rows={sorted.slice(0, 12).map((r) => ({ label: r.group[dim] || '(none)', value: r.latencyMs.p95 }))} format={(v) => ms(v)} />
    </div>
  )
}

export function OverviewPage() {
  const [rangeIdx, setRangeIdx] = useState(2)
  const [split, setSplit] = useState<Split>('')
  const [kind, setKind] = useState('llm')
  const range = OVERVIEW_RANGES[rangeIdx] ?? OVERVIEW_RANGES[2]
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
      <form class="filters" onSubmit={(e) => e.preventDefault()}>
        <label>
          Time
          <select name="range" value={rangeIdx} onChange={(e) => setRangeIdx(Number((e.target as HTMLSelectElement).value))}>
            {OVERVIEW_RANGES.map((r, i) => (
              <option key={r.from} value={i}>
                {r.label}
              </option>
            ))}
          </select>
        </label>
        <label>
          Spans
          <select name="kind" value={kind} onChange={(e) => setKind((e.target as HTMLSelectElement).value)}>
            <option value="llm">LLM calls</option>
            <option value="">All spans</option>
          </select>
        </label>
        <label>
          Split charts by
          <select name="split" value={split} onChange={(e) => setSplit((e.target as HTMLSelectElement).value as Split)}>
            <option value="">nothing</option>
            <option value="model">model</option>
            <option value="service">service</option>
          </select>
        </label>
      </form>
      {totals.state === 'error' && <ErrorBox error={totals.error} />}
      <div class="stats">
        <Stat label="Calls" value={int(total?.calls ?? 0)} />
        <Stat label="Error rate" value={pct(total?.errorRate ?? 0)} />
        <Stat label="Tokens" value={int(total?.tokens.total ?? 0)} />
        <Stat label="Cost" value={usd(total?.costUsd ?? 0, (total?.costUnknownCalls ?? 0) > 0)} />
        <Stat label="p50" value={ms(total?.latencyMs.p50)} />
        <Stat label="p95" value={ms(total?.latencyMs.p95)} />
        <Stat label="p99" value={ms(total?.latencyMs.p99)} />
      </div>
      {overTime.state === 'loading' && <Loading what="Loading charts" />}
      {overTime.state === 'error' && <ErrorBox error={overTime.error} />}
      {overTime.state === 'done' && <Charts rows={overTime.value.rows} grid={grid} split={split} />}
      <TokenUsage range={range} grid={grid} />
      <div class="two-col">
        {byModel.state === 'done' && <ByGroup title="By model" rows={byModel.value.rows} dim="model" />}
        {byService.state === 'done' && <ByGroup title="By service" rows={byService.value.rows} dim="service" />}
      </div>
    </section>
  )
}

function Charts({ rows, grid, split }: { rows: SummaryRow[]; grid: number[]; split: Split }) {
  const groups = toSeries(rows, grid, split || null)
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
      <TimeSeriesChart title="Calls" x={grid} series={lines(groups, (r) => r.calls, true)} format={count} />
      <TimeSeriesChart title="Error rate" x={grid} series={lines(groups, (r) => r.errorRate, false)} format={(v) => pct(v, 1)} />
      <TimeSeriesChart title="Tokens" x={grid} series={lines(groups, (r) => r.tokens.total, true)} format={count} />
      <TimeSeriesChart title="Cost (USD)" x={grid} series={lines(groups, (r) => r.costUsd, true)} format={(v) => usd(v)} />
      <TimeSeriesChart title={split ? 'p95 latency' : 'Latency p50 / p95 / p99'} x={grid} series={latency} format={ms} />
    </div>
  )
}
