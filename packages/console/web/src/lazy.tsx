import type { FunctionComponent } from 'preact'
import { useEffect, useState } from 'preact/hooks'
import { ErrorBox, Loading } from './components/State'

/**
 * A page loaded on first use: the charts (uPlot) and analyses stay out of the bundle
 * that signs in and lists traces.
 */
export function lazy<P extends object>(load: () => Promise<FunctionComponent<P>>): FunctionComponent<P> {
  let loaded: FunctionComponent<P> | undefined
  return function Lazy(props: P) {
    const [state, setState] = useState<{ page?: FunctionComponent<P>; error?: unknown }>({ ...(loaded ? { page: loaded } : {}) })
    useEffect(() => {
      if (state.page) return
      load().then(
        (page) => ((loaded = page), setState({ page })),
        (error: unknown) => setState({ error }),
      )
    }, [])
    if (state.error !== undefined) return <ErrorBox error={state.error} />
    const Page = state.page
    return Page ? <Page {...props} /> : <Loading what="Loading the page" />
  }
}
