import { ApiError, api } from '../api/client'
import type { BurnWindow, SloReport, SloStatus } from '../api/types'
import { ErrorBox, Loading } from '../components/State'
import { PALETTE, TimeSeriesChart } from '../components/TimeSeriesChart'
import { int, num, pct, time } from '../format'
import { useAsync } from '../hooks'
import { tracesHref, type TraceQuery } from '../links'
import { Link } from '../router'

const WINDOWS: BurnWindow[] = ['5m', '30m', '1h', '2h', '6h', '1d', '3d']
/** Points of the burn-down chart: the SLO status evaluated at earlier instants through the API's `at`. */
const BURN_DOWN_POINTS = 12

const DURATION = /^(\d+)([smhdw])$/
const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }
function durationMs(s: string): number {
  const m = DURATION.exec(s)
  return m ? Number(m[1]) * (UNIT_MS[m[2]!] ?? 0) : 30 * 86_400_000
}

/** Budget remaining at BURN_DOWN_POINTS instants across the longest SLO window, a few requests at a time. */
async function burnDown(report: SloReport): Promise<{ x: number[]; reports: SloReport[] }> {
  const now = Date.parse(report.at)
  const span = Math.max(...report.slos.map((s) => durationMs(s.window)))
  const times = Array.from({ length: BURN_DOWN_POINTS }, (_, i) => now - span + ((i + 1) * span) / BURN_DOWN_POINTS)
  const reports: SloReport[] = new Array(times.length)
  for (let i = 0; i < times.length; i += 3) {
    const batch = times.slice(i, i + 3)
    const got = await Promise.all(batch.map((t) => (t === now ? Promise.resolve(report) : api.get<SloReport>('/slo', { at: new Date(t).toISOString() }))))
    got.forEach((r, j) => (reports[i + j] = r))
  }
  return { x: times.map((t) => t / 1000), reports }
}

/**
 * The bad events of an SLO in the `windowMs` its windows end with, as a traces filter:
 * the API's `badEvents` (exactly the spans counted bad), or every call of the scope
 * where no filter says that (`exact` false).
 */
function badEvents(s: SloStatus, windowMs: number): { query: TraceQuery; exact: boolean } {
  const end = Date.parse(s.windowEnd)
  const bounds = { from: new Date(end - windowMs).toISOString(), to: s.windowEnd }
  if (s.badEvents) return { query: { ...s.badEvents, ...bounds }, exact: true }
  const list = (v: string[] | undefined) => (v && v.length ? v.join(',') : undefined)
  const scope = { service: list(s.scope.service), model: list(s.scope.model), environment: list(s.scope.environment), kind: list(s.scope.kind), operation: list(s.scope.operation) }
  return { query: { ...scope, ...bounds }, exact: false }
}

function BadEventsLink({ s, window, label, whole = false }: { s: SloStatus; window: string; label: string; whole?: boolean }) {
  const { query, exact } = badEvents(s, durationMs(window))
  const text = exact ? label : `${label} (all calls)`
  return (
    <Link href={tracesHref(query)} title={exact ? undefined : 'No traces filter selects exactly these bad events: every call of the window'} aria-label={`${text} of ${s.name} ${whole ? `in its ${window} window` : `in the last ${window}`}`}>
      {text}
    </Link>
  )
}

function rate(v: number | null) {
  return v === null ? '–' : `${num(v, 2)}×`
}

function SloCard({ s }: { s: SloStatus }) {
  const objective = s.objective > 1 ? s.objective / 100 : s.objective
  const remaining = s.errorBudget.remaining
  return (
    <div class={`card slo${s.firing ? ' firing' : ''}`} data-slo={s.name}>
      <h2 class="h3">
        {s.name} {s.firing ? <span class="badge bad">alert firing</span> : <span class="badge good">ok</span>}
      </h2>
      {s.description && <p class="muted">{s.description}</p>}
      <p class="small">
        <BadEventsLink s={s} window={s.window} label="Bad events" whole /> in the {s.window} window ({int(s.total - s.good)} of {int(s.total)})
      </p>
      <div class="stats">
        <div class="stat">
          <div class="stat-label">SLI ({s.indicator})</div>
          <div class="stat-value">{s.sli === null ? 'no traffic' : pct(s.sli, 3)}</div>
        </div>
        <div class="stat">
          <div class="stat-label">Objective</div>
          <div class="stat-value">{pct(objective, 2)}</div>
        </div>
        <div class="stat">
          <div class="stat-label">Budget remaining</div>
          <div class={`stat-value ${remaining < 0 ? 'bad-text' : ''}`}>{pct(remaining, 1)}</div>
          <div class="budget" aria-hidden="true">
            <div style={{ width: `${Math.max(0, Math.min(1, remaining)) * 100}%` }} class={remaining < 0.25 ? 'low' : ''} />
          </div>
        </div>
        <div class="stat">
          <div class="stat-label">Window</div>
          <div class="stat-value">
            {s.window} · {int(s.good)}/{int(s.total)} good
          </div>
        </div>
      </div>
      <div class="table-scroll">
      <table class="grid compact">
        <thead>
          <tr>
            <th>Burn rate</th>
            {WINDOWS.map((w) => (
              <th key={w} class="num">
                {w}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          <tr>
            <td />
            {WINDOWS.map((w) => (
              <td key={w} class="num">
                {rate(s.burnRates[w])}
              </td>
            ))}
          </tr>
        </tbody>
      </table>
      </div>
      <div class="table-scroll">
      <table class="grid compact alerts">
        <thead>
          <tr>
            <th>Alert</th>
            <th>Windows</th>
            <th class="num">Factor</th>
            <th class="num">Burn (long)</th>
            <th class="num">Burn (short)</th>
            <th>State</th>
            <th>Traces</th>
          </tr>
        </thead>
        <tbody>
          {s.alerts.map((a) => (
            <tr key={`${a.longWindow}-${a.shortWindow}`} class={a.firing ? 'flagged' : ''}>
              <td>{a.severity}</td>
              <td>
                {a.longWindow} & {a.shortWindow}
              </td>
              <td class="num">{a.factor}×</td>
              <td class="num">{rate(a.burnRateLong)}</td>
              <td class="num">{rate(a.burnRateShort)}</td>
              <td>{a.firing ? <span class="badge bad">firing</span> : 'ok'}</td>
              <td>
                <BadEventsLink s={s} window={a.longWindow} label="bad events" />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      </div>
    </div>
  )
}

function BurnDown({ report }: { report: SloReport }) {
  const history = useAsync(() => burnDown(report), [report.at])
  if (history.state === 'loading') return <Loading what="Loading budget history" />
  if (history.state === 'error') return <ErrorBox error={history.error} />
  const { x, reports } = history.value
  const series = report.slos.map((s, i) => ({
    label: s.name,
    color: PALETTE[i % PALETTE.length]!,
    values: reports.map((r) => r.slos.find((o) => o.name === s.name)?.errorBudget.remaining ?? null),
  }))
  return <TimeSeriesChart title="Error budget remaining (burn-down)" x={x} series={series} format={(v) => pct(v, 0)} marker={{ value: 0, label: 'budget exhausted; the axis stops at −100%' }} floor={-1} />
}

export function SloPage() {
  const report = useAsync(() => api.get<SloReport>('/slo'), [])
  return (
    <section>
      <h1>SLOs</h1>
      {report.state === 'loading' && <Loading what="Evaluating SLOs" />}
      {report.state === 'error' &&
        (report.error instanceof ApiError && report.error.code === 'SPANLENS_SLO_FILE_MISSING' ? (
          <div class="notice">No SLOs are defined. Start the server with SPANLENS_SLO_FILE pointing at a YAML or JSON file of SLOs (see the query package README).</div>
        ) : (
          <ErrorBox error={report.error} />
        ))}
      {report.state === 'done' && (
        <>
          <div class={`verdict ${report.value.firing ? 'bad' : 'good'}`} role="status">
            {report.value.firing ? 'Alerts firing' : 'No alerts firing'} · {report.value.slos.length} SLOs · evaluated at {time(report.value.at)}
          </div>
          {report.value.slos.length > 0 && <BurnDown report={report.value} />}
          {report.value.slos.map((s) => (
            <SloCard key={s.name} s={s} />
          ))}
        </>
      )}
    </section>
  )
}
