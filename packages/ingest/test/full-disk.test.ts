import { execFileSync } from 'node:child_process'
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import pino from 'pino'
import { describe, expect, it } from 'vitest'
import { loadConfig } from '../src/config/load.js'
import { Spool } from '../src/pipeline/spool.js'
import { buildServer } from '../src/server.js'
import { createStore } from '../src/store/index.js'
import { faultyStore } from './helpers/faulty-store.js'
import { jsonRequest } from './helpers/otlp.js'
import { API_KEYS, bearer, KEYS } from './helpers/server.js'
import { openFilesUnder, tempDir } from './helpers/tmp.js'

// A real full disk, not an injected error: the spool on a 1 MiB tmpfs while
// ClickHouse is down, so the spool's own quota (64 MiB) is never what stops it.
// Needs root for mount(8), as CI and the developers' machines have.

function mountTmpfs(dir: string, size: string): boolean {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

const probe = tempDir()
const canMount = mountTmpfs(probe.path, '64k')
if (canMount) execFileSync('umount', [probe.path])
probe.cleanup()

describe('a spool on a full disk', () => {
  it.skipIf(!canMount)(
    'answers 503 SPANLENS_SPOOL_IO (never 500, never a crash), loses no acknowledged span, and accepts again once ClickHouse drains it',
    async () => {
      const dir = tempDir()
      const spoolDir = join(dir.path, 'spool')
      mkdirSync(spoolDir)
      expect(mountTmpfs(spoolDir, '1m')).toBe(true)
      const config = loadConfig({
        env: {
          SPANLENS_DATA_DIR: dir.path,
          SPANLENS_SPOOL_DIR: spoolDir,
          SPANLENS_SPOOL_MAX_BYTES: String(64 * 1024 * 1024),
          SPANLENS_SPOOL_PROJECT_SHARE: '1',
          SPANLENS_BATCH_MAX_AGE_MS: '50',
          SPANLENS_API_KEYS: API_KEYS,
          SPANLENS_LOG_LEVEL: 'silent',
        },
      })
      const store = faultyStore(await createStore(config.store))
      const app = await buildServer(config, { store })
      const url = await app.listen({ host: '127.0.0.1', port: 0 })
      const send = async (n: number) => {
        const req = jsonRequest(Array.from({ length: n }, () => ({ name: 'full-disk', attributes: [{ key: 'pad', value: { stringValue: 'x'.repeat(500) } }] })))
        const ids = ((req.resourceSpans as Array<{ scopeSpans: Array<{ spans: Array<{ spanId: string }> }> }>)[0]?.scopeSpans[0]?.spans ?? []).map((s) => s.spanId)
        const res = await fetch(`${url}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json', ...bearer(KEYS.acme) }, body: JSON.stringify(req) })
        const body = (await res.json()) as { error?: { code?: string } }
        return { status: res.status, code: body.error?.code, ids }
      }
      try {
        store.fault = 'down'
        const acked: string[] = []
        const refusals: Array<{ status: number; code: string | undefined }> = []
        for (let i = 0; i < 100 && refusals.length < 5; i++) {
          const r = await send(50)
          if (r.status === 200) acked.push(...r.ids)
          else refusals.push({ status: r.status, code: r.code })
        }
        expect(acked.length).toBeGreaterThan(0)
        expect(refusals.length).toBe(5)
        for (const r of refusals) expect(r).toEqual({ status: 503, code: 'SPANLENS_SPOOL_IO' })
        expect((await fetch(`${url}/healthz`)).status).toBe(200)

        store.fault = 'ok'
        await app.spanlens.flush()
        const rs = await store.client.query({ query: "SELECT span_id FROM spans WHERE name = 'full-disk'", format: 'JSONEachRow' })
        const stored = (await rs.json<{ span_id: string }>()).map((r) => r.span_id)
        expect(stored.length).toBe(acked.length)
        expect(new Set(stored)).toEqual(new Set(acked))
        expect((await send(50)).status).toBe(200)
      } finally {
        await app.close()
        await store.close()
        execFileSync('umount', [spoolDir])
        dir.cleanup()
      }
    },
    60_000,
  )
})

describe('a spool segment that cannot start on a full disk', () => {
  it.skipIf(!canMount)('is refused with SPANLENS_SPOOL_IO and leaves none of its files open', async () => {
    const dir = tempDir()
    const spoolDir = join(dir.path, 'spool')
    mkdirSync(spoolDir)
    expect(mountTmpfs(spoolDir, '64k')).toBe(true)
    try {
      const spool = new Spool({ dir: spoolDir, maxBytes: 1 << 20, fsync: 'always', segmentMaxRows: 1000, segmentMaxBytes: 1 << 20, segmentMaxAgeMs: 60_000, onSealed: () => {} })
      spool.recover()
      // Every page of the tmpfs taken: a new segment opens its files, and its column line fails.
      try {
        writeFileSync(join(spoolDir, 'filler'), Buffer.alloc(256 * 1024))
      } catch {
        // ENOSPC once full, as meant
      }
      for (let i = 0; i < 3; i++) await expect(spool.append(Buffer.from('r\tx\n'), 1)).rejects.toMatchObject({ code: 'SPANLENS_SPOOL_IO' })
      await spool.close()
      expect(openFilesUnder(spoolDir)).toEqual([])
    } finally {
      // Lazily: with a file left open a plain umount fails, and its error would hide the test's.
      execFileSync('umount', ['-l', spoolDir])
      dir.cleanup()
    }
  })
})

describe('a spool that cannot be written', () => {
  /** One export to a server whose spool directory was removed under it: the reply, and what the server logged at `level`. */
  async function exportWithoutSpool(level: string) {
    const dir = tempDir()
    const config = loadConfig({ env: { SPANLENS_DATA_DIR: dir.path, SPANLENS_API_KEYS: API_KEYS } })
    const lines: string[] = []
    const logger = pino({ level }, new Writable({ write: (chunk: Buffer, _enc, done) => (lines.push(chunk.toString()), done()) }))
    const app = await buildServer(config, { logger })
    const url = await app.listen({ host: '127.0.0.1', port: 0 })
    try {
      // Its next segment cannot be opened: ENOENT, whose message names the file.
      rmSync(config.ingest.spoolDir, { recursive: true, force: true })
      const res = await fetch(`${url}/v1/traces`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...bearer(KEYS.acme) },
        body: JSON.stringify(jsonRequest([{ name: 'spool-gone' }])),
      })
      return { status: res.status, text: await res.text(), lines, dataDir: dir.path, spoolDir: config.ingest.spoolDir }
    } finally {
      mkdirSync(config.ingest.spoolDir, { recursive: true })
      await app.close()
      dir.cleanup()
    }
  }

  it('answers 503 SPANLENS_SPOOL_IO naming no path of the server, and logs the error with its path', async () => {
    const { status, text, lines, dataDir, spoolDir } = await exportWithoutSpool('info')
    expect(status).toBe(503)
    expect((JSON.parse(text) as { error: { code: string } }).error.code).toBe('SPANLENS_SPOOL_IO')
    expect(text).not.toContain(dataDir)
    expect(lines.filter((l) => l.includes('ingest failed') && l.includes(spoolDir)).length).toBe(1)
  }, 60_000)

  it('logs nothing when the server is configured silent (the OTLP routes quieten the log, never raise it)', async () => {
    const { status, lines } = await exportWithoutSpool('silent')
    expect(status).toBe(503)
    expect(lines).toEqual([])
  }, 60_000)
})
