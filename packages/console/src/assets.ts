import { readFileSync, statSync } from 'node:fs'
import { extname, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'

/**
 * Where `pnpm build` puts the browser app. The same relative path works from
 * src/ (tests, source condition) and from the bundled dist/index.js.
 */
export function consoleAssetsDir(): string {
  return fileURLToPath(new URL('../dist/web/', import.meta.url))
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.woff2': 'font/woff2',
}

export function contentType(file: string): string {
  return TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream'
}

/** A file found for a request, with what its compressed copy is keyed by (encoding.ts). */
export interface AssetFile {
  path: string
  size: number
  mtimeMs: number
}

/** `path`, if it is a file. */
export function assetFile(path: string): AssetFile | null {
  try {
    const st = statSync(path)
    return st.isFile() ? { path, size: st.size, mtimeMs: st.mtimeMs } : null
  } catch {
    return null
  }
}

/** A file inside dir named by a URL path, or null (missing, a directory, or outside dir). */
export function resolveAsset(dir: string, urlPath: string): AssetFile | null {
  let decoded: string
  try {
    decoded = decodeURIComponent(urlPath)
  } catch {
    return null
  }
  if (decoded.includes('\0')) return null
  const root = resolve(dir)
  const file = resolve(root, `.${decoded.startsWith('/') ? '' : '/'}${decoded}`)
  if (file !== root && !file.startsWith(root + sep)) return null
  return assetFile(file)
}

export function readAsset(file: string): Buffer {
  return readFileSync(file)
}
