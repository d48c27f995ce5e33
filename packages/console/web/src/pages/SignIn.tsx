import { useState } from 'preact/hooks'
import { ApiError, api } from '../api/client'
import { storeKey } from '../session'

/** Nothing else renders until a key the server accepts is in the session. */
export function SignIn({ onSignedIn, notice }: { onSignedIn: () => void; notice?: string | undefined }) {
  const [key, setKey] = useState('')
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<string | null>(null)

  const submit = async (e: Event) => {
    e.preventDefault()
    const k = key.trim()
    if (!k) return setError('Enter your project API key.')
    setBusy(true)
    setError(null)
    try {
      await api.verify(k)
      storeKey(k)
      onSignedIn()
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) setError('This API key was not accepted by the server (SPANLENS_UNAUTHORIZED). Check it against SPANLENS_API_KEYS.')
      else if (err instanceof ApiError && err.status === 403)
        setError('This is an ingest key (SPANLENS_INGEST_KEYS): it sends spans and scores but reads nothing. Sign in with a key from SPANLENS_API_KEYS.')
      else setError(err instanceof Error ? err.message : String(err))
    } finally {
      setBusy(false)
    }
  }

  return (
    <div class="signin">
      <form onSubmit={submit} class="card">
        <h1>Spanlens</h1>
        <p class="muted">Sign in with a project API key. It is kept in this browser tab only and sent as a bearer token to the query API.</p>
        {notice && <p class="notice">{notice}</p>}
        <label>
          API key
          <input name="apiKey" type="password" autocomplete="off" autofocus value={key} onInput={(e) => setKey((e.target as HTMLInputElement).value)} />
        </label>
        {error && (
          <p class="error-box" role="alert">
            {error}
          </p>
        )}
        <button type="submit" disabled={busy}>
          {busy ? 'Checking…' : 'Sign in'}
        </button>
      </form>
    </div>
  )
}
