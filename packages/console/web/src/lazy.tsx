import type { FunctionComponent } from 'preact'
import { useEffect, useState } from 'preact/hooks'
import { type ApiError, networkError } from './api/client'
import { ErrorBox, Loading } from './components/State'

/**
 * A page loaded on first use: the charts (uPlot) and analyses stay out of the bundle
 * that signs in and lists traces. Its code comes from the server like the data does, so
 * a failed load is shown as the data pages show a server they cannot reach.
 */
export function lazy<P extends object>(load: () => Promise<FunctionComponent<P>>): FunctionComponent<P> {
  let loaded: FunctionComponent<P> | undefined
  return function Lazy(props: P) {
    const [state, setState] = useState<{ page?: FunctionComponent<P>; error?: ApiError }>({ ...(loaded ? { page: loaded } : {}) })
    useEffect(() => {
      if (state.page) return
      load().then(
        (page) => ((loaded = page), setState({ page })),
        // Chromium's "Failed to fetch dynamically imported module: …", Vite's "Unable to preload CSS for …".
        (error: unknown) => setState({ error: networkError(`this page's code did not load: ${error instanceof Error ? error.message : String(error)}`) }),
      )
    }, [])
    if (state.error) return <LoadFailed error={state.error} />
    const Page = state.page
    return Page ? <Page {...props} /> : <Loading what="Loading the page" />
  }
}

/**
 * Retry reloads the document, the one retry that restores the whole page: loaded again in
 * place, the page's code would come, but Vite's preload helper never asks again for a
 * stylesheet that failed once (the charts would stay unstyled), and a rebuilt server has
 * other file names. It reloads once the server answers, so a retry while it is still down
 * keeps this message rather than the browser's error page. The page's state is its URL.
 */
function LoadFailed({ error }: { error: ApiError }) {
  const [state, setState] = useState<{ error: ApiError; checking: boolean }>({ error, checking: false })
  const retry = async () => {
    setState({ ...state, checking: true })
    try {
      await fetch(location.href, { cache: 'no-store' })
      location.reload()
    } catch (err) {
      setState({ error: networkError(`this page's code did not load, and the server still does not answer: ${err instanceof Error ? err.message : String(err)}`), checking: false })
    }
  }
  return (
    <div>
      <ErrorBox error={state.error} />
      <button type="button" class="secondary" onClick={retry} disabled={state.checking}>
        {state.checking ? 'Retrying…' : 'Retry'}
      </button>
    </div>
  )
}
