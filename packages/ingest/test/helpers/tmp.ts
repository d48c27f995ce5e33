import { mkdtempSync, readdirSync, readlinkSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** The directories tempDir() made in this process and nobody removed yet. */
const made = new Set<string>()

/** A fresh directory under the OS temp dir, removed by the returned cleanup (or by removeTempDirs()). */
export function tempDir(prefix = 'spanlens-test-'): { path: string; cleanup: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix))
  made.add(path)
  return {
    path,
    cleanup: () => {
      rmSync(path, { recursive: true, force: true })
      made.delete(path)
    },
  }
}

/**
 * Removes every directory tempDir() made in this process that is still there: an afterAll for
 * files that make them only to name a store or a refused data directory, or one per helper call.
 * Files that share a process run one after another (vitest.config.ts), so what is left is the
 * file's own, or what an earlier file of the process left behind.
 */
export function removeTempDirs(): void {
  // Retried: an engine killed just before can still be writing its last files there.
  for (const path of made) rmSync(path, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 })
  made.clear()
}

/**
 * The day `daysAgo` days before today (UTC), as `YYYY-MM-DD`: rows written straight to a
 * store must fall inside its retention (90 days by default), or its TTL deletes them on
 * insert, so a fixed date in a test stops working once it ages past it.
 */
export function recentDay(daysAgo = 30): string {
  return new Date(Date.now() - daysAgo * 86_400_000).toISOString().slice(0, 10)
}

/** The files under `dir` this process holds open (its /proc/self/fd). */
export function openFilesUnder(dir: string): string[] {
  return readdirSync('/proc/self/fd').flatMap((fd) => {
    try {
      const target = readlinkSync(`/proc/self/fd/${fd}`)
      return target.startsWith(`${dir}/`) ? [target] : []
    } catch {
      return [] // closed since it was listed (the listing's own descriptor)
    }
  })
}
