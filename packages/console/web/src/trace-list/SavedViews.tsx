import { useState } from 'preact/hooks'
import { api } from '../api/client'
import type { ProjectInfo } from '../api/types'
import { useAsync } from '../hooks'
import { navigate } from '../router'

interface View {
  name: string
  /** the /traces query string: filters and order */
  search: string
}

// Saved views live in this browser's localStorage, per project (GET /api/v1/project):
// they are not shared with other people or browsers.
const storeKey = (project: string) => `spanlens.views.${project}`

function load(project: string): View[] {
  try {
    const v: unknown = JSON.parse(localStorage.getItem(storeKey(project)) ?? '[]')
    return Array.isArray(v) ? v.filter((x): x is View => typeof x?.name === 'string' && typeof x?.search === 'string') : []
  } catch {
    return []
  }
}

function save(project: string, views: View[]): void {
  try {
    localStorage.setItem(storeKey(project), JSON.stringify(views))
  } catch {
    // storage full or disabled: the view lasts for this page only
  }
}

/** Pick, save and delete named trace views (filters and order) of the signed-in project. */
export function SavedViews({ current }: { current: string }) {
  const project = useAsync(() => api.get<ProjectInfo>('/project'), [])
  const [, setTick] = useState(0)
  const [name, setName] = useState('')
  if (project.state !== 'done') return null
  const p = project.value.project
  const views = load(p)
  const selected = views.find((v) => v.search === current)
  const update = (next: View[]) => (save(p, next), setTick((t) => t + 1))
  return (
    <div class="saved-views" aria-label="Saved views" role="group">
      <label class="inline">
        View
        <select
          name="view"
          value={selected?.name ?? ''}
          onChange={(e) => {
            const v = views.find((x) => x.name === (e.target as HTMLSelectElement).value)
            if (v) navigate(`/traces?${v.search}`)
          }}
        >
          {!selected && <option value="">unsaved</option>}
          {views.map((v) => (
            <option key={v.name} value={v.name}>
              {v.name}
            </option>
          ))}
        </select>
      </label>
      {selected ? (
        <button type="button" class="secondary small" onClick={() => update(views.filter((v) => v !== selected))}>
          Delete view “{selected.name}”
        </button>
      ) : (
        <form
          class="inline-form"
          onSubmit={(e) => {
            e.preventDefault()
            const n = name.trim()
            if (!n) return
            update([...views.filter((v) => v.name !== n), { name: n, search: current }].sort((a, b) => a.name.localeCompare(b.name)))
            setName('')
          }}
        >
          <label class="inline">
            <span class="visually-hidden">Name of this view</span>
            <input name="viewName" value={name} onInput={(e) => setName((e.target as HTMLInputElement).value)} placeholder="name this view" />
          </label>
          <button type="submit" class="secondary small" disabled={!name.trim()}>
            Save view
          </button>
        </form>
      )}
    </div>
  )
}
