import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** A fresh directory under the OS temp dir, removed by the returned cleanup. */
export function tempDir(prefix = 'spanlens-test-'): { path: string; cleanup: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix))
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) }
}

/**
 * The day `daysAgo` days before today (UTC), as `YYYY-MM-DD`: rows written straight to a
 * store must fall inside its retention (90 days by default), or its TTL deletes them on
 * insert, so a fixed date in a test stops working once it ages past it.
 */
export function recentDay(daysAgo = 30): string {
  return new Date(Date.now() - daysAgo * 86_400_000).toISOString().slice(0, 10)
}
