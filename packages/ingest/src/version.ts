import { createRequire } from 'node:module'

/**
 * This package's version. By a path relative to this module: src/version.ts and the bundle's
 * dist/*.js (tsup puts this module in one of them) both sit one level below package.json.
 */
export function packageVersion(): string {
  return (createRequire(import.meta.url)('../package.json') as { version: string }).version
}
