import { useState } from 'preact/hooks'
import { ApiError, api } from '../api/client'
import type { DriftReport, SignalDrift } from '../api/types'
import { GroupedBars } from '../components/Bars'
import { ErrorBox, Loading } from '../components/State'
import { distributions } from '../drift/distributions'
import { binHref, sideQuery } from '../drift/links'
import { defaultWindows } from '../drift/windows'
import { groupName, int, num, pct, pValue } from '../format'
import { useAsync } from '../hooks'
import { tracesHref } from '../links'
import { Link, navigate, useLocation } from '../router'

const SIGNALS = ['latency', 'ttft', 'input_tokens', 'output_tokens', 'cost', 'model', 'finish_reason', 'status', 'tool', 'prompt', 'completion'] as const
const DEFAULT_SIGNALS = ['latency', 'input_tokens', 'output_tokens', 'cost', 'model', 'finish_reason', 'status', 'prompt']
const DIMENSIONS = ['release', 'model', 'service', 'environment', 'provider', 'operation']

type Mode = 'windows' | 'values'

export interface DriftForm {
  mode: Mode
  refFrom: string
  refTo: string
  curFrom: string
  curTo: string
  dimension: string
  reference: string
  current: string
  service: string
  signals: string[]
  minSamples: number
}

const DEFAULT_FORM: DriftForm = {
  mode: 'windows',
  refFrom: 'now-14d',
  refTo: 'now-7d',
  curFrom: 'now-7d',
  curTo: '',
  dimension: 'release',
  reference: '',
  current: '',
  service: '',
  signals: DEFAULT_SIGNALS,
  minSamples: 30,
}

/** The form as the page's URL (?mode=…): a URL with it runs the comparison. */
function formToSearch(f: DriftForm): string {
  const q = new URLSearchParams({ mode: f.mode })
  const put = (k: string, v: string) => v !== '' && q.set(k, v)
  if (f.mode === 'windows') (put('refFrom', f.refFrom), put('refTo', f.refTo), put('curFrom', f.curFrom), put('curTo', f.curTo))
  else (put('dimension', f.dimension), put('reference', f.reference), put('current', f.current))
  put('service', f.service)
  q.set('signals', f.signals.join(','))
  q.set('minSamples', String(f.minSamples))
  return q.toString()
}

function formFrom(search: URLSearchParams): DriftForm | null {
  const mode = search.get('mode')
  if (mode !== 'windows' && mode !== 'values') return null
  const get = (k: keyof DriftForm) => search.get(k) ?? ''
  return {
    ...DEFAULT_FORM,
    mode,
    refFrom: get('refFrom'),
    refTo: get('refTo'),
    curFrom: get('curFrom'),
    curTo: get('curTo'),
    dimension: get('dimension') || 'release',
    reference: get('reference'),
    current: get('current'),
    service: get('service'),
    signals: search.has('signals') ? get('signals').split(',').filter(Boolean) : DEFAULT_SIGNALS,
    minSamples: Number(search.get('minSamples')) || DEFAULT_FORM.minSamples,
  }
}

function driftRequest(f: DriftForm): Record<string, unknown> {
  const filter = f.service ? { service: [f.service] } : undefined
  const window = (from: string, to: string) => ({ from, ...(to ? { to } : {}) })
  return {
    ...(f.mode === 'windows' ? { reference: window(f.refFrom, f.refTo), current: window(f.curFrom, f.curTo) } : { dimension: f.dimension, reference: f.reference, current: f.current }),
    ...(filter ? { filter } : {}),
    signals: f.signals,
    minSamples: f.minSamples,
  }
}

function Verdict({ drifted, status }: { drifted: boolean | null; status?: string }) {
  if (status === 'not_enough_data') return <span class="badge neutral">not enough data</span>
  if (drifted === null) return <span class="badge neutral">no verdict</span>
  return drifted ? <span class="badge bad">drifted</span> : <span class="badge good">no drift</span>
}

function SignalCard({ s, report }: { s: SignalDrift; report: DriftReport }) {
  const dist = distributions(s)
  const decisive = s.statistics.find((x) => x.name === s.method)
  return (
    <div class="card signal" data-signal={s.signal}>
      <h2 class="h3">
        {s.signal} <Verdict drifted={s.drifted} status={s.status} />
      </h2>
      <p class="examples small">
        Example traces: <Link href={tracesHref(sideQuery(report, 'reference', s.signal))}>reference</Link> ·{' '}
        <Link href={tracesHref(sideQuery(report, 'current', s.signal))}>current</Link>
      </p>
      <p class="muted small">
        {s.type} · n = {int(s.nReference)} reference / {int(s.nCurrent)} current
        {s.method && ` · verdict from ${s.method}`}
        {decisive && decisive.threshold !== null && ` (threshold ${num(decisive.threshold, 4)})`}
        {s.psiLevel && ` · PSI ${s.psiLevel}`}
      </p>
      <table class="grid compact">
        <thead>
          <tr>
            <th>Statistic</th>
            <th class="num">Value</th>
            <th class="num">p-value</th>
            <th class="num">Threshold</th>
            <th>Against its threshold</th>
          </tr>
        </thead>
        <tbody>
          {s.statistics.map((st) => (
            <tr key={st.name} class={st.role === 'verdict' ? 'decisive' : ''}>
              <td>
                {st.name}
                {st.pValueMethod && <span class="muted small"> ({st.pValueMethod})</span>}
                <span class="muted small"> · {st.role === 'verdict' ? 'decides' : 'supporting'}</span>
              </td>
              <td class="num">{num(st.value, 4)}</td>
              <td class="num">{pValue(st.pValue)}</td>
              <td class="num">{num(st.threshold, 4)}</td>
              <td>{st.drifted === null ? '–' : st.drifted ? 'over' : 'under'}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {dist && dist.categories.length > 0 && (
        <GroupedBars
          title={`${s.signal}: share per ${s.type === 'numeric' ? 'reference-decile bin' : 'category'}`}
          categories={s.type === 'numeric' ? dist.categories : dist.categories.map(groupName)}
          series={[
            { label: 'reference', values: dist.reference, color: '#94a3b8', hrefs: dist.categories.map((c, i) => binHref(report, 'reference', s, i, c)) },
            { label: 'current', values: dist.current, color: '#2563eb', hrefs: dist.categories.map((c, i) => binHref(report, 'current', s, i, c)) },
          ]}
          format={(v) => pct(v, 1)}
        />
      )}
    </div>
  )
}

export function DriftPage() {
  const { search } = useLocation()
  const key = search.toString()
  const asked = formFrom(search)
  // Without a comparison in the URL, windows that have data (drift/windows.ts).
  const windows = useAsync(() => (asked ? Promise.resolve(null) : defaultWindows()), [asked === null])
  if (asked === null && windows.state === 'loading') return <Loading what="Finding the data" />
  const initial = asked ?? (windows.state === 'done' && windows.value ? { ...DEFAULT_FORM, ...windows.value } : DEFAULT_FORM)
  const note = asked === null && windows.state === 'done' && windows.value ? windows.value.note : undefined
  return <DriftView key={key} initial={initial} run={asked} note={note} />
}

function DriftView({ initial, run, note }: { initial: DriftForm; run: DriftForm | null; note: string | undefined }) {
  const [form, setForm] = useState<DriftForm>(initial)
  const result = useAsync(() => (run ? api.post<DriftReport>('/drift', driftRequest(run)) : Promise.resolve(null)), [])
  const set = (k: keyof DriftForm) => (e: Event) => setForm({ ...form, [k]: (e.target as HTMLInputElement).value })
  const submit = (e: Event) => {
    e.preventDefault()
    navigate(`/drift?${formToSearch(form)}`)
  }

  return (
    <section>
      <h1>Drift</h1>
      <form class="filters drift-form" onSubmit={submit} autocomplete="off">
        <fieldset>
          <legend>Compare</legend>
          <label class="inline">
            <input type="radio" name="mode" checked={form.mode === 'windows'} onChange={() => setForm({ ...form, mode: 'windows' })} /> two time windows
          </label>
          <label class="inline">
            <input type="radio" name="mode" checked={form.mode === 'values'} onChange={() => setForm({ ...form, mode: 'values' })} /> two releases (or models, services…)
          </label>
        </fieldset>
        {form.mode === 'windows' ? (
          <>
            <label>
              Reference from
              <input name="refFrom" value={form.refFrom} onInput={set('refFrom')} />
            </label>
            <label>
              Reference to
              <input name="refTo" value={form.refTo} onInput={set('refTo')} />
            </label>
            <label>
              Current from
              <input name="curFrom" value={form.curFrom} onInput={set('curFrom')} />
            </label>
            <label>
              Current to
              <input name="curTo" value={form.curTo} onInput={set('curTo')} placeholder="now" />
            </label>
          </>
        ) : (
          <>
            <label>
              Dimension
              <input name="dimension" list="drift-dimensions" value={form.dimension} onInput={set('dimension')} />
              <datalist id="drift-dimensions">
                {DIMENSIONS.map((d) => (
                  <option key={d} value={d} />
                ))}
              </datalist>
            </label>
            <label>
              Reference
              <input name="reference" value={form.reference} onInput={set('reference')} placeholder="e.g. v41" />
            </label>
            <label>
              Current
              <input name="current" value={form.current} onInput={set('current')} placeholder="e.g. v42" />
            </label>
          </>
        )}
        <label>
          Service
          <input name="service" value={form.service} onInput={set('service')} placeholder="any" />
        </label>
        <label>
          Min samples
          <input name="minSamples" type="number" min={1} value={form.minSamples} onInput={(e) => setForm({ ...form, minSamples: Number((e.target as HTMLInputElement).value) || 1 })} />
        </label>
        <fieldset class="signals">
          <legend>Signals</legend>
          {SIGNALS.map((s) => (
            <label key={s} class="inline">
              <input
                type="checkbox"
                checked={form.signals.includes(s)}
                onChange={(e) => setForm({ ...form, signals: (e.target as HTMLInputElement).checked ? [...form.signals, s] : form.signals.filter((x) => x !== s) })}
              />{' '}
              {s}
            </label>
          ))}
        </fieldset>
        <p class="muted small">
          Times: ISO-8601, epoch ms, now or now-7d style. Dimensions also take attr:&lt;key&gt; and resource:&lt;key&gt;.
          {note && ` Default windows: ${note}.`}
        </p>
        <button type="submit">Compare</button>
      </form>
      {run && result.state === 'loading' && <Loading what="Computing drift" />}
      {result.state === 'error' &&
        (result.error instanceof ApiError && result.error.code === 'SPANLENS_NOT_ENOUGH_DATA' ? (
          <div class="notice">Not enough data: {result.error.message}. Widen the windows or lower the minimum samples.</div>
        ) : (
          <ErrorBox error={result.error} />
        ))}
      {result.state === 'done' && result.value && <Report report={result.value} />}
    </section>
  )
}

function Report({ report }: { report: DriftReport }) {
  return (
    <div class="drift-result">
      <div class={`verdict ${report.drifted ? 'bad' : 'good'}`} role="status">
        {report.drifted ? 'Drift detected' : 'No drift detected'} · {int(report.nReference)} reference spans, {int(report.nCurrent)} current spans ·{' '}
        {report.signals.filter((s) => s.drifted).length} of {report.signals.length} signals drifted
      </div>
      {report.signals.map((s) => (
        <SignalCard key={s.signal} s={s} report={report} />
      ))}
    </div>
  )
}
