import { readdirSync } from 'node:fs'
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
import { tempDir } from './helpers/tmp.js'

// The operator's routes on a running server's spool (routes/admin.ts): which segments keep
// failing, and setting aside one that no retry inserts, without stopping the server. The
// server's inserter does it, so no insert of the segment runs while or after its letter is
// written: every acknowledged row is stored once, by the server or by the replay.

const ADMIN_KEY = 'admin-key-0123456789abcdef'
const admin = { authorization: `Bearer ${ADMIN_KEY}` }

const refusal = () => Object.assign(new Error('Code: 999. DB::Exception: a limit of a newer server. (SOMETHING_NEW)'), { code: '999', type: 'SOMETHING_NEW' })

type Mode = 'refuse' | 'ok' | { gate: Promise<'refuse' | 'ok'> }

/** A server with SPANLENS_ADMIN_KEY over the real embedded store, whose inserts do as `mode` says. */
async function withServer(
  body: (ctx: { app: Awaited<ReturnType<typeof buildServer>>; url: string; config: SpanlensConfig; setMode: (m: Mode) => void; attempts: () => number; stop: () => Promise<void> }) => Promise<void>,
) {
  const dir = tempDir()
  const config = loadConfig({ env: { SPANLENS_DATA_DIR: dir.path, SPANLENS_API_KEYS: API_KEYS, SPANLENS_ADMIN_KEY: ADMIN_KEY, SPANLENS_LOG_LEVEL: 'silent', SPANLENS_GRPC_PORT: 'off' } })
  const real = await createStore(config.store)
  let mode: Mode = 'refuse'
  let attempts = 0
  const decide = async (): Promise<'refuse' | 'ok'> => (typeof mode === 'string' ? mode : mode.gate)
  const store: Store = {
    ...real,
    client: real.client,
    close: async () => undefined,
    insertFile: async (insert) => {
      attempts++
      if ((await decide()) === 'refuse') throw refusal()
      return real.insertFile(insert)
    },
    insertRaw: async (insert) => {
      attempts++
      if ((await decide()) === 'refuse') throw refusal()
      return real.insertRaw(insert)
    },
  }
  const app = await buildServer(config, { store, shutdownTimeoutMs: 50 })
  let stopped: Promise<void> | undefined
  // Embedded: the engine is one per process, so a CLI run on the data dir needs it closed first.
  const stop = () => (stopped ??= app.close().then(() => real.close()))
  try {
    const url = await app.listen({ host: '127.0.0.1', port: 0 })
    await body({ app, url, config, setMode: (m) => (mode = m), attempts: () => attempts, stop })
  } finally {
    await stop()
    dir.cleanup()
  }
}

/** Sends spans named `<prefix>1..3` and seals their segment: its insert starts. */
async function send(app: Awaited<ReturnType<typeof buildServer>>, url: string, prefix: string): Promise<void> {
  const spans = [1, 2, 3].map((i) => ({ name: `${prefix}${i}` }))
  const sent = await fetch(`${url}/v1/traces`, { method: 'POST', headers: { ...bearer(KEYS.acme), 'content-type': 'application/json' }, body: JSON.stringify(jsonRequest(spans)) })
  expect(sent.status).toBe(200)
  await app.spanlens.pipeline.spool.sealActive()
}

/** Resolves once the admin route has called the inserter's setAside (which reads what is in flight at once). */
function setAsideCalled(app: Awaited<ReturnType<typeof buildServer>>): Promise<void> {
  const inserter = app.spanlens.pipeline.inserter
  const original = inserter.setAside.bind(inserter)
  return new Promise((called) => {
    const spy = vi.spyOn(inserter, 'setAside').mockImplementation((name) => {
      const outcome = original(name)
      spy.mockRestore()
      called()
      return outcome
    })
  })
}

const segmentsIn = (config: SpanlensConfig) => readdirSync(config.ingest.spoolDir).filter((f) => f.endsWith('.seg'))

describe('the admin routes on a running server', () => {
  it('list the segments that keep failing and set one aside into the dead letters, to be replayed once', async () => {
    await withServer(async ({ app, url, config, setMode }) => {
      await send(app, url, 'admin-')
      await vi.waitFor(() => expect(app.spanlens.pipeline.health().inserter.oldestFailing[0]?.slicesAlike).toBe(3), { timeout: 15_000, interval: 50 })

      // Only the admin key: none is 401, a project's key 403.
      expect((await app.inject({ method: 'GET', url: '/api/v1/admin/spool/failing' })).statusCode).toBe(401)
      const project = await app.inject({ method: 'GET', url: '/api/v1/admin/spool/failing', headers: bearer(KEYS.acme) })
      expect({ status: project.statusCode, code: project.json().error.code }).toEqual({ status: 403, code: 'SPANLENS_FORBIDDEN' })
      expect((await app.inject({ method: 'POST', url: '/api/v1/admin/spool/set-aside', headers: bearer(KEYS.acme), payload: { segment: 'x.seg' } })).statusCode).toBe(403)

      const failing = await app.inject({ method: 'GET', url: '/api/v1/admin/spool/failing', headers: admin })
      expect(failing.statusCode).toBe(200)
      // Neither route reads a query parameter: one given is refused, as on every query route.
      const unread = await app.inject({ method: 'GET', url: '/api/v1/admin/spool/failing?segment=x', headers: admin })
      expect({ status: unread.statusCode, message: unread.json().error.message }).toEqual({ status: 400, message: 'segment: not a parameter of /api/v1/admin/spool/failing, which takes none' })
      const [listed, ...more] = failing.json().segments as Array<{ segment: string; rows: number; attempts: number; slicesAlike: number; lastError: string; failingForSeconds: number }>
      expect(more).toEqual([])
      expect(listed).toMatchObject({ table: 'spans', rows: 3, kind: 'unknown', slicesAlike: 3, lastError: expect.stringMatching(/^SOMETHING_NEW \(999\)/) })
      const segment = listed?.segment as string

      const setAside = (payload: unknown) => app.inject({ method: 'POST', url: '/api/v1/admin/spool/set-aside', headers: admin, payload: payload as Record<string, unknown> })
      // Each names the bad field first, as every body's error does.
      for (const [bad, field] of [[{}, 'segment'], [{ segment: '' }, 'segment'], [{ segment: 7 }, 'segment'], [{ segment: segment, extra: 1 }, 'extra'], [[segment], 'body']] as const) {
        const res = await setAside(bad)
        expect({ status: res.statusCode, code: res.json().error.code }, JSON.stringify(bad)).toEqual({ status: 400, code: 'SPANLENS_BAD_REQUEST' })
        expect(res.json().error.message, JSON.stringify(bad)).toMatch(new RegExp(`^${field}: `))
      }
      for (const unknown of ['nope.seg', '../spool/x.seg']) {
        const res = await setAside({ segment: unknown })
        expect({ status: res.statusCode, code: res.json().error.code }).toEqual({ status: 404, code: 'SPANLENS_SPOOL_SEGMENT_UNKNOWN' })
      }
      const done = await setAside({ segment })
      expect(done.statusCode).toBe(200)
      expect(done.json()).toMatchObject({ segment, rows: 3, deadLetter: segment, reason: expect.stringMatching(/^SOMETHING_NEW \(999\): .*set aside by an operator after \d+ failed inserts/) })
      expect(segmentsIn(config)).toEqual([])
      // Nothing is failing any more: ready at once, not after the next insert.
      expect((await app.inject({ method: 'GET', url: '/readyz' })).json()).toMatchObject({
        status: 'ready',
        checks: { inserter: 'ok' },
        lastInsertError: null,
        inserter: { failingSegments: 0, oldestFailing: [], pendingSegments: 0, failingForSeconds: 0 },
      })
      expect(new DeadLetters(join(config.ingest.spoolDir, 'dead')).list().map((l) => [l.name, l.meta.rows.length, l.meta.token])).toEqual([[segment, 3, `spanlens:${segment}`]])
      // Set aside once: a second request finds nothing.
      expect((await setAside({ segment })).statusCode).toBe(404)
      // The store takes rows again: the server has nothing left of that segment to insert.
      setMode('ok')
      await app.spanlens.flush()
    })
  })

  it('wait for an insert in flight: set the segment aside if it fails, and answer 409 if it was inserted, each row stored once', async () => {
    await withServer(async ({ app, url, config, setMode, attempts, stop }) => {
      // A segment whose insert is running when the request comes, and then fails.
      let release!: (m: 'refuse' | 'ok') => void
      setMode({ gate: new Promise((r) => (release = r)) })
      await send(app, url, 'inflight-')
      await vi.waitFor(() => expect(attempts()).toBe(1), { timeout: 5000, interval: 10 })
      const name = segmentsIn(config)[0] as string
      const asked = setAsideCalled(app)
      const pending = app.inject({ method: 'POST', url: '/api/v1/admin/spool/set-aside', headers: admin, payload: { segment: name } })
      // Only once the route is waiting on the insert does that insert end.
      await asked
      release('refuse')
      const res = await pending
      expect({ status: res.statusCode, rows: res.json().rows }).toEqual({ status: 200, rows: 3 })
      const tried = attempts()
      setMode('ok')
      await app.spanlens.flush()
      // Nothing inserted it after its letter was written.
      expect(attempts()).toBe(tried)
      expect(await spanCountsByName(config, 'inflight-')).toEqual([])

      // A segment whose insert is running when the request comes, and then succeeds.
      let pass!: (m: 'refuse' | 'ok') => void
      setMode({ gate: new Promise((r) => (pass = r)) })
      await send(app, url, 'inserted-')
      const second = segmentsIn(config)[0] as string
      await vi.waitFor(() => expect(attempts()).toBe(tried + 1), { timeout: 5000, interval: 10 })
      const askedAgain = setAsideCalled(app)
      const waiting = app.inject({ method: 'POST', url: '/api/v1/admin/spool/set-aside', headers: admin, payload: { segment: second } })
      await askedAgain
      pass('ok')
      const left = await waiting
      expect({ status: left.statusCode, code: left.json().error.code }).toEqual({ status: 409, code: 'SPANLENS_SPOOL_SEGMENT_LEFT' })
      expect(new DeadLetters(join(config.ingest.spoolDir, 'dead')).list().map((l) => l.name)).toEqual([name])
      setMode('ok')
      await stop()
      // The letter replays its rows once; the inserted segment's rows are there once.
      expect(await runDeadLetter(['replay'], config, { out: () => undefined })).toBe(0)
      expect(await spanCountsByName(config, 'in')).toEqual([
        ...[1, 2, 3].map((i) => ({ name: `inflight-${i}`, n: 1 })),
        ...[1, 2, 3].map((i) => ({ name: `inserted-${i}`, n: 1 })),
      ])
    })
  })

  it('are not there without SPANLENS_ADMIN_KEY, and the key must be long and not a project key', async () => {
    const dir = tempDir()
    try {
      const env = { SPANLENS_DATA_DIR: dir.path, SPANLENS_API_KEYS: API_KEYS, SPANLENS_LOG_LEVEL: 'silent', SPANLENS_GRPC_PORT: 'off' }
      expect(() => loadConfig({ env: { ...env, SPANLENS_ADMIN_KEY: 'short' } })).toThrow(/SPANLENS_ADMIN_KEY/)
      expect(() => loadConfig({ env: { ...env, SPANLENS_ADMIN_KEY: KEYS.acme } })).toThrow(expect.objectContaining({ code: 'SPANLENS_CONFIG_INVALID', message: expect.stringContaining('SPANLENS_ADMIN_KEY') }))
      const app = await buildServer(loadConfig({ env }))
      try {
        expect(app.spanlens.routes.filter((r) => r.url.includes('/admin/'))).toEqual([])
        expect((await app.inject({ method: 'GET', url: '/api/v1/admin/spool/failing', headers: admin })).statusCode).toBe(404)
      } finally {
        await app.close()
      }
    } finally {
      dir.cleanup()
    }
  })
})
