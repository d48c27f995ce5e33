import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium, type BrowserContext } from 'playwright-core'

export const CHROMIUM = '/usr/bin/chromium'

const onPath = (cmd: string) => (process.env.PATH ?? '').split(':').some((dir) => dir !== '' && existsSync(join(dir, cmd)))

/**
 * Debian's Chromium, installed from the Debian mirror when missing and we are root
 * with apt-get (a clean CI machine); otherwise a clear failure, never a silent skip.
 */
export function ensureChromium(log: (line: string) => void = console.log): string {
  if (existsSync(CHROMIUM)) return CHROMIUM
  const root = typeof process.getuid === 'function' && process.getuid() === 0
  if (root && onPath('apt-get')) {
    log(`console tests: ${CHROMIUM} missing; installing Debian's chromium (apt-get install -y chromium)`)
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
    execFileSync('apt-get', ['update'], { stdio: 'inherit', env })
    execFileSync('apt-get', ['install', '-y', '--no-install-recommends', 'chromium'], { stdio: 'inherit', env })
    if (existsSync(CHROMIUM)) return CHROMIUM
  }
  throw new Error(
    `The console's browser tests need Debian's Chromium at ${CHROMIUM}. Install it with \`sudo apt-get install chromium\` ` +
      '(Debian/Ubuntu package "chromium"); it is installed automatically only when the tests run as root with apt-get.',
  )
}

/** Headless Chromium in a fresh profile directory. */
export async function launchBrowser(): Promise<BrowserContext> {
  const userDataDir = mkdtempSync(join(tmpdir(), 'spanlens-chromium-'))
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: ensureChromium(),
    headless: true,
    viewport: { width: 1400, height: 900 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  })
  // The profile goes with the browser (it was left in the OS temp dir, one per run). Not on the
  // context's 'close' event: Chromium still writes its profile then (ENOTEMPTY, measured).
  const close = context.close.bind(context)
  context.close = async (options) => {
    await close(options)
    try {
      rmSync(userDataDir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 })
    } catch (err) {
      console.warn(`the browser profile ${userDataDir} could not be removed: ${(err as Error).message}`)
    }
  }
  return context
}
