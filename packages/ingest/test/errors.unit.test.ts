import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { errors as sdkErrors, SpanlensSdkError } from '../../sdk/src/errors.js'
import { errors, isSpanlensError, SpanlensError } from '../src/errors.js'

// Like fastify's test/internals/errors.test.js: the catalogue and the page that lists
// it are checked against each other in both directions, and no code is written
// anywhere else.

const root = fileURLToPath(new URL('../../../', import.meta.url))
const read = (path: string) => readFileSync(join(root, path), 'utf8')

/** The files that declare codes; every other source file names them through these. */
const CATALOGUE_FILES = [
  'packages/query/src/errors.ts',
  'packages/sdk/src/errors.ts',
]

type Factory = ((...args: unknown[]) => { code: string; statusCode?: number }) & { code: string; statusCode?: number }

/** code → HTTP status ('—' for the SDK's, which are never replies), from every catalogue. */
function catalogue(): Map<string, string> {
  const rows = new Map<string, string>()
  const add = (code: string, status: string) => {
    expect(rows.has(code), `${code} is declared twice`).toBe(false)
    rows.set(code, status)
  }
  for (const f of Object.values(errors)) add(f.code, String(f.statusCode))
  for (const f of Object.values(sdkErrors)) add(f.code, '—')
  return rows
}

/** code → status from the tables of docs/errors.md. */
function documented(): Map<string, string> {
  const rows = new Map<string, string>()
  for (const m of read('docs/errors.md').matchAll(/^\| (SPANLENS_[A-Z0-9_]+) \| (\d{3}|—) \|/gm)) {
    expect(rows.has(m[1] as string), `${m[1]} has two rows in docs/errors.md`).toBe(false)
    rows.set(m[1] as string, m[2] as string)
  }
  return rows
}

describe('error catalogue and docs/errors.md', () => {
  it('every code of a catalogue is documented, with its status', () => {
    const doc = documented()
    const missing = [...catalogue()].filter(([code, status]) => doc.get(code) !== status).map(([code, status]) => `${code} ${status} (doc: ${doc.get(code) ?? 'none'})`)
    expect(missing).toEqual([])
  })

  it('every documented code is in a catalogue, with that status', () => {
    const cat = catalogue()
    const extra = [...documented()].filter(([code, status]) => cat.get(code) !== status).map(([code, status]) => `${code} ${status} (code: ${cat.get(code) ?? 'none'})`)
    expect(extra).toEqual([])
  })

  it('docs/README.md links to it', () => {
    expect(read('docs/README.md')).toContain('(errors.md)')
  })

  it("a server error's key is its code without SPANLENS_", () => {
    expect(Object.entries(errors).filter(([key, f]) => f.code !== `SPANLENS_${key}`)).toEqual([])
  })

  it.each(Object.entries(errors))('%s makes a SpanlensError with its code and status that keeps its cause', (_key, factory) => {
    const cause = new Error('underneath')
    const err = (factory as unknown as Factory)({ cause }) as SpanlensError
    expect(err).toBeInstanceOf(SpanlensError)
    expect(isSpanlensError(err)).toBe(true)
    expect(err.code).toBe(factory.code)
    expect(err.statusCode).toBe(factory.statusCode)
    expect(err.cause).toBe(cause)
    expect(err.toJSON()).toEqual({ error: { code: factory.code, message: err.message } })
  })

  it("a spool write's system error is answered without the server's path, which stays in the cause", () => {
    const cause = Object.assign(new Error("EMFILE: too many open files, open '/srv/spanlens/spool/0001-7-000001.spans.v2.seg'"), { code: 'EMFILE' })
    const err = errors.SPOOL_IO(cause.message, { cause })
    expect(err.message).toBe('could not write to the spool: EMFILE: too many open files, open')
    expect(err.cause).toBe(cause)
    expect(errors.SPOOL_IO("ENOENT: no such file or directory, rename '/a/x.tmp' -> '/a/x'").message).not.toContain('/a/')
    expect(errors.SPOOL_IO('ENOSPC: no space left on device, write').message).toBe('could not write to the spool: ENOSPC: no space left on device, write')
  })

  it('the SDK makes its errors with the same shape, cause kept', () => {
    const cause = new Error('underneath')
    const err = sdkErrors.CONFIG_INVALID('sampleRate: expected a number', { cause })
    expect(err).toBeInstanceOf(SpanlensSdkError)
    expect(err.code).toBe(sdkErrors.CONFIG_INVALID.code)
    expect(err.cause).toBe(cause)
  })
})

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) return sourceFiles(path)
    return /\.(ts|tsx|js|mjs)$/.test(name) ? [path] : []
  })
}

/** Every `SPANLENS_*` variable the configuration reference documents (server, SDK, CLI). */
function configVariables(): Set<string> {
  return new Set([...read('docs/configuration.md').matchAll(/`(SPANLENS_[A-Z0-9_]+)`/g)].map((m) => m[1] as string))
}

describe('no error code outside the catalogue', () => {
  it('no source file writes a SPANLENS_* code as a string literal', () => {
    const codes = catalogue()
    const variables = configVariables()
    const found: string[] = []
    for (const pkg of readdirSync(join(root, 'packages'))) {
      const src = join(root, 'packages', pkg, 'src')
      if (!statSync(src, { throwIfNoEntry: false })?.isDirectory()) continue
      for (const file of sourceFiles(src)) {
        const rel = relative(root, file).split('\\').join('/')
        if (CATALOGUE_FILES.includes(rel)) continue
        const text = readFileSync(file, 'utf8')
        // A whole string literal, in any quotes; a code inside a longer message is not one.
        for (const m of text.matchAll(/(['"`])(SPANLENS_[A-Z0-9_]+)\1/g)) {
          const name = m[2] as string
          // A configuration variable's name is allowed; a code, or a name that is neither, is not.
          if (codes.has(name) || !variables.has(name)) {
            const line = text.slice(0, m.index).split('\n').length
            found.push(`${rel}:${line} ${m[0]}`)
          }
        }
      }
    }
    expect(found).toEqual([])
  })
})
