import { spawnSync } from 'node:child_process'
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { tempDir } from './helpers/tmp.js'

// The `spanlens` command (bin/spanlens.cjs) in front of a stand-in for the built
// entry, so this runs without a build: the stand-in reports what it was started with.
const launcher = fileURLToPath(new URL('../bin/spanlens.cjs', import.meta.url))

function run(env: Record<string, string | undefined>): { status: number | null; report: { pool: string | undefined; argv: string[]; threads: number } } {
  const dir = tempDir('spanlens-launcher-')
  const root = dir.path
  try {
    mkdirSync(join(root, 'bin'))
    mkdirSync(join(root, 'dist'))
    copyFileSync(launcher, join(root, 'bin/spanlens.cjs'))
    writeFileSync(join(root, 'dist/package.json'), '{"type":"module"}')
    writeFileSync(
      join(root, 'dist/bin.js'),
      `import { readFile } from 'node:fs/promises'
  import { readdirSync } from 'node:fs'
  // Enough concurrent fs calls to start every threadpool thread.
  await Promise.all(Array.from({ length: 64 }, () => readFile('/proc/self/stat')))
  console.log(JSON.stringify({ pool: process.env.UV_THREADPOOL_SIZE, argv: process.argv.slice(2), threads: readdirSync('/proc/self/task').length }))
  process.exit(3)
  `,
    )
    const { UV_THREADPOOL_SIZE: _, ...base } = process.env
    const r = spawnSync(process.execPath, [join(root, 'bin/spanlens.cjs'), 'serve', '--flag'], { env: { ...base, ...env }, encoding: 'utf8' })
    return { status: r.status, report: JSON.parse(r.stdout.trim()) }
  } finally {
    dir.cleanup()
  }
}

describe.runIf(process.platform === 'linux')('spanlens launcher', () => {
  it('starts the entry with a 16-thread libuv pool, the arguments and the exit code untouched', () => {
    const big = run({})
    expect(big.status).toBe(3)
    expect(big.report.pool).toBe('16')
    expect(big.report.argv).toEqual(['serve', '--flag'])
    const small = run({ UV_THREADPOOL_SIZE: '2' })
    expect(small.report.pool).toBe('2')
    // The size really took effect: 14 more threads than with an explicit 2.
    expect(big.report.threads - small.report.threads).toBe(14)
  })
})
