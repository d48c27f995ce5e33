import { useState } from 'preact/hooks'
import { api } from '../api/client'
import type { BiasReport } from '../api/types'
import { HBars } from '../components/Bars'
import { ErrorBox, Loading } from '../components/State'
import { int, ms, num, pct, pValue } from '../format'

const OUTCOMES = [
  ['error_rate', 'Error rate'],
  ['refusal_rate', 'Refusal rate'],
  ['negative_feedback_rate', 'Negative feedback rate'],
  ['score_mean', 'Mean score'],
  ['latency_p95', 'p95 latency'],
  ['output_length', 'Output length (tokens)'],
] as const
const GROUP_KEYS = ['model', 'service', 'environment', 'release', 'provider', 'user', 'language', 'user_prefix:3', 'attr:tenant']

export interface BiasForm {
  groupBy: string
  outcome: string
  score: string
  from: string
  /** One service, or '' for all. */
  service: string
  minGroupSize: number
  alpha: number
}

function biasRequest(f: BiasForm): Record<string, unknown> {
  const usesScore = f.outcome === 'score_mean' || f.outcome === 'negative_feedback_rate'
  const filter = { ...(f.from ? { from: f.from } : {}), ...(f.service ? { service: [f.service] } : {}) }
  return {
    groupBy: f.groupBy,
    outcome: f.outcome,
    ...(usesScore && f.score ? { score: f.score } : {}),
    ...(Object.keys(filter).length ? { filter } : {}),
    minGroupSize: f.minGroupSize,
    alpha: f.alpha,
  }
}

function formatter(r: BiasReport): (v: number) => string {
  if (r.kind === 'proportion') return (v) => pct(v, 1)
  if (r.outcome === 'latency_p95') return ms
  return (v) => num(v, 2)
}

function Result({ r }: { r: BiasReport }) {
  const fmt = formatter(r)
  const ratioRows = r.groups.filter((g) => g.judged && g.ratio !== null)
  return (
    <div class="bias-result">
      <div class={`verdict ${r.flagged ? 'bad' : 'good'}`} role="status">
        {r.flagged ? 'Flagged: a group fails the four-fifths rule and differs significantly' : 'Not flagged'} · best group: {r.bestGroup ?? '–'} ({r.better} is better) · {r.comparisons} comparisons (Bonferroni)
      </div>
      <div class="stats">
        <div class="stat" title="The worst-off group's ratio to the best group, on the favourable scale of the table below (the four-fifths rule flags it under 0.8)">
          <div class="stat-label">Lowest ratio to best</div>
          <div class="stat-value">{r.lowestRatio ? `${num(r.lowestRatio.ratio, 3)} (${r.lowestRatio.group})` : '–'}</div>
        </div>
        <div class="stat" title="fairlearn demographic parity: max − min and min / max of the outcome values themselves (not the favourable scale)">
          <div class="stat-label">Parity difference · ratio of values</div>
          <div class="stat-value">
            {r.demographicParityDifference === null ? '–' : fmt(r.demographicParityDifference)} · {num(r.demographicParityRatio, 3)}
          </div>
        </div>
        {r.chiSquared && (
          <div class="stat" title="χ² test of independence, groups × outcome">
            <div class="stat-label">χ² (df {r.chiSquared.df})</div>
            <div class="stat-value">
              {num(r.chiSquared.statistic, 2)} · p {pValue(r.chiSquared.pValue)}
            </div>
          </div>
        )}
      </div>
      <div class="two-col">
        <HBars title={`${r.outcome} per group (95% CI)`} rows={r.groups.map((g) => ({ label: `${g.group} (n=${g.n})`, value: g.value, ci: g.ci, highlight: g.significant === true }))} format={fmt} />
        <HBars
          title="Ratio to the best group (favourable scale)"
          rows={ratioRows.map((g) => ({ label: g.group, value: g.ratio, highlight: g.fourFifthsViolation === true }))}
          format={(v) => num(v, 3)}
          reference={{ value: 0.8, label: 'four-fifths (0.8)' }}
          max={Math.max(1, ...ratioRows.map((g) => g.ratio ?? 0))}
        />
      </div>
      <table class="grid compact bias-groups">
        <thead>
          <tr>
            <th>Group</th>
            <th class="num">n</th>
            <th class="num">Value</th>
            <th>95% CI</th>
            <th class="num">Difference</th>
            <th class="num">Ratio</th>
            <th>Four-fifths</th>
            <th class="num">p</th>
            <th class="num">p (adjusted)</th>
            <th>Significant</th>
          </tr>
        </thead>
        <tbody>
          {r.groups.map((g) => (
            <tr key={g.group} class={g.fourFifthsViolation && g.significant ? 'flagged' : ''}>
              <td>
                {g.group}
                {g.group === r.bestGroup && <span class="badge good small">best</span>}
                {!g.judged && <span class="muted small"> (too small, not judged)</span>}
              </td>
              <td class="num">{int(g.n)}</td>
              <td class="num">{g.value === null ? '–' : fmt(g.value)}</td>
              <td>{g.ci ? `${fmt(g.ci[0])} – ${fmt(g.ci[1])}` : '–'}</td>
              <td class="num">{g.difference === null ? '–' : fmt(g.difference)}</td>
              <td class="num">{num(g.ratio, 3)}</td>
              <td>{g.fourFifthsViolation === null ? '–' : g.fourFifthsViolation ? <span class="badge bad">below 0.8</span> : 'ok'}</td>
              <td class="num">{pValue(g.pValue)}</td>
              <td class="num">{pValue(g.pValueAdjusted)}</td>
              <td>{g.significant === null ? '–' : g.significant ? <strong>yes</strong> : 'no'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  )
}

export function BiasPage() {
  const [form, setForm] = useState<BiasForm>({ groupBy: 'model', outcome: 'error_rate', score: 'feedback', from: 'now-7d', service: '', minGroupSize: 30, alpha: 0.05 })
  const [result, setResult] = useState<{ state: 'idle' } | { state: 'loading' } | { state: 'error'; error: unknown } | { state: 'done'; report: BiasReport }>({ state: 'idle' })
  const set = (k: keyof BiasForm, asNumber = false) => (e: Event) => {
    const v = (e.target as HTMLInputElement).value
    setForm({ ...form, [k]: asNumber ? Number(v) : v })
  }
  const run = async (e: Event) => {
    e.preventDefault()
    setResult({ state: 'loading' })
    try {
      setResult({ state: 'done', report: await api.post<BiasReport>('/bias', biasRequest(form)) })
    } catch (error) {
      setResult({ state: 'error', error })
    }
  }
  return (
    <section>
      <h1>Bias</h1>
      <form class="filters" onSubmit={run}>
        <label>
          Group by
          <input name="groupBy" list="bias-keys" value={form.groupBy} onInput={set('groupBy')} />
          <datalist id="bias-keys">
            {GROUP_KEYS.map((k) => (
              <option key={k} value={k} />
            ))}
          </datalist>
        </label>
        <label>
          Outcome
          <select name="outcome" value={form.outcome} onChange={set('outcome')}>
            {OUTCOMES.map(([v, l]) => (
              <option key={v} value={v}>
                {l}
              </option>
            ))}
          </select>
        </label>
        {(form.outcome === 'score_mean' || form.outcome === 'negative_feedback_rate') && (
          <label>
            Score name
            <input name="score" value={form.score} onInput={set('score')} />
          </label>
        )}
        <label>
          From
          <input name="from" value={form.from} onInput={set('from')} placeholder="all time" />
        </label>
        <label>
          Service
          <input name="service" value={form.service} onInput={set('service')} placeholder="any" />
        </label>
        <label>
          Min group size
          <input name="minGroupSize" type="number" min={1} value={form.minGroupSize} onInput={set('minGroupSize', true)} />
        </label>
        <label>
          α
          <input name="alpha" type="number" step="any" min={0.001} max={0.5} value={form.alpha} onInput={set('alpha', true)} />
        </label>
        <button type="submit">Analyse</button>
      </form>
      {result.state === 'loading' && <Loading what="Computing" />}
      {result.state === 'error' && <ErrorBox error={result.error} />}
      {result.state === 'done' && (result.report.groups.length === 0 ? <p class="muted">No spans in any group for this filter.</p> : <Result r={result.report} />)}
    </section>
  )
}
