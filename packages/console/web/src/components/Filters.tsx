import { useState } from 'preact/hooks'

/** Span filters as the query API names them (all strings; empty = unset). */
export interface TraceFilters {
  from: string
  to: string
  service: string
  model: string
  status: string
  userId: string
  sessionId: string
  q: string
}

const FILTER_KEYS: Array<keyof TraceFilters> = ['from', 'to', 'service', 'model', 'status', 'userId', 'sessionId', 'q']
const RANGES = [
  ['now-15m', 'Last 15 minutes'],
  ['now-1h', 'Last hour'],
  ['now-6h', 'Last 6 hours'],
  ['now-24h', 'Last 24 hours'],
  ['now-7d', 'Last 7 days'],
  ['now-30d', 'Last 30 days'],
  ['', 'All time'],
] as const

export function filtersFrom(search: URLSearchParams): TraceFilters {
  const f = {} as TraceFilters
  for (const k of FILTER_KEYS) f[k] = search.get(k) ?? ''
  if (!search.has('from')) f.from = 'now-24h'
  return f
}

export function filtersToSearch(f: TraceFilters): string {
  const q = new URLSearchParams()
  for (const k of FILTER_KEYS) if (f[k] !== '' || k === 'from') q.set(k, f[k])
  return q.toString()
}

const isPreset = (from: string) => RANGES.some(([v]) => v === from)

/** datetime-local value ↔ ISO, in the browser's zone. */
const toLocalInput = (v: string) => {
  const d = new Date(v)
  if (Number.isNaN(d.getTime())) return ''
  return new Date(d.getTime() - d.getTimezoneOffset() * 60_000).toISOString().slice(0, 16)
}
const fromLocalInput = (v: string) => (v ? new Date(v).toISOString() : '')

export function FilterBar({ value, onApply, services, models }: { value: TraceFilters; onApply: (f: TraceFilters) => void; services: string[]; models: string[] }) {
  const [f, setF] = useState(value)
  const [custom, setCustom] = useState(!isPreset(value.from) || value.to !== '')
  const set = (k: keyof TraceFilters) => (e: Event) => setF({ ...f, [k]: (e.target as HTMLInputElement).value })
  const submit = (e: Event) => {
    e.preventDefault()
    onApply(custom ? f : { ...f, to: '' })
  }
  return (
    <form class="filters" onSubmit={submit} aria-label="Trace filters">
      <label>
        Time
        <select
          name="range"
          value={custom ? 'custom' : f.from}
          onChange={(e) => {
            const v = (e.target as HTMLSelectElement).value
            if (v === 'custom') setCustom(true)
            else (setCustom(false), setF({ ...f, from: v, to: '' }))
          }}
        >
          {RANGES.map(([v, label]) => (
            <option key={v} value={v}>
              {label}
            </option>
          ))}
          <option value="custom">Custom…</option>
        </select>
      </label>
      {custom && (
        <>
          <label>
            From
            <input type="datetime-local" name="from" value={toLocalInput(f.from)} onInput={(e) => setF({ ...f, from: fromLocalInput((e.target as HTMLInputElement).value) })} />
          </label>
          <label>
            To
            <input type="datetime-local" name="to" value={toLocalInput(f.to)} onInput={(e) => setF({ ...f, to: fromLocalInput((e.target as HTMLInputElement).value) })} />
          </label>
        </>
      )}
      <label>
        Service
        <input name="service" list="services" value={f.service} onInput={set('service')} placeholder="any" />
      </label>
      <label>
        Model
        <input name="model" list="models" value={f.model} onInput={set('model')} placeholder="any" />
      </label>
      <label>
        Status
        <select name="status" value={f.status} onChange={set('status')}>
          <option value="">any</option>
          <option value="ok">ok (set by the app)</option>
          <option value="unset">ok (no status)</option>
          <option value="error">error</option>
        </select>
      </label>
      <label>
        User
        <input name="userId" value={f.userId} onInput={set('userId')} placeholder="user id" />
      </label>
      <label>
        Session
        <input name="sessionId" value={f.sessionId} onInput={set('sessionId')} placeholder="session id" />
      </label>
      <label class="grow">
        Search
        <input name="q" type="search" value={f.q} onInput={set('q')} placeholder="text in prompts or completions" />
      </label>
      <button type="submit">Apply</button>
      <datalist id="services">
        {services.map((s) => (
          <option key={s} value={s} />
        ))}
      </datalist>
      <datalist id="models">
        {models.map((m) => (
          <option key={m} value={m} />
        ))}
      </datalist>
    </form>
  )
}
