import { mkdirSync, readdirSync, utimesSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { pino, type Logger } from 'pino'
import { describe, expect, it, vi } from 'vitest'
import { loadConfig } from '../src/config/load.js'
import { DeadLetters } from '../src/pipeline/dead-letter.js'
import { SPANS } from '../src/pipeline/tables.js'
import { buildServer } from '../src/server.js'
import { createStore, type Store } from '../src/store/index.js'
import { API_KEYS } from './helpers/server.js'
import { span, writeSegment } from './helpers/spool-segment.js'
import { seedMigratedStore } from './helpers/store-template.js'
import { tempDir } from './helpers/tmp.js'

// A segment ClickHouse refuses is the last line of defence: validation keeps
// such rows out (span-limits.test.ts). These tests put rows in the spool the way
// an earlier version, or a validation gap, would have left them, and start a
// server on it: every good row must arrive exactly once, whichever project it
// belongs to, and every refused row must be kept with ClickHouse's reason.

/** Replaces one TSV field of a row (0-based), as a bug or an older version might have written it. */
/** The row with one column's field replaced, found by the column's name in the insert list. */
function withField(row: string, column: 'start_time' | 'end_time', value: string): string {
  const fields = row.split('\t')
  fields[SPANS.columns.indexOf(column)] = value
  return fields.join('\t')
}

const env = (dir: string, extra: Record<string, string> = {}) =>
  loadConfig({ env: { SPANLENS_DATA_DIR: dir, SPANLENS_API_KEYS: API_KEYS, SPANLENS_LOG_LEVEL: 'silent', ...extra } })

async function names(store: Store, project: string): Promise<Array<{ name: string; n: number }>> {
  const rs = await store.client.query({
    query: 'SELECT name, toUInt32(count()) AS n FROM spans WHERE project_id = {p:String} GROUP BY name ORDER BY name',
    query_params: { p: project },
    format: 'JSONEachRow',
  })
  return rs.json()
}

interface Spooled {
  app: Awaited<ReturnType<typeof buildServer>>
  /** The real store, under whatever `wrap` changed. */
  real: Store
  spoolDir: string
}

/**
 * Writes `requests` as one spool segment, then starts a server on that data
 * directory (which replays it), over the real embedded store with `wrap`'s
 * replacements of its insert calls; everything is closed and removed after `body`.
 */
async function withSpooledServer(
  requests: string[][],
  options: {
    env?: Record<string, string>
    wrap?: (real: Store) => Partial<Pick<Store, 'insertRaw' | 'insertFile'>>
    /** Runs once the segment is written, before the server starts. */
    before?: (spoolDir: string) => void
    logger?: Logger
  },
  body: (ctx: Spooled) => Promise<void>,
): Promise<void> {
  const dir = tempDir()
  seedMigratedStore(dir.path)
  const spoolDir = join(dir.path, 'spool')
  writeSegment(spoolDir, 0, requests)
  options.before?.(spoolDir)
  const config = env(dir.path, options.env)
  const real = await createStore(config.store)
  const store: Store = { ...real, client: real.client, close: async () => undefined, ...options.wrap?.(real) }
  const app = await buildServer(config, { store, ...(options.logger ? { logger: options.logger } : {}) })
  try {
    await body({ app, real, spoolDir })
  } finally {
    await app.close()
    await real.close()
    dir.cleanup()
  }
}

describe('a segment ClickHouse refuses as data costs no good row', () => {
  it('isolates the refused rows into dead letters with the reason and inserts every other row of every project once', async () => {
    const good = (p: string, i: number) => span(p, `good-${p}-${i}`)
    const overflow = withField(span('acme', 'bad-overflow'), 'end_time', '9999999999.999999999')
    const garbage = withField(span('acme', 'bad-garbage'), 'start_time', 'not-a-time')
    // Two requests (two index entries), both projects, bad rows in the middle and at the end.
    const requests = [
      [good('acme', 1), good('other', 1), overflow, good('acme', 2)],
      [good('other', 2), ...Array.from({ length: 40 }, (_, i) => good('acme', 10 + i)), garbage],
    ]
    await withSpooledServer(requests, {}, async ({ app, spoolDir }) => {
      await app.spanlens.flush()
      const acme = await names(app.spanlens.store, 'acme')
      expect(acme.map((r) => r.name)).toEqual(['good-acme-1', 'good-acme-2', ...Array.from({ length: 40 }, (_, i) => `good-acme-${10 + i}`)].sort())
      expect(acme.every((r) => r.n === 1)).toBe(true)
      expect(await names(app.spanlens.store, 'other')).toEqual([
        { name: 'good-other-1', n: 1 },
        { name: 'good-other-2', n: 1 },
      ])
      // The segment is gone; its refused rows are kept, insertable as they are, with ClickHouse's reasons.
      expect(readdirSync(spoolDir).filter((f) => f.endsWith('.seg'))).toEqual([])
      const letters = new DeadLetters(join(spoolDir, 'dead'))
      const [letter] = letters.list()
      expect(letter?.meta.rows.map((r) => r.project)).toEqual(['acme', 'acme'])
      expect(letter?.meta.rows.map((r) => r.reason.split(' ')[0])).toEqual(['DECIMAL_OVERFLOW', 'CANNOT_PARSE_DATETIME'])
      expect(letters.rows(letter?.name as string).map((r) => r.toString())).toEqual([overflow, garbage])

      const metrics = await app.inject({ method: 'GET', url: '/metrics' })
      expect(metrics.body).toMatch(/spanlens_dead_letter_rows_total\{project="acme",reason="DECIMAL_OVERFLOW"\} 1/)
      expect(metrics.body).toMatch(/spanlens_dead_letter_rows 2/)
      expect(app.spanlens.pipeline.health().deadLetters).toMatchObject({ rows: 2, byProject: { acme: 2 } })
      // Dropped by another process (`spanlens dead-letter drop`): the server's counts follow.
      letters.remove(letter?.name as string)
      expect(app.spanlens.pipeline.health().deadLetters).toMatchObject({ rows: 0, letters: 0 })
      expect((await app.inject({ method: 'GET', url: '/metrics' })).body).toMatch(/spanlens_dead_letter_rows 0/)
    })
  })

  it('a crash in the middle of isolating leaves no duplicate: replay redoes the same halves under the same tokens', async () => {
    const rows = Array.from({ length: 64 }, (_, i) => span(i % 2 ? 'acme' : 'other', `replay-${i}`))
    rows[37] = withField(rows[37] as string, 'start_time', 'garbage')
    // The third half-range insert commits, then its reply is lost: the segment is
    // retried from the top (whole, refused; isolated again) after a backoff.
    let calls = 0
    const wrap = (real: Store) => ({
      insertRaw: async (insert: Parameters<Store['insertRaw']>[0]) => {
        await real.insertRaw(insert)
        if (++calls === 3) throw Object.assign(new Error('injected: reply lost after commit'), { code: 'ECONNRESET' })
      },
    })
    await withSpooledServer([rows], { wrap }, async ({ app, real, spoolDir }) => {
      await app.spanlens.flush()
      const stored = [...(await names(real, 'acme')), ...(await names(real, 'other'))]
      expect(stored).toHaveLength(63)
      expect(stored.every((r) => r.n === 1)).toBe(true)
      expect(stored.map((r) => r.name)).not.toContain('replay-37')
      // The injected loss did happen, and the isolation ran again after it.
      expect(calls).toBeGreaterThan(3)
      expect((await app.inject({ method: 'GET', url: '/metrics' })).body).toMatch(/spanlens_insert_failures_total\{kind="transient"\} 1/)
      expect(new DeadLetters(join(spoolDir, 'dead')).stats()).toMatchObject({ rows: 1, letters: 1 })
    })
  })

  it('a segment over more days than one insert may touch is inserted in groups of days, once', async () => {
    // A backfill: 150 spans on 150 different days (ClickHouse allows 100 partitions per insert).
    const start = 1_600_000_000
    const rows = Array.from({ length: 150 }, (_, i) => span(i % 3 ? 'acme' : 'other', `day-${i}`, start + i * 86_400))
    await withSpooledServer([rows.slice(0, 75), rows.slice(75)], { env: { SPANLENS_RETENTION_DAYS: '0' } }, async ({ app, spoolDir }) => {
      await app.spanlens.flush()
      const rs = await app.spanlens.store.client.query({
        query: "SELECT toUInt32(count()) AS n, toUInt32(uniqExact(toDate(start_time))) AS days FROM spans WHERE name LIKE 'day-%'",
        format: 'JSONEachRow',
      })
      expect(await rs.json()).toEqual([{ n: 150, days: 150 }])
      expect((await app.inject({ method: 'GET', url: '/metrics' })).body).toMatch(/spanlens_insert_batches_total\{result="ok"\} 1/)
      expect(new DeadLetters(join(spoolDir, 'dead')).stats().rows).toBe(0)
    })
  })
})

describe('unknown errors are retried a bounded number of times, then the rows are isolated', () => {
  it('a store that refuses every row alike with an error of a type we do not know keeps them in the spool, dead-letters none, and inserts them once it recovers', async () => {
    let fail = true
    let alone = 0
    const refuse = () => {
      throw Object.assign(new Error('Code: 999999. DB::Exception: a limit of a newer server. (SOMETHING_NEW)'), { code: '999999', type: 'SOMETHING_NEW' })
    }
    const wrap = (real: Store) => ({
      insertFile: async (insert: Parameters<Store['insertFile']>[0]) => (fail ? refuse() : real.insertFile(insert)),
      insertRaw: async (insert: Parameters<Store['insertRaw']>[0]) => {
        if (!fail) return real.insertRaw(insert)
        alone++
        return refuse()
      },
    })
    await withSpooledServer([[span('acme', 'held-1'), span('acme', 'held-2'), span('acme', 'held-3')]], { wrap }, async ({ app, real, spoolDir }) => {
      // Isolation ran (the whole three times, then slices and rows alone) and refused every one alike.
      await vi.waitFor(() => expect(alone).toBeGreaterThanOrEqual(4), { timeout: 20_000, interval: 50 })
      expect(app.spanlens.pipeline.health().deadLetters).toMatchObject({ rows: 0, letters: 0 })
      expect(readdirSync(spoolDir).filter((f) => f.endsWith('.seg'))).toHaveLength(1)
      fail = false
      await app.spanlens.flush()
      expect((await names(real, 'acme')).map((r) => r.name)).toEqual(['held-1', 'held-2', 'held-3'])
      expect(app.spanlens.pipeline.health().deadLetters.rows).toBe(0)
    })
  })

  it('a store that refuses every row with an error of a type we do not know never blocks the spool forever', async () => {
    let refused = 0
    const wrap = () => ({
      insertFile: async () => {
        refused++
        throw Object.assign(new Error('Code: 999999. DB::Exception: a new kind of failure. (SOMETHING_NEW)'), { code: '999999', type: 'SOMETHING_NEW' })
      },
    })
    await withSpooledServer([[span('acme', 'unknown-1'), span('acme', 'unknown-2')]], { wrap }, async ({ app, real }) => {
      await app.spanlens.flush()
      // Refused three times whole; then each row alone (both inserted by insertRaw, which works).
      expect(refused).toBe(3)
      expect((await names(real, 'acme')).map((r) => r.name)).toEqual(['unknown-1', 'unknown-2'])
      expect(app.spanlens.pipeline.health().inserter.state).toBe('ok')
    })
  })

  it('/readyz says behind while a store-wide failure holds up data over a minute old, and retrying while the data is fresh', async () => {
    let fail = true
    const wrap = (real: Store) => ({
      insertFile: async (insert: Parameters<Store['insertFile']>[0]) => {
        if (fail) throw Object.assign(new Error('Cannot insert column refusal, because it is MATERIALIZED column. (ILLEGAL_COLUMN)'), { code: '44', type: 'ILLEGAL_COLUMN' })
        return real.insertFile(insert)
      },
    })
    // Left by a run ten minutes ago.
    const tenMinutesAgo = (Date.now() - 600_000) / 1000
    const before = (spoolDir: string) => {
      for (const f of readdirSync(spoolDir)) utimesSync(join(spoolDir, f), tenMinutesAgo, tenMinutesAgo)
    }
    await withSpooledServer([[span('acme', 'old-1')]], { wrap, before }, async ({ app, real }) => {
      await new Promise((r) => setTimeout(r, 500))
      const ready = await app.inject({ method: 'GET', url: '/readyz' })
      expect(ready.statusCode).toBe(200)
      expect(ready.json()).toMatchObject({ checks: { inserter: 'behind' }, inserter: { oldestUnconfirmedSeconds: expect.any(Number) } })
      expect(ready.json().inserter.oldestUnconfirmedSeconds).toBeGreaterThan(590)
      expect(app.spanlens.pipeline.health().inserter.state).toBe('retrying')
      fail = false
      await app.spanlens.flush()
      expect((await names(real, 'acme')).map((r) => r.name)).toEqual(['old-1'])
      expect((await app.inject({ method: 'GET', url: '/readyz' })).json()).toMatchObject({ checks: { inserter: 'ok' } })
    })
  })

  it('a store-wide failure (schema) is retried, never dead-lettered, and /readyz names it', async () => {
    let fail = true
    const wrap = (real: Store) => ({
      insertFile: async (insert: Parameters<Store['insertFile']>[0]) => {
        if (fail) throw Object.assign(new Error('Cannot insert column refusal, because it is MATERIALIZED column. (ILLEGAL_COLUMN)'), { code: '44', type: 'ILLEGAL_COLUMN' })
        return real.insertFile(insert)
      },
    })
    await withSpooledServer([[span('acme', 'schema-1')]], { wrap }, async ({ app, real }) => {
      await new Promise((r) => setTimeout(r, 1500))
      const health = app.spanlens.pipeline.health()
      expect(health.inserter.state).toBe('retrying')
      expect(health.inserter.lastError).toMatch(/^ILLEGAL_COLUMN \(44\)/)
      expect(health.deadLetters.rows).toBe(0)
      // /readyz names the failure; a minute of it without a success is 'stuck': the server still takes
      // data into its spool (200, degraded), and ?strict=1 says it cannot store it (503).
      const ready = await app.inject({ method: 'GET', url: '/readyz' })
      expect(ready.statusCode).toBe(200)
      expect(ready.json()).toMatchObject({ checks: { inserter: 'retrying' }, lastInsertError: expect.stringMatching(/^ILLEGAL_COLUMN/) })
      expect(app.spanlens.pipeline.inserter.health(Date.now() + 61_000).state).toBe('stuck')
      const inserter = app.spanlens.pipeline.inserter
      inserter.failingSince = Date.now() - 61_000
      const stuck = await app.inject({ method: 'GET', url: '/readyz' })
      expect(stuck.statusCode).toBe(200)
      expect(stuck.json()).toMatchObject({ status: 'degraded', checks: { inserter: 'stuck' } })
      const strict = await app.inject({ method: 'GET', url: '/readyz?strict=1' })
      expect({ code: strict.statusCode, status: strict.json().status }).toEqual({ code: 503, status: 'degraded' })
      fail = false
      await app.spanlens.flush()
      expect((await names(real, 'acme')).map((r) => r.name)).toEqual(['schema-1'])
      expect(app.spanlens.pipeline.health().inserter.state).toBe('ok')
    })
  })
})

describe('a segment whose column line names a column its table does not have', () => {
  it('is set aside whole in dead/ at its first failure, logged with its rows, and the segments behind it are inserted', async () => {
    // Four bytes of the column line overwritten (project_id → prozzzz_id), as a damaged disk leaves it.
    const damaged = SPANS.columns.map((c) => (c === 'project_id' ? 'prozzzz_id' : c))
    let badSegment = ''
    const before = (spoolDir: string) => {
      badSegment = writeSegment(spoolDir, 1, [[span('acme', 'damaged-1')], [span('acme', 'damaged-2')]], damaged)
      writeSegment(spoolDir, 2, [[span('acme', 'after-1'), span('acme', 'after-2')]], SPANS.columns)
    }
    const lines: string[] = []
    const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(line) })
    await withSpooledServer([[span('acme', 'before-1')]], { before, logger }, async ({ app, spoolDir }) => {
      await app.spanlens.flush()
      expect((await names(app.spanlens.store, 'acme')).map((r) => r.name)).toEqual(['after-1', 'after-2', 'before-1'])
      expect(readdirSync(spoolDir).filter((f) => f.endsWith('.seg'))).toEqual([])
      expect(readdirSync(join(spoolDir, 'dead')).sort()).toEqual([badSegment.replace(/seg$/, 'idx'), badSegment])
      const health = app.spanlens.pipeline.health()
      expect(health.inserter.state).toBe('ok')
      expect(health.deadLetters).toMatchObject({ unreadableSegments: 1, rows: 0 })
      const ready = await app.inject({ method: 'GET', url: '/readyz' })
      expect(ready.statusCode).toBe(200)
      expect(ready.json()).toMatchObject({ checks: { inserter: 'ok' }, deadLetters: { unreadableSegments: 1 } })
      const logged = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.segment === badSegment)
      // Set aside at its first failure: never retried.
      expect(logged).toEqual([expect.objectContaining({ level: 50, rows: 2, columns: ['prozzzz_id'] })])
    })
  })
})
