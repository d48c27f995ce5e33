import { spawn } from 'node:child_process'
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it, vi } from 'vitest'
import { runDeadLetter } from '../src/cli/dead-letter.js'
import { loadConfig, type SpanlensConfig } from '../src/config/load.js'
import { DeadLetters } from '../src/pipeline/dead-letter.js'
import { buildServer } from '../src/server.js'
import { createStore, type Store } from '../src/store/index.js'
import { jsonRequest } from './helpers/otlp.js'
import { API_KEYS, bearer, KEYS } from './helpers/server.js'
import { spanCountsByName } from './helpers/span-counts.js'
import { storeEnv } from './helpers/store-mode.js'
import { tempDir } from './helpers/tmp.js'

// A segment no retry inserts: every slice of it refused alike with an error of a type Spanlens
// does not know (inserter.ts retries it as the store's failure, for ever). An operator sees it
// in /readyz and `spanlens dead-letter stuck`, sets it aside with the server stopped, and
// replays it once the store takes it: every acknowledged row stored once.

const refuse = () => {
  throw Object.assign(new Error('Code: 999. DB::Exception: a limit of a newer server. (SOMETHING_NEW)'), { code: '999', type: 'SOMETHING_NEW' })
}

const segments = (spoolDir: string) => readdirSync(spoolDir).filter((f) => f.endsWith('.seg'))

/**
 * Starts a server whose inserts all fail as `refuse` does, sends three spans, and waits until
 * their segment failed store-wide; returns its name once the server is stopped.
 */
async function stuckSegment(config: SpanlensConfig, prefix: string): Promise<{ segment: string; readyz: Record<string, unknown> }> {
  const real = await createStore(config.store)
  const store: Store = { ...real, client: real.client, close: async () => undefined, insertFile: async () => refuse(), insertRaw: async () => refuse() }
  const app = await buildServer(config, { store, shutdownTimeoutMs: 50 })
  try {
    const spans = [1, 2, 3].map((i) => ({ name: `${prefix}${i}` }))
    const url = await app.listen({ host: '127.0.0.1', port: 0 })
    const sent = await fetch(`${url}/v1/traces`, { method: 'POST', headers: { ...bearer(KEYS.acme), 'content-type': 'application/json' }, body: JSON.stringify(jsonRequest(spans)) })
    expect(sent.status).toBe(200)
    await app.spanlens.pipeline.spool.sealActive()
    // Three whole attempts, then halves and rows alone, every one refused alike.
    await vi.waitFor(() => expect(app.spanlens.pipeline.health().inserter.oldestFailing[0]?.slicesAlike).toBe(3), { timeout: 15_000, interval: 50 })
    const readyz = (await app.inject({ method: 'GET', url: '/readyz' })).json() as Record<string, unknown>
    const metrics = (await app.inject({ method: 'GET', url: '/metrics' })).body
    expect(metrics).toMatch(/^spanlens_insert_failing_segments 1$/m)
    expect(metrics).toMatch(/^spanlens_insert_oldest_failing_segment_seconds [0-9.]+$/m)
    const segment = app.spanlens.pipeline.health().inserter.oldestFailing[0]?.segment as string
    return { segment, readyz }
  } finally {
    await app.close()
    await real.close()
  }
}

describe('a spool segment no retry inserts', () => {
  it('is listed with its attempts and last error, set aside into a letter once the server is stopped, and replayed once', async () => {
    const dir = tempDir()
    const config = loadConfig({ env: { SPANLENS_DATA_DIR: dir.path, ...storeEnv(dir.path), SPANLENS_API_KEYS: API_KEYS, SPANLENS_LOG_LEVEL: 'silent' } })
    const spoolDir = config.ingest.spoolDir
    try {
      const { segment, readyz } = await stuckSegment(config, 'stuck-')
      expect(readyz).toMatchObject({
        inserter: {
          failingSegments: 1,
          oldestFailing: [{ segment, table: 'spans', rows: 3, kind: 'unknown', slicesAlike: 3, attempts: expect.any(Number), lastError: expect.stringMatching(/^SOMETHING_NEW \(999\)/) }],
        },
      })
      const lines: string[] = []
      const io = { out: (l: string) => lines.push(l) }
      expect(await runDeadLetter(['stuck'], config, io)).toBe(0)
      expect(lines).toHaveLength(1)
      expect(lines[0]).toMatch(new RegExp(`^${segment.replace(/\./g, '\\.')}\tspans\t3 rows\tfailing \\d+ s\t\\d+ attempts\tunknown, every one of 3 slices alike\tSOMETHING_NEW \\(999\\)`))

      lines.length = 0
      expect(await runDeadLetter(['set-aside', segment], config, io)).toBe(0)
      expect(lines[0]).toContain(`set aside ${segment}: 3 rows`)
      expect(segments(spoolDir)).toEqual([])
      const [letter, ...others] = new DeadLetters(join(spoolDir, 'dead')).list()
      expect(others).toEqual([])
      expect(letter?.meta.token).toBe(`spanlens:${segment}`)
      expect(letter?.meta.rows).toHaveLength(3)
      for (const r of letter?.meta.rows ?? []) {
        expect(r.project).toBe('acme')
        expect(r.reason).toMatch(/^SOMETHING_NEW \(999\): .* \(set aside by an operator after \d+ failed inserts over \d+ min\)$/)
      }
      lines.length = 0
      expect(await runDeadLetter(['stuck'], config, io)).toBe(0)
      expect(lines).toEqual(['no spool segment is failing'])

      // The store takes them now: replayed like any letter, each row once.
      expect(await runDeadLetter(['replay', segment], config, io)).toBe(0)
      expect(await spanCountsByName(config, 'stuck-')).toEqual([1, 2, 3].map((i) => ({ name: `stuck-${i}`, n: 1 })))
    } finally {
      dir.cleanup()
    }
  })

  it('a crash between its letter and its removal stores no row twice: the letter replays under the segment token', async () => {
    const dir = tempDir()
    const config = loadConfig({ env: { SPANLENS_DATA_DIR: dir.path, ...storeEnv(dir.path), SPANLENS_API_KEYS: API_KEYS, SPANLENS_LOG_LEVEL: 'silent' } })
    const spoolDir = config.ingest.spoolDir
    const kept = tempDir()
    try {
      const { segment } = await stuckSegment(config, 'twice-')
      const index = segment.replace(/\.seg$/, '.idx')
      for (const f of [segment, index]) copyFileSync(join(spoolDir, f), join(kept.path, f))
      expect(await runDeadLetter(['set-aside', segment], config, { out: () => undefined })).toBe(0)
      // As if the process died after writing the letter, before removing the segment.
      for (const f of [segment, index]) copyFileSync(join(kept.path, f), join(spoolDir, f))
      // The next server, on a store that takes the rows, inserts the segment.
      const app = await buildServer(config)
      try {
        await app.spanlens.flush()
      } finally {
        await app.close()
      }
      expect(segments(spoolDir)).toEqual([])
      expect(await runDeadLetter(['replay', segment], config, { out: () => undefined })).toBe(0)
      expect(await spanCountsByName(config, 'twice-')).toEqual([1, 2, 3].map((i) => ({ name: `twice-${i}`, n: 1 })))
    } finally {
      kept.cleanup()
      dir.cleanup()
    }
  })

  it('is refused with SPANLENS_SPOOL_IN_USE while a server holds the spool, and a name that is no segment with SPANLENS_SPOOL_SEGMENT_UNKNOWN', async () => {
    const dir = tempDir()
    const config = loadConfig({ env: { SPANLENS_DATA_DIR: dir.path, SPANLENS_LOG_LEVEL: 'silent' } })
    const spoolDir = config.ingest.spoolDir
    // A live process of this host holding the spool's lock, as a running `spanlens serve` does.
    const server = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' })
    await new Promise((r) => server.once('spawn', r))
    const name = '00000000000001-1-000001.spans.t3.seg'
    const io = { out: () => undefined }
    try {
      mkdirSync(spoolDir, { recursive: true })
      writeFileSync(join(spoolDir, name), 'whatever the server is inserting\n')
      writeFileSync(join(spoolDir, 'LOCK'), JSON.stringify({ pid: server.pid, host: hostname(), startTicks: null, token: 'theirs' }))
      const inUse = await runDeadLetter(['set-aside', name], config, io).catch((err: unknown) => err)
      expect(inUse).toMatchObject({ code: 'SPANLENS_SPOOL_IN_USE', statusCode: 409 })
      expect((inUse as Error).message).toContain(`process ${server.pid}`)
      // Left as it was: the segment, the server's lock, no letter.
      expect(segments(spoolDir)).toEqual([name])
      expect(JSON.parse(readFileSync(join(spoolDir, 'LOCK'), 'utf8')).pid).toBe(server.pid)
      expect(new DeadLetters(join(spoolDir, 'dead')).list()).toEqual([])

      server.kill('SIGKILL')
      await new Promise((r) => server.once('exit', r))
      unlinkSync(join(spoolDir, name))
      for (const bad of ['../spool/x.seg', 'nope.seg', 'nope', '']) {
        await expect(runDeadLetter(['set-aside', bad], config, io), bad).rejects.toMatchObject({ code: 'SPANLENS_SPOOL_SEGMENT_UNKNOWN' })
      }
      // The lock taken for the look-up is released.
      expect(existsSync(join(spoolDir, 'LOCK'))).toBe(false)
      const lines: string[] = []
      expect(await runDeadLetter(['set-aside'], config, { out: (l) => lines.push(l) })).toBe(1)
      expect(lines).toEqual(["spanlens dead-letter set-aside needs a segment's name; `spanlens dead-letter stuck` shows the failing ones"])
    } finally {
      if (server.exitCode === null) server.kill('SIGKILL')
      dir.cleanup()
    }
  })
})
