import { useState } from 'preact/hooks'
import { api } from '../api/client'
import type { AttributeKeys, BiasGroup, BiasReport } from '../api/types'
import { HBars } from '../components/Bars'
import { ErrorBox, Loading } from '../components/State'
import { groupName, int, ms, num, pct, pValue } from '../format'
import { useAsync } from '../hooks'
import { groupFilter, tracesHref, type TraceQuery } from '../links'
import { Link, navigate, useLocation } from '../router'

const OUTCOMES = [
  ['error_rate', 'Error rate'],
  ['refusal_rate', 'Refusal rate'],
  ['negative_feedback_rate', 'Negative feedback rate'],
  ['score_mean', 'Mean score'],
  ['latency_p95', 'p95 latency'],
  ['output_length', 'Output length (tokens)'],
] as const
const GROUP_KEYS = ['model', 'service', 'environment', 'release', 'provider', 'user', 'language', 'user_prefix:3']
const DEFAULT_FORM: BiasForm = { groupBy: 'model', outcome: 'error_rate', score: 'feedback', from: 'now-7d', service: '', minGroupSize: 30, alpha: 0.05 }
const usesScore = (outcome: string) => outcome === 'score_mean' || outcome === 'negative_feedback_rate'

/** The form as the page's URL (?groupBy=…): a URL with it runs the analysis. */
function formToSearch(f: BiasForm): string {
  const q = new URLSearchParams({ groupBy: f.groupBy, outcome: f.outcome, from: f.from })
  if (usesScore(f.outcome)) q.set('score', f.score)
  if (f.service) q.set('service', f.service)
  q.set('minGroupSize', String(f.minGroupSize))
  q.set('alpha', String(f.alpha))
  return q.toString()
}

function formFrom(search: URLSearchParams): BiasForm | null {
  if (!search.get('groupBy')) return null
  const n = (k: string, d: number) => (Number.isFinite(Number(search.get(k))) && search.get(k) !== null ? Number(search.get(k)) : d)
  return {
    groupBy: search.get('groupBy') ?? DEFAULT_FORM.groupBy,
    outcome: search.get('outcome') ?? DEFAULT_FORM.outcome,
    score: search.get('score') ?? DEFAULT_FORM.score,
    from: search.get('from') ?? '',
    service: search.get('service') ?? '',
    minGroupSize: n('minGroupSize', DEFAULT_FORM.minGroupSize),
    alpha: n('alpha', DEFAULT_FORM.alpha),
  }
}

/**
 * A group's spans (bias reads LLM calls unless the filter names a kind) as a traces
 * filter, and the same with the outcome: errors, refusals, negative feedback, a score,
 * or the calls at or above the group's p95.
 */
function groupQueries(f: BiasForm, r: BiasReport, g: BiasGroup): { all: TraceQuery; outcome: TraceQuery | null; label: string } {
  const group = groupFilter(r.groupBy, g.group)
  // Scores group a trace by its root span, whatever its kind; the other outcomes read LLM calls.
  const all: TraceQuery = { from: f.from, service: f.service, ...(usesScore(r.outcome) ? {} : { kind: 'llm' }), ...group }
  switch (r.outcome) {
    case 'error_rate':
      return { all, outcome: { ...all, status: 'error' }, label: 'errors' }
    case 'refusal_rate':
      return { all, outcome: { ...all, refusal: '1' }, label: 'refusals' }
    case 'negative_feedback_rate':
      return { all, outcome: { ...all, [`score.${f.score}`]: '<=0' }, label: 'negative feedback' }
    case 'score_mean':
      return { all, outcome: { ...all, [`score.${f.score}`]: '*' }, label: 'scored' }
    case 'latency_p95':
      return { all, outcome: g.value === null ? null : { ...all, minDurationMs: g.value }, label: 'p95 and slower' }
    default:
      return { all, outcome: null, label: '' }
  }
}

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
  const filter = { ...(f.from ? { from: f.from } : {}), ...(f.service ? { service: [f.service] } : {}) }
  return {
    groupBy: f.groupBy,
    outcome: f.outcome,
    ...(usesScore(f.outcome) && f.score ? { score: f.score } : {}),
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

/** How each group's p-value was found (bias/report.ts `pValueMethod`), shown over it. */
const P_METHODS: Record<NonNullable<BiasReport['groups'][number]['pValueMethod']>, string> = {
  two_proportion_z: 'pooled two-proportion z-test against the best group',
  welch_z: 'Welch z-test of the means against the best group',
  zero_variance: 'no spread in either group: the means differ exactly (p = 0) or not at all (p = 1); no test needed',
}

function Result({ r, f }: { r: BiasReport; f: BiasForm }) {
  const links = new Map(r.groups.map((g) => [g.group, groupQueries(f, r, g)]))
  const fmt = formatter(r)
  const ratioRows = r.groups.filter((g) => g.judged && g.ratio !== null)
  return (
    <div class="bias-result">
      <div class={`verdict ${r.flagged ? 'bad' : 'good'}`} role="status">
        {r.flagged ? 'Flagged: a group fails the four-fifths rule and differs significantly' : 'Not flagged'} · best group: {r.bestGroup === null ? '–' : groupName(r.bestGroup)} ({r.better} is better) · {r.comparisons} comparisons (Bonferroni)
      </div>
      <div class="stats">
        <div class="stat" title="The worst-off group's ratio to the best group, on the favourable scale of the table below (the four-fifths rule flags it under 0.8)">
          <div class="stat-label">Lowest ratio to best</div>
          <div class="stat-value">{r.lowestRatio ? `${num(r.lowestRatio.ratio, 3)} (${groupName(r.lowestRatio.group)})` : '–'}</div>
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
        <HBars
          title={`${r.outcome} per group (95% CI)`}
          rows={r.groups.map((g) => {
            const q = links.get(g.group)
            return { label: `${groupName(g.group)} (n=${g.n})`, value: g.value, ci: g.ci, highlight: g.significant === true, href: q ? tracesHref(q.outcome ?? q.all) : null }
          })}
          format={fmt}
        />
        <HBars
          title={`Ratio to the best group (favourable scale${r.ratioBaseline ? `, means measured from ${fmt(r.ratioBaseline)}` : ''})`}
          rows={ratioRows.map((g) => ({ label: groupName(g.group), value: g.ratio, highlight: g.fourFifthsViolation === true }))}
          format={(v) => num(v, 3)}
          reference={{ value: 0.8, label: 'four-fifths (0.8)' }}
          max={Math.max(1, ...ratioRows.map((g) => g.ratio ?? 0))}
        />
      </div>
      <div class="table-scroll">
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
              <th>Traces</th>
            </tr>
          </thead>
          <tbody>
            {r.groups.map((g) => (
              <tr key={g.group} class={g.fourFifthsViolation && g.significant ? 'flagged' : ''}>
                <td>
                  {groupName(g.group)}
                  {g.group === r.bestGroup && <span class="badge good small">best</span>}
                  {!g.judged && <span class="muted small"> (too small, not judged)</span>}
                </td>
                <td class="num">{int(g.n)}</td>
                <td class="num">{g.value === null ? '–' : fmt(g.value)}</td>
                <td>{g.ci ? `${fmt(g.ci[0])} – ${fmt(g.ci[1])}` : '–'}</td>
                <td class="num">{g.difference === null ? '–' : fmt(g.difference)}</td>
                <td class="num">{num(g.ratio, 3)}</td>
                <td>{g.fourFifthsViolation === null ? '–' : g.fourFifthsViolation ? <span class="badge bad">below 0.8</span> : 'ok'}</td>
                <td class="num" title={g.pValueMethod ? P_METHODS[g.pValueMethod] : undefined}>
                  {pValue(g.pValue)}
                </td>
                <td class="num">{pValue(g.pValueAdjusted)}</td>
                <td>{g.significant === null ? '–' : g.significant ? <strong>yes</strong> : 'no'}</td>
                <td class="nowrap">
                  {(() => {
                    const q = links.get(g.group)
                    if (!q) return null
                    return (
                      <>
                        <Link href={tracesHref(q.all)} aria-label={`all traces of ${groupName(g.group)}`}>
                          all
                        </Link>
                        {q.outcome && (
                          <>
                            {' · '}
                            <Link href={tracesHref(q.outcome)} aria-label={`${q.label} of ${groupName(g.group)}`}>
                              {q.label}
                            </Link>
                          </>
                        )}
                      </>
                    )
                  })()}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  )
}

export function BiasPage() {
  const { search } = useLocation()
  const asked = formFrom(search)
  return <BiasView key={search.toString()} initial={asked ?? DEFAULT_FORM} run={asked} />
}

function BiasView({ initial, run }: { initial: BiasForm; run: BiasForm | null }) {
  const [form, setForm] = useState<BiasForm>(initial)
  const result = useAsync(() => (run ? api.post<BiasReport>('/bias', biasRequest(run)) : Promise.resolve(null)), [])
  // The attribute keys recent spans carry, offered as attr:<key> groups.
  const keys = useAsync(() => api.get<AttributeKeys>('/attributes'), [])
  const groupKeys = [...GROUP_KEYS, ...(keys.state === 'done' ? keys.value.attributes.map((k) => `attr:${k.key}`) : [])]
  const set = (k: keyof BiasForm, asNumber = false) => (e: Event) => {
    const v = (e.target as HTMLInputElement).value
    setForm({ ...form, [k]: asNumber ? Number(v) : v })
  }
  const submit = (e: Event) => {
    e.preventDefault()
    navigate(`/bias?${formToSearch(form)}`)
  }
  return (
    <section>
      <h1>Bias</h1>
      <form class="filters" onSubmit={submit} autocomplete="off">
        {/* Wide: attribute keys (attr:spanlens.metadata.plan) are most of what is typed here. */}
        <label class="grow">
          Group by
          <input name="groupBy" list="bias-keys" value={form.groupBy} onInput={set('groupBy')} />
          <datalist id="bias-keys">
            {groupKeys.map((k) => (
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
      {run && result.state === 'loading' && <Loading what="Computing" />}
      {result.state === 'error' && <ErrorBox error={result.error} />}
      {result.state === 'done' && result.value && run && (result.value.groups.length === 0 ? <p class="muted">No spans in any group for this filter.</p> : <Result r={result.value} f={run} />)}
    </section>
  )
}
