import { accessSync, constants, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { errors } from './errors.js'

/**
 * Creates `dir` if needed and proves it can be written, or throws
 * SPANLENS_DATA_DIR_UNUSABLE naming it: for the embedded store's data
 * directory and for the spool's, which may live elsewhere (SPANLENS_SPOOL_DIR).
 */
export function ensureWritableDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true })
    accessSync(dir, constants.W_OK | constants.R_OK)
    // access() says yes to root everywhere; a real write is the only honest probe
    // (read-only mounts, full disks).
    const probe = join(dir, `.spanlens-write-probe-${process.pid}`)
    writeFileSync(probe, 'ok')
    rmSync(probe)
  } catch (err) {
    throw errors.DATA_DIR_UNUSABLE(dir, (err as Error).message, { cause: err })
  }
}
