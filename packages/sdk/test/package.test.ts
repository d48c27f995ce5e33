import { execFileSync } from 'node:child_process'
import { copyFileSync, mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url))
const require = createRequire(import.meta.url)

/**
 * An app directory with the SDK installed as npm would lay it out: its package.json and the
 * dist tsup builds from src (as `pnpm build` does), and its peer @opentelemetry/api next to it.
 */
let app: string
beforeAll(() => {
  app = mkdtempSync(join(tmpdir(), 'spanlens-sdk-package-'))
  const installed = join(app, 'node_modules/@spanlens/sdk')
  mkdirSync(installed, { recursive: true })
  copyFileSync(join(PACKAGE_DIR, 'package.json'), join(installed, 'package.json'))
  const tsup = join(dirname(require.resolve('tsup/package.json')), 'dist/cli-default.js')
  // tsup.config.ts as `pnpm build` reads it, into the app instead of the package.
  execFileSync(process.execPath, [tsup, '--out-dir', join(installed, 'dist'), '--silent'], { cwd: PACKAGE_DIR })
  mkdirSync(join(app, 'node_modules/@opentelemetry'))
  symlinkSync(realpathSync(join(PACKAGE_DIR, 'node_modules/@opentelemetry/api')), join(app, 'node_modules/@opentelemetry/api'), 'dir')
  mkdirSync(join(app, 'node_modules/@types'))
  symlinkSync(dirname(require.resolve('@types/node/package.json')), join(app, 'node_modules/@types/node'), 'dir')
}, 60_000)
afterAll(() => rmSync(app, { recursive: true, force: true }))

function run(file: string, source: string): string {
  writeFileSync(join(app, file), source)
  return execFileSync(process.execPath, [file], { cwd: app, encoding: 'utf8', timeout: 20_000 })
}

describe('the installed package', () => {
  it('is required by a CommonJS app (Node ≥ 20.19 loads an ES module without top-level await)', () => {
    const out = run(
      'app.cjs',
      `const { init, observe, getStats } = require('@spanlens/sdk')
       init({ endpoint: 'http://127.0.0.1:1', env: {}, flushOnExit: false, logger: { debug() {}, warn() {}, error() {} } })
       const add = observe('add', (a, b) => a + b)
       console.log(JSON.stringify({ sum: add(1, 2), queued: getStats().spansQueued }))`,
    )
    expect(JSON.parse(out)).toEqual({ sum: 3, queued: 1 })
  })

  it('is imported by an ES module app', () => {
    const out = run('app.mjs', `import { init } from '@spanlens/sdk'\nconsole.log(typeof init)`)
    expect(out.trim()).toBe('function')
  })

  // What docs/sdk.md promises TypeScript apps that compile to CommonJS.
  it.each(['node10', 'nodenext'])('type-checks in a CommonJS TypeScript app with moduleResolution %s', (resolution) => {
    writeFileSync(join(app, `${resolution}.cts`), `import { init, observe } from '@spanlens/sdk'\ninit({ enabled: false })\nconst add: (a: number, b: number) => number = observe('add', (a: number, b: number) => a + b)\nadd(1, 2)\n`)
    const tsc = join(dirname(require.resolve('typescript/package.json')), 'bin/tsc')
    const module = resolution === 'node10' ? 'commonjs' : resolution
    execFileSync(process.execPath, [tsc, '--noEmit', '--strict', '--skipLibCheck', '--types', 'node', '--module', module, '--moduleResolution', resolution, `${resolution}.cts`], { cwd: app, encoding: 'utf8' })
  })
})
