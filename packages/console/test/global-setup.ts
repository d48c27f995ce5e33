import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync, statSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ensureChromium } from './browser.js'

const pkg = fileURLToPath(new URL('..', import.meta.url))

function newest(dir: string): number {
  let t = 0
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name)
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs)
  }
  return t
}

/**
 * The browser tests run against the built bundle, as `pnpm start` serves it. A fresh
 * clone has none (dist is not in git), and an edited web/ makes it stale: build then.
 */
export default function setup(): void {
  ensureChromium()
  const index = join(pkg, 'dist/web/index.html')
  const shared = fileURLToPath(new URL('../../query/src/format.ts', import.meta.url))
  const sources = Math.max(newest(join(pkg, 'web')), statSync(join(pkg, 'vite.config.ts')).mtimeMs, statSync(shared).mtimeMs)
  if (existsSync(index) && statSync(index).mtimeMs >= sources) return
  const vite = join(dirname(createRequire(join(pkg, 'package.json')).resolve('vite/package.json')), 'bin/vite.js')
  const res = spawnSync(process.execPath, [vite, 'build', '--logLevel', 'warn'], { cwd: pkg, stdio: 'inherit' })
  if (res.status !== 0) throw new Error(`console: vite build failed (exit ${res.status})`)
}
