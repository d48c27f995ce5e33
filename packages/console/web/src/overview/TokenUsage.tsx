import { api } from '../api/client'
import type { MetricsReply } from '../api/types'
import { PALETTE, TimeSeriesChart } from '../components/TimeSeriesChart'
import { groupName, int } from '../format'
import { useAsync } from '../hooks'
import type { OverviewRange } from './series'

/** The GenAI semantic conventions' client metric of tokens used, a histogram whose sum is the tokens. */
const TOKEN_USAGE = 'gen_ai.client.token.usage'
const MODEL = 'gen_ai.request.model'

/**
 * Token usage by model over time, from OTLP metrics (GET /api/v1/metrics), for
 * apps whose instrumentation reports gen_ai.client.token.usage; nothing at all
 * when the range has no such points.
 */
export function TokenUsage({ range, grid }: { range: OverviewRange; grid: number[] }) {
  const usage = useAsync(
    () => api.get<MetricsReply>('/metrics', { name: TOKEN_USAGE, groupBy: MODEL, bucket: range.bucket, from: range.from }),
    [range.from],
  )
  if (usage.state !== 'done' || usage.value.series.length === 0) return null
  const index = new Map(grid.map((t, i) => [t, i]))
  const total = (s: MetricsReply['series'][number]) => s.points.reduce((n, p) => n + (p.value ?? 0), 0)
  const top = [...usage.value.series].sort((a, b) => total(b) - total(a)).slice(0, 6)
  const series = top.map((s, i) => {
    const values: Array<number | null> = grid.map(() => 0)
    for (const p of s.points) {
      const at = index.get(Date.parse(p.time) / 1000)
      if (at !== undefined) values[at] = p.value
    }
    return { label: groupName(s.group[MODEL]), color: PALETTE[i % PALETTE.length]!, values }
  })
  return (
    <div class="chart-grid">
      <TimeSeriesChart title="Token usage by model (OTLP metrics)" x={grid} series={series} format={(v) => (Number.isInteger(v) ? int(v) : v.toFixed(1))} />
    </div>
  )
}
