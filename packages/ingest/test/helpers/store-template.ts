import { cpSync, existsSync } from 'node:fs'
import { join } from 'node:path'
import { injected, storeMode } from './store-mode.js'

declare module 'vitest' {
  export interface ProvidedContext {
    /** An embedded store's directory with every migration applied (global-store-template.ts), or null. */
    spanlensStoreTemplate: string | null
  }
}

/**
 * Gives a new embedded data directory a store that every migration has been applied to, copied
 * from the one global-store-template.ts made for the run, so that the server or the store a test
 * opens there finds nothing left to apply. Applying them costs ~0.55 s of CPU per new store (69
 * statements and checks, half of that time in 24 ALTERs at ~14 ms each); copying ~1 MB, a few ms. The copy's links are relative
 * (data/<db>/<table> → ../../store/…), so it is a store of its own. What the migrations do to a
 * new store is tested where it matters (migrate-*.test.ts, store-migrating.test.ts), which never
 * come here. Nothing happens on a served store, on a directory that already holds one, or
 * without a template (a project without the global setup).
 */
export function seedMigratedStore(dataDir: string): void {
  if (storeMode() !== 'embedded') return
  const template = injected('spanlensStoreTemplate')
  const target = join(dataDir, 'clickhouse')
  if (!template || existsSync(target)) return
  cpSync(template, target, { recursive: true, verbatimSymlinks: true })
}
