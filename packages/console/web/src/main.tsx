import { render } from 'preact'
import { useEffect, useState } from 'preact/hooks'
import { setUnauthorizedHandler } from './api/client'
import { Layout } from './components/Layout'
import { lazy } from './lazy'
import { SignIn } from './pages/SignIn'
import { TracePage } from './pages/TracePage'
import { TracesPage } from './pages/Traces'
import { navigate, useLocation } from './router'
import { clearKey, storedKey } from './session'
import './styles.css'

const OverviewPage = lazy(() => import('./pages/Overview').then((m) => m.OverviewPage))
const DriftPage = lazy(() => import('./pages/Drift').then((m) => m.DriftPage))
const BiasPage = lazy(() => import('./pages/Bias').then((m) => m.BiasPage))
const SloPage = lazy(() => import('./pages/Slo').then((m) => m.SloPage))
const SessionPage = lazy(() => import('./pages/SessionPage').then((m) => m.SessionPage))
const UserPage = lazy(() => import('./pages/UserPage').then((m) => m.UserPage))

/** /traces/<id>, /sessions/<id>, /users/<id>: the view and the decoded id. */
function entity(path: string): { view: 'traces' | 'sessions' | 'users'; id: string } | null {
  const m = /^\/(traces|sessions|users)\/([^/]+)$/.exec(path)
  if (!m?.[2]) return null
  try {
    return { view: m[1] as 'traces' | 'sessions' | 'users', id: decodeURIComponent(m[2]) }
  } catch {
    return null
  }
}

function Routes({ path }: { path: string }) {
  const e = entity(path)
  if (e?.view === 'traces') return <TracePage traceId={e.id} />
  if (e?.view === 'sessions') return <SessionPage sessionId={e.id} />
  if (e?.view === 'users') return <UserPage userId={e.id} />
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
  const e = entity(path)
  if (e) return `${e.view === 'traces' ? 'Trace' : e.view === 'sessions' ? 'Session' : 'User'} ${e.view === 'traces' ? e.id.slice(0, 8) : e.id} · Spanlens`
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
