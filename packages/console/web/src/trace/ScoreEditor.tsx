import { useState } from 'preact/hooks'
import { api } from '../api/client'
import type { Score } from '../api/types'
import { ErrorBox } from '../components/State'
import { parseScoreValue, scoreText, storedValue } from './score-value'

/**
 * Adds a score to a trace or span, or edits one: POST /api/v1/scores with the score's
 * own id (and its name and time, which key the stored row) replaces it, in its own type.
 * `source` says who set the value: `console` for a value given here; an edit that leaves
 * the value as it was (a comment, or Save on nothing) keeps the source it had (`eval`, `user`).
 */
export function ScoreEditor({ traceId, spanId, editing, names, onSaved, onCancel }: { traceId: string; spanId?: string; editing?: Score; names: string[]; onSaved: () => void; onCancel?: () => void }) {
  const initial = editing ? scoreText(editing) : ''
  const [name, setName] = useState(editing?.name ?? '')
  const [value, setValue] = useState(initial)
  const [comment, setComment] = useState(editing?.comment ?? '')
  const [state, setState] = useState<{ saving: boolean; error?: unknown }>({ saving: false })
  const target = spanId ? 'span' : 'trace'
  const submit = async (e: Event) => {
    e.preventDefault()
    const parsed = parseScoreValue(value, editing?.dataType)
    if ('error' in parsed) return setState({ saving: false, error: new Error(parsed.error) })
    const source = editing?.source && storedValue(editing) === parsed.value ? editing.source : 'console'
    setState({ saving: true })
    try {
      await api.post('/scores', {
        traceId,
        ...(spanId ? { spanId } : {}),
        name: name.trim(),
        value: parsed.value,
        ...(comment.trim() ? { comment: comment.trim() } : {}),
        source,
        ...(editing ? { id: editing.id, timestamp: editing.timestamp } : {}),
      })
      setState({ saving: false })
      if (!editing) (setName(''), setValue(''), setComment(''))
      onSaved()
    } catch (error) {
      setState({ saving: false, error })
    }
  }
  const listId = `score-names-${spanId ?? 'trace'}`
  return (
    <form class="score-editor" onSubmit={submit} aria-label={editing ? `Edit score ${editing.name}` : `Add a score to this ${target}`}>
      <label>
        Score
        <input name="scoreName" value={name} list={listId} required readOnly={Boolean(editing)} onInput={(e) => setName((e.target as HTMLInputElement).value)} placeholder="e.g. correctness" />
      </label>
      <label>
        Value
        <input name="scoreValue" value={value} required onInput={(e) => setValue((e.target as HTMLInputElement).value)} placeholder={editing?.dataType === 'BOOLEAN' ? 'true or false' : editing?.dataType === 'NUMERIC' ? 'a number' : editing ? 'a label' : 'a number, true, false or a label'} />
      </label>
      <label class="grow">
        Comment
        <input name="scoreComment" value={comment} onInput={(e) => setComment((e.target as HTMLInputElement).value)} placeholder="optional" />
      </label>
      <button type="submit" disabled={state.saving || !name.trim() || !value.trim()}>
        {editing ? 'Save' : `Add to ${target}`}
      </button>
      {onCancel && (
        <button type="button" class="secondary" onClick={onCancel}>
          Cancel
        </button>
      )}
      <datalist id={listId}>
        {names.map((n) => (
          <option key={n} value={n} />
        ))}
      </datalist>
      {state.error !== undefined && <ErrorBox error={state.error} />}
    </form>
  )
}
