import { useState } from 'preact/hooks'
import { SPAN_NUMBERS } from '../links'

/**
 * Span filters as the query API names them (docs/api.md), all strings, empty = unset:
 * fixed keys, plus `attr.<key>`, `resource.<key>` and `score.<name>` conditions, and
 * the filters links set (below).
 */
export type TraceFilters = Record<string, string>

const BASIC = ['from', 'to', 'service', 'model', 'status', 'userId', 'sessionId', 'q'] as const
const MORE = ['release', 'environment', 'kind', 'tag', 'event', 'scope', 'refusal', 'minDurationMs', 'maxDurationMs', 'name', 'provider', 'operation', 'traceId'] as const
const KNOWN = new Set<string>([...BASIC, ...MORE])
const CONDITION = /^(attr|resource|score)\.(.+)$/
const KINDS = ['llm', 'chain', 'agent', 'tool', 'retrieval', 'embedding', 'other']

const RANGES = [
  ['now-15m', 'Last 15 minutes'],
  ['now-1h', 'Last hour'],
  ['now-6h', 'Last 6 hours'],
  ['now-24h', 'Last 24 hours'],
  ['now-7d', 'Last 7 days'],
  ['now-30d', 'Last 30 days'],
  ['', 'All time'],
] as const

/**
 * Filters that the numbers' links set and the bar has no field for, shown as removable
 * chips: conditions on span numbers (`ttftMs=>300`, a drift bin) and numeric attributes
 * (`attrNum.retrieval.docs=>3,<=5`, a drift bin), a group's value (`group.language=ja`,
 * a bias group) and `not.` conditions (an SLO's bad events).
 */
const NUMBER_KEYS = new Set<string>(SPAN_NUMBERS)
const isLinked = (k: string) => NUMBER_KEYS.has(k) || /^(group|not|attrNum)\./.test(k)
/** A group's empty value is a value (spans without the attribute), not an unset filter. */
const keeps = (k: string, v: string) => v !== '' || /^(not\.)?group\./.test(k)

export function filtersFrom(search: URLSearchParams): TraceFilters {
  const f: TraceFilters = {}
  for (const [k, v] of search) if ((v !== '' && (KNOWN.has(k) || CONDITION.test(k))) || (isLinked(k) && keeps(k, v))) f[k] = v
  f.from = search.has('from') ? (search.get('from') ?? '') : 'now-24h'
  return f
}

/** Stable order: the same filters always make the same URL (and the same saved view). */
export function filtersToSearch(f: TraceFilters): string {
  const q = new URLSearchParams()
  q.set('from', f.from ?? '')
  for (const k of [...BASIC, ...MORE]) if (k !== 'from' && f[k]) q.set(k, f[k])
  for (const k of Object.keys(f).filter((k) => CONDITION.test(k)).sort()) if (f[k]) q.set(k, f[k])
  for (const k of Object.keys(f).filter(isLinked).sort()) if (f[k] !== undefined && keeps(k, f[k])) q.set(k, f[k])
  return q.toString()
}

const NUMBER_LABEL: Record<string, string> = {
  durationMs: 'duration (ms)',
  ttftMs: 'time to first token (ms)',
  costUsd: 'cost (USD)',
  inputTokens: 'input tokens',
  outputTokens: 'output tokens',
  totalTokens: 'total tokens',
}

/** A linked filter in words: `time to first token (ms) >300 and <=400`, `language = ja`, `not: refusal = 0`. */
function describe(k: string, v: string): string {
  if (k.startsWith('not.')) return `not: ${describe(k.slice(4), v)}`
  if (NUMBER_LABEL[k]) return `${NUMBER_LABEL[k]} ${v.split(',').join(' and ')}`
  if (k.startsWith('attrNum.')) return `attribute ${k.slice(8)} ${v.split(',').join(' and ')}`
  if (k.startsWith('group.')) return `${k.slice(6)} = ${v === '' ? '(empty)' : v}`
  return `${k} = ${v}`
}

const isPreset = (from: string) => RANGES.some(([v]) => v === from)

/** datetime-local value ↔ ISO, in the browser's zone. */
const toLocalInput = (v: string | undefined) => {
  const d = new Date(v ?? '')
  if (Number.isNaN(d.getTime())) return ''
  return new Date(d.getTime() - d.getTimezoneOffset() * 60_000).toISOString().slice(0, 16)
}
const fromLocalInput = (v: string) => (v ? new Date(v).toISOString() : '')

type Condition = { type: 'attr' | 'resource' | 'score'; key: string; value: string }

const conditionsOf = (f: TraceFilters): Condition[] =>
  Object.entries(f).flatMap(([k, value]) => {
    const m = CONDITION.exec(k)
    return m ? [{ type: m[1] as Condition['type'], key: m[2]!, value }] : []
  })

const CONDITION_LABEL: Record<Condition['type'], string> = { attr: 'attribute', resource: 'resource attribute', score: 'score' }

export function FilterBar({
  value,
  onApply,
  services,
  models,
  attributeKeys = [],
}: {
  value: TraceFilters
  onApply: (f: TraceFilters) => void
  services: string[]
  models: string[]
  attributeKeys?: string[]
}) {
  const [f, setF] = useState<TraceFilters>(() => Object.fromEntries(Object.entries(value).filter(([k]) => !CONDITION.test(k))))
  const [conditions, setConditions] = useState<Condition[]>(() => conditionsOf(value))
  const [custom, setCustom] = useState(!isPreset(value.from ?? '') || Boolean(value.to))
  const moreSet = MORE.filter((k) => value[k]).length + conditions.length
  const set = (k: string) => (e: Event) => setF({ ...f, [k]: (e.target as HTMLInputElement).value })
  const setCondition = (i: number, patch: Partial<Condition>) => setConditions(conditions.map((c, j) => (j === i ? { ...c, ...patch } : c)))
  const apply = (fields: TraceFilters) => {
    const out: TraceFilters = { ...fields }
    if (!custom) out.to = ''
    for (const c of conditions) if (c.key.trim() && c.value.trim()) out[`${c.type}.${c.key.trim()}`] = c.value.trim()
    onApply(out)
  }
  const submit = (e: Event) => {
    e.preventDefault()
    apply(f)
  }
  const linked = Object.keys(f).filter(isLinked).sort()
  const input = (name: string, label: string, placeholder: string, extra: Record<string, unknown> = {}) => (
    <label>
      {label}
      <input name={name} value={f[name] ?? ''} onInput={set(name)} placeholder={placeholder} {...extra} />
    </label>
  )
  return (
    <form class="filters" onSubmit={submit} aria-label="Trace filters" autocomplete="off">
      <label>
        Time
        <select
          name="range"
          value={custom ? 'custom' : (f.from ?? '')}
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
      {input('service', 'Service', 'any', { list: 'services' })}
      {input('model', 'Model', 'any', { list: 'models' })}
      <label>
        Status
        <select name="status" value={f.status ?? ''} onChange={set('status')}>
          <option value="">any</option>
          <option value="ok">ok (set by the app)</option>
          <option value="unset">ok (no status)</option>
          <option value="error">error</option>
        </select>
      </label>
      {input('userId', 'User', 'user id')}
      {input('sessionId', 'Session', 'session id')}
      <label class="grow">
        Search
        <input name="q" type="search" value={f.q ?? ''} onInput={set('q')} placeholder="text in prompts or completions" />
      </label>
      <button type="submit">Apply</button>
      {linked.length > 0 && (
        <p class="linked-filters small">
          Also filtered by:{' '}
          {linked.map((k) => (
            <span class="chip" key={k} data-filter={k}>
              {describe(k, f[k] ?? '')}{' '}
              <button type="button" class="link-button" aria-label={`Remove the filter ${describe(k, f[k] ?? '')}`} onClick={() => apply(Object.fromEntries(Object.entries(f).filter(([j]) => j !== k)))}>
                ×
              </button>
            </span>
          ))}
        </p>
      )}
      <details class="more-filters" open={moreSet > 0}>
        <summary>More filters{moreSet > 0 ? ` (${moreSet})` : ''}</summary>
        <div class="filters-row">
          {input('release', 'Release', 'any')}
          {input('environment', 'Environment', 'any')}
          <label>
            Kind
            <select name="kind" value={f.kind ?? ''} onChange={set('kind')}>
              <option value="">any</option>
              {KINDS.map((k) => (
                <option key={k} value={k}>
                  {k}
                </option>
              ))}
            </select>
          </label>
          {input('tag', 'Tag', 'any of, comma-separated')}
          {input('event', 'Span event', 'e.g. exception')}
          {input('scope', 'Instrumentation', 'scope name, any of')}
          <label>
            Refusal
            <select name="refusal" value={f.refusal ?? ''} onChange={set('refusal')}>
              <option value="">any</option>
              <option value="1">refusals only</option>
              <option value="0">no refusals</option>
            </select>
          </label>
          {input('minDurationMs', 'Slower than (ms)', 'any', { type: 'number', min: 0 })}
          {input('maxDurationMs', 'Faster than (ms)', 'any', { type: 'number', min: 0 })}
        </div>
        <fieldset class="conditions">
          <legend>Attributes and scores (a span of the trace carries the attribute; the trace has the score)</legend>
          {conditions.map((c, i) => (
            <div class="condition" key={i}>
              <label>
                Condition {i + 1}
                <select value={c.type} onChange={(e) => setCondition(i, { type: (e.target as HTMLSelectElement).value as Condition['type'] })}>
                  {(['attr', 'resource', 'score'] as const).map((t) => (
                    <option key={t} value={t}>
                      {CONDITION_LABEL[t]}
                    </option>
                  ))}
                </select>
              </label>
              <label>
                {c.type === 'score' ? 'Score name' : 'Key'}
                <input value={c.key} list={c.type === 'attr' ? 'attribute-keys' : undefined} onInput={(e) => setCondition(i, { key: (e.target as HTMLInputElement).value })} placeholder={c.type === 'score' ? 'feedback' : 'key'} />
              </label>
              <label>
                {c.type === 'score' ? 'Condition' : 'Value'}
                <input value={c.value} onInput={(e) => setCondition(i, { value: (e.target as HTMLInputElement).value })} placeholder={c.type === 'score' ? '*, <=0, >0.5 or a category' : 'value'} />
              </label>
              <button type="button" class="link-button" onClick={() => setConditions(conditions.filter((_, j) => j !== i))} aria-label={`Remove condition ${i + 1}`}>
                Remove
              </button>
            </div>
          ))}
          <button type="button" class="secondary" onClick={() => setConditions([...conditions, { type: 'attr', key: '', value: '' }])}>
            Add a condition
          </button>
        </fieldset>
      </details>
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
      <datalist id="attribute-keys">
        {attributeKeys.map((k) => (
          <option key={k} value={k} />
        ))}
      </datalist>
    </form>
  )
}
