import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { loadMigrations } from '../src/store/index.js'
import { storeEnv } from './helpers/store-mode.js'
import { tempDir } from './helpers/tmp.js'

const bin = fileURLToPath(new URL('../src/bin.ts', import.meta.url))

/** `spanlens migrate` in its own process on `dir` and the project's store: its exit code and output. */
async function migrateCli(dir: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = { ...process.env, SPANLENS_DATA_DIR: dir, ...storeEnv(dir), SPANLENS_LOG_LEVEL: 'silent' }
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--conditions=@spanlens/source', '--import', 'tsx', bin, 'migrate'], { env })
    return { code: 0, stdout, stderr }
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string }
    return { code: e.code, stdout: e.stdout, stderr: e.stderr }
  }
}

describe('spanlens migrate', () => {
  it('applies every migration to a new store and exits 0; run again, it applies nothing and says so', async () => {
    const dir = tempDir()
    try {
      const files = loadMigrations().map((m) => m.file)
      const first = await migrateCli(dir.path)
      expect(first, first.stderr).toMatchObject({ code: 0, stdout: expect.stringMatching(new RegExp(`^applied ${files.join(', ')} on `)) })
      const again = await migrateCli(dir.path)
      expect(again, again.stderr).toMatchObject({ code: 0, stdout: expect.stringContaining(`schema is up to date (${files.length} migrations applied earlier)`) })
    } finally {
      dir.cleanup()
    }
  }, 60_000)
})
