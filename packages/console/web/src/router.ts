import type { ComponentChildren, JSX } from 'preact'
import { useEffect, useState } from 'preact/hooks'
import { createElement } from 'preact'

// History-API routing: the server answers every console path with index.html.
const listeners = new Set<() => void>()

export function navigate(to: string, replace = false): void {
  if (to === location.pathname + location.search) return
  if (replace) history.replaceState(null, '', to)
  else history.pushState(null, '', to)
  for (const l of listeners) l()
}

window.addEventListener('popstate', () => {
  for (const l of listeners) l()
})
// A page restored from the back-forward cache shows what it showed when left: render its URL.
window.addEventListener('pageshow', (e) => {
  if (e.persisted) for (const l of listeners) l()
})

export interface Location {
  path: string
  search: URLSearchParams
}

/** This page with other query parameters (empty ones dropped); replace for state that is not a step back. */
export function setSearch(params: Record<string, string | number | undefined | null>, replace = false): void {
  const q = new URLSearchParams()
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v))
  const s = q.toString()
  navigate(`${location.pathname}${s ? `?${s}` : ''}`, replace)
}

export function useLocation(): Location {
  const [, setTick] = useState(0)
  useEffect(() => {
    const l = () => setTick((t) => t + 1)
    listeners.add(l)
    return () => void listeners.delete(l)
  }, [])
  return { path: location.pathname, search: new URLSearchParams(location.search) }
}

type AnchorProps = Omit<JSX.HTMLAttributes<HTMLAnchorElement>, 'href'> & { href: string; children?: ComponentChildren }

/** An <a> that routes in-app on a plain click and keeps ctrl/middle-click as a new tab. */
export function Link(props: AnchorProps) {
  const onClick = (e: MouseEvent) => {
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return
    e.preventDefault()
    navigate(props.href)
  }
  return createElement('a', { ...props, onClick })
}
