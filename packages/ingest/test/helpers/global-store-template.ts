import { execFile } from 'node:child_process'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { promisify } from 'node:util'
import type { TestProject } from 'vitest/node'
import { tempDir } from './tmp.js'

const script = fileURLToPath(new URL('./make-store-template.ts', import.meta.url))
const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href

/** One template for every project of the run that lists this setup, removed after the last of them. */
const shared = Symbol.for('spanlens.storeTemplate')
type Shared = { made: Promise<{ path: string; cleanup: () => void }>; users: number }
const state = globalThis as { [shared]?: Shared }

/**
 * globalSetup of the embedded projects: makes an embedded store with every migration applied,
 * once, and provides its directory; store-template.ts copies it into a test's new data directory.
 */
export default async function setup(project: TestProject): Promise<() => void> {
  const s = (state[shared] ??= { made: make(), users: 0 })
  s.users++
  const made = await s.made
  project.provide('spanlensStoreTemplate', join(made.path, 'clickhouse'))
  return () => {
    if (--s.users > 0) return
    made.cleanup()
    delete state[shared]
  }
}

async function make(): Promise<{ path: string; cleanup: () => void }> {
  const dir = tempDir('spanlens-template-')
  try {
    await promisify(execFile)(process.execPath, ['--conditions=@spanlens/source', '--import', tsx, script, dir.path], { timeout: 120_000 })
  } catch (err) {
    dir.cleanup()
    throw new Error(`the migrated store template could not be made: ${(err as Error).message}`, { cause: err })
  }
  return dir
}
