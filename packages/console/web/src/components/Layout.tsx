import type { ComponentChildren } from 'preact'
import { Link } from '../router'

const NAV = [
  ['/traces', 'Traces'],
  ['/overview', 'Overview'],
  ['/drift', 'Drift'],
  ['/bias', 'Bias'],
  ['/slo', 'SLOs'],
] as const

export function Layout({ path, onSignOut, children }: { path: string; onSignOut: () => void; children: ComponentChildren }) {
  return (
    <div class="shell">
      <a class="skip-link" href="#main">
        Skip to content
      </a>
      <header class="topbar">
        <Link href="/traces" class="brand">
          Spanlens
        </Link>
        <nav>
          {NAV.map(([href, label]) => (
            <Link key={href} href={href} class={path === href || path.startsWith(`${href}/`) ? 'active' : ''} {...(path === href ? { 'aria-current': 'page' } : {})}>
              {label}
            </Link>
          ))}
        </nav>
        <button type="button" class="link-button" onClick={onSignOut}>
          Sign out
        </button>
      </header>
      <main id="main" tabIndex={-1}>
        {children}
      </main>
    </div>
  )
}
