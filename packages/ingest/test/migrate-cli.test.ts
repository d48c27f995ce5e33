import { describe, expect, it } from 'vitest'
import { loadMigrations } from '../src/store/index.js'
import { spanlens } from './helpers/cli.js'
import { storeEnv } from './helpers/store-mode.js'
import { tempDir } from './helpers/tmp.js'

/** `spanlens migrate` in its own process on `dir` and the project's store: its exit code and output. */
const migrateCli = (dir: string) => spanlens(['migrate'], { ...process.env, SPANLENS_DATA_DIR: dir, ...storeEnv(dir), SPANLENS_LOG_LEVEL: 'silent' })

describe('spanlens migrate', () => {
  it('applies every migration to a new store, saying each as it starts, and exits 0; run again, it applies nothing and says so', async () => {
    const dir = tempDir()
    try {
      const files = loadMigrations().map((m) => m.file)
      const first = await migrateCli(dir.path)
      expect(first, first.stderr).toMatchObject({ code: 0, stdout: expect.stringMatching(new RegExp(`^applied ${files.join(', ')} on `)) })
      // On a cluster with per-node DDL, once per node, naming it.
      for (const file of files) expect(first.stderr).toMatch(new RegExp(`^applying ${file}( on \\S+)?$`, 'm'))
      const again = await migrateCli(dir.path)
      expect(again, again.stderr).toMatchObject({ code: 0, stdout: expect.stringContaining(`schema is up to date (${files.length} migrations applied earlier)`) })
      expect(again.stderr).not.toMatch(/^applying /m)
    } finally {
      dir.cleanup()
    }
  }, 60_000)
})
