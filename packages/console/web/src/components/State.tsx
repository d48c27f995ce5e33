import { ApiError } from '../api/client'

export function Loading({ what = 'Loading' }: { what?: string }) {
  return <p class="muted loading" role="status">{what}…</p>
}

export function ErrorBox({ error }: { error: unknown }) {
  const code = error instanceof ApiError ? error.code : undefined
  const message = error instanceof Error ? error.message : String(error)
  return (
    <div class="error-box" role="alert">
      {code && <strong class="code">{code}</strong>} {message}
    </div>
  )
}

export function Empty({ children }: { children: preact.ComponentChildren }) {
  return <p class="muted empty">{children}</p>
}
