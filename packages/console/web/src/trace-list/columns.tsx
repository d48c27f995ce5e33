import { useState } from 'preact/hooks'

const COLUMN_IDS = ['start', 'trace', 'service', 'status', 'duration', 'spans', 'llmCalls', 'tokens', 'cost', 'user', 'session', 'scores'] as const
export type ColumnId = (typeof COLUMN_IDS)[number]

const LABELS: Record<ColumnId, string> = {
  start: 'Start',
  trace: 'Trace',
  service: 'Service',
  status: 'Status',
  duration: 'Duration',
  spans: 'Spans',
  llmCalls: 'LLM calls',
  tokens: 'Tokens',
  cost: 'Cost',
  user: 'User',
  session: 'Session',
  scores: 'Scores',
}
const DEFAULT: ColumnId[] = ['start', 'trace', 'service', 'status', 'duration', 'llmCalls', 'tokens', 'cost', 'user', 'scores']
// In this browser's localStorage: a display preference, the same for every project.
const STORE = 'spanlens.traceColumns'

function load(): ColumnId[] {
  try {
    const v: unknown = JSON.parse(localStorage.getItem(STORE) ?? 'null')
    if (Array.isArray(v)) {
      const ids = COLUMN_IDS.filter((id) => v.includes(id))
      if (ids.length > 0) return ids
    }
  } catch {
    // a stored value that is not ours: the defaults
  }
  return DEFAULT
}

export function useColumns(): [ColumnId[], (ids: ColumnId[]) => void] {
  const [ids, setIds] = useState(load)
  const set = (next: ColumnId[]) => {
    const ordered = COLUMN_IDS.filter((id) => next.includes(id))
    setIds(ordered)
    try {
      localStorage.setItem(STORE, JSON.stringify(ordered))
    } catch {
      // storage full or disabled: the choice lasts for this page only
    }
  }
  return [ids, set]
}

/** A menu of checkboxes, one per column; the trace column stays (it is the link). */
export function Columns({ value, onChange }: { value: ColumnId[]; onChange: (ids: ColumnId[]) => void }) {
  return (
    <details class="menu columns">
      <summary>Columns</summary>
      <fieldset>
        <legend>Columns shown</legend>
        {COLUMN_IDS.map((id) => (
          <label class="inline" key={id}>
            <input
              type="checkbox"
              name={`column-${id}`}
              checked={value.includes(id)}
              disabled={id === 'trace'}
              aria-label={`${LABELS[id]} column`}
              onChange={(e) => onChange((e.target as HTMLInputElement).checked ? [...value, id] : value.filter((v) => v !== id))}
            />{' '}
            {LABELS[id]}
          </label>
        ))}
      </fieldset>
    </details>
  )
}
