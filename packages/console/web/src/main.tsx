import { render } from 'preact'
import { useEffect, useState } from 'preact/hooks'
import { setUnauthorizedHandler } from './api/client'
import { Layout } from './components/Layout'
import { BiasPage } from './pages/Bias'
import { DriftPage } from './pages/Drift'
import { OverviewPage } from './pages/Overview'
import { SignIn } from './pages/SignIn'
import { SloPage } from './pages/Slo'
import { TracePage } from './pages/TracePage'
import { TracesPage } from './pages/Traces'
import { navigate, useLocation } from './router'
import { clearKey, storedKey } from './session'
import './styles.css'

function Routes({ path }: { path: string }) {
  const trace = /^\/traces\/([^/]+)$/.exec(path)
  if (trace?.[1]) return <TracePage traceId={decodeURIComponent(trace[1])} />
  switch (path) {
    case '/traces':
      return <TracesPage />
    case '/overview':
      return <OverviewPage />
    case '/drift':
      return <DriftPage />
    case '/bias':
      return <BiasPage />
    case '/slo':
      return <SloPage />
    default:
      return <p class="muted">No page at this address. Go to <a href="/traces">traces</a>.</p>
  }
}

const TITLES: Record<string, string> = { '/traces': 'Traces', '/overview': 'Overview', '/drift': 'Drift', '/bias': 'Bias', '/slo': 'SLOs' }

/** The tab's title names the view (screen readers announce it; history and bookmarks show it). */
function titleOf(path: string, signedIn: boolean): string {
  if (!signedIn) return 'Sign in · Spanlens'
  const trace = /^\/traces\/([^/]+)$/.exec(path)
  if (trace?.[1]) return `Trace ${decodeURIComponent(trace[1]).slice(0, 8)} · Spanlens`
  return `${TITLES[path] ?? 'Not found'} · Spanlens`
}

function App() {
  const loc = useLocation()
  const [signedIn, setSignedIn] = useState(storedKey() !== null)
  const [notice, setNotice] = useState<string>()
  useEffect(() => {
    document.title = titleOf(loc.path, signedIn)
  }, [loc.path, signedIn])

  useEffect(() => {
    setUnauthorizedHandler(() => {
      setNotice('Your session key is no longer accepted; sign in again.')
      setSignedIn(false)
    })
  }, [])
  useEffect(() => {
    if (signedIn && loc.path === '/') navigate('/traces', true)
  }, [signedIn, loc.path])

  if (!signedIn) return <SignIn notice={notice} onSignedIn={() => (setNotice(undefined), setSignedIn(true))} />
  const signOut = () => {
    clearKey()
    setSignedIn(false)
  }
  return (
    <Layout path={loc.path} onSignOut={signOut}>
      <Routes path={loc.path} />
    </Layout>
  )
}

const root = document.getElementById('app')
if (root) render(<App />, root)
