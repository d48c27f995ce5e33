import { useEffect, useState } from 'preact/hooks'

export type Async<T> = { state: 'loading' } | { state: 'error'; error: unknown } | { state: 'done'; value: T }

/** Runs load whenever deps change; a reply that arrives after a newer request is dropped. */
export function useAsync<T>(load: () => Promise<T>, deps: unknown[]): Async<T> {
  const [result, setResult] = useState<Async<T>>({ state: 'loading' })
  useEffect(() => {
    let live = true
    setResult({ state: 'loading' })
    load().then(
      (value) => live && setResult({ state: 'done', value }),
      (error: unknown) => live && setResult({ state: 'error', error }),
    )
    return () => {
      live = false
    }
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, deps)
  return result
}
