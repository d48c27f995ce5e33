import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { runDeadLetter } from '../src/cli/dead-letter.js'
import { loadConfig } from '../src/config/load.js'
import { PriceTable } from '../src/normalize/cost.js'
import { normalizeSpan } from '../src/normalize/normalize.js'
import { DeadLetters } from '../src/pipeline/dead-letter.js'
import { LEGACY_SPAN_COLUMNS } from '../src/pipeline/row-format.js'
import { createStore, type Store } from '../src/store/index.js'
import { encodeLegacyRow } from './helpers/spool-segment.js'
import { storeEnv } from './helpers/store-mode.js'
import { tempDir } from './helpers/tmp.js'

const prices = PriceTable.load(undefined)
const now = Math.floor(Date.now() / 1000) - 30

/** A row of a letter set aside from a segment written before segments named their columns (t2). */
function row(project: string, name: string, i: number): Buffer {
  const ns = `${now}${String(i).padStart(9, '0')}`
  const id = i.toString(16).padStart(8, '0')
  return Buffer.from(
    encodeLegacyRow(
      normalizeSpan(
        { resource: {}, scopeName: '', scopeVersion: '', scopeAttributes: {}, traceId: `${'ef'.repeat(12)}${id}`, spanId: `${'12'.repeat(4)}${id}`, parentSpanId: '', name, kind: 1, startNs: ns, endNs: ns, attributes: {}, events: [], links: [], statusCode: 0, statusMessage: '' },
        project,
        { prices },
      ),
    ),
  )
}

describe('spanlens dead-letter', () => {
  it('lists letters, replays the rows ClickHouse now accepts, keeps the ones it still refuses with the new reason, and drops on request', async () => {
    const dir = tempDir()
    const config = loadConfig({ env: { SPANLENS_DATA_DIR: dir.path, ...storeEnv(dir.path), SPANLENS_LOG_LEVEL: 'silent' } })
    const letters = new DeadLetters(join(config.ingest.spoolDir, 'dead'))
    // As if refused earlier (a schema since fixed, say): two good rows of two projects and one still bad.
    const bad = Buffer.from(row('acme', 'dl-bad', 3).toString().split('\t').map((f, i) => (i === 9 ? 'garbage' : f)).join('\t'))
    letters.write('00000000000001-1-000001.t2.seg', { table: 'spans', columns: LEGACY_SPAN_COLUMNS, format: 'TabSeparated' }, [
      { row: row('acme', 'dl-good', 1), project: 'acme', reason: 'ILLEGAL_COLUMN (44): an old schema' },
      { row: bad, project: 'acme', reason: 'CANNOT_PARSE_DATETIME (41): x' },
      { row: row('other', 'dl-good', 2), project: 'other', reason: 'ILLEGAL_COLUMN (44): an old schema' },
    ])
    const lines: string[] = []
    const io = { out: (l: string) => lines.push(l) }
    try {
      expect(await runDeadLetter(['list'], config, io)).toBe(0)
      expect(lines).toEqual(['00000000000001-1-000001.t2.seg\t3 rows\tacme:2 other:1\tILLEGAL_COLUMN (44): an old schema'])

      lines.length = 0
      expect(await runDeadLetter(['replay'], config, io)).toBe(3)
      expect(lines[0]).toMatch(/^00000000000001-1-000001\.t2\.seg: 2 inserted, 1 refused again \(CANNOT_PARSE_DATETIME/)
      expect(letters.stats()).toMatchObject({ rows: 1, byProject: { acme: 1 } })

      // Only the refused row is left to replay; the inserted ones are not in the letter any more.
      expect(await runDeadLetter(['replay'], config, io)).toBe(3)
      const store = await createStore(config.store)
      try {
        const rs = await store.client.query({ query: "SELECT project_id, name FROM spans WHERE name LIKE 'dl-%' ORDER BY project_id", format: 'JSONEachRow' })
        expect(await rs.json()).toEqual([
          { project_id: 'acme', name: 'dl-good' },
          { project_id: 'other', name: 'dl-good' },
        ])
      } finally {
        await store.close()
      }

      await expect(runDeadLetter(['show', 'nope'], config, io)).rejects.toMatchObject({ code: 'SPANLENS_DEAD_LETTER_UNKNOWN' })
      lines.length = 0
      expect(await runDeadLetter(['drop'], config, io)).toBe(1)
      expect(await runDeadLetter(['show'], config, io)).toBe(1)
      expect(lines).toEqual([
        "spanlens dead-letter drop needs a letter's name; `spanlens dead-letter list` shows them",
        "spanlens dead-letter show needs a letter's name; `spanlens dead-letter list` shows them",
      ])
      expect(await runDeadLetter(['drop', '00000000000001-1-000001.t2.seg'], config, io)).toBe(0)
      expect(letters.list()).toEqual([])
      lines.length = 0
      expect(await runDeadLetter(['list'], config, io)).toBe(0)
      expect(lines).toEqual(['no dead letters'])
    } finally {
      dir.cleanup()
    }
  })

  it('keeps a letter as it was when ClickHouse refuses every row alike with an error it does not name, and exits 4', async () => {
    const dir = tempDir()
    const config = loadConfig({ env: { SPANLENS_DATA_DIR: dir.path, ...storeEnv(dir.path), SPANLENS_LOG_LEVEL: 'silent' } })
    const letters = new DeadLetters(join(config.ingest.spoolDir, 'dead'))
    const name = '00000000000002-1-000001.t2.seg'
    const rows = Array.from({ length: 5 }, (_, i) => ({ row: row('acme', 'dl-held', 10 + i), project: 'acme', reason: 'CANNOT_PARSE_DATETIME (41): x' }))
    letters.write(name, { table: 'spans', columns: LEGACY_SPAN_COLUMNS, format: 'TabSeparated' }, rows)
    // The real store, whose inserts all fail as a server-side limit Spanlens has no name for would fail them.
    const refusing = async (storeConfig: typeof config.store): Promise<Store> => ({
      ...(await createStore(storeConfig)),
      insertRaw: async () => {
        throw Object.assign(new Error('Code: 999. DB::Exception: a limit of a newer server. (SOMETHING_NEW)'), { code: '999', type: 'SOMETHING_NEW' })
      },
    })
    const lines: string[] = []
    try {
      expect(await runDeadLetter(['replay'], config, { out: (l) => lines.push(l) }, refusing)).toBe(4)
      expect(lines).toHaveLength(1)
      expect(lines[0]?.startsWith(`${name}: not replayed: SOMETHING_NEW (999)`)).toBe(true)
      expect(letters.list().map((l) => l.meta.rows.map((r) => r.reason))).toEqual([rows.map((r) => r.reason)])
      expect(letters.rows(name).map(String)).toEqual(rows.map((r) => r.row.toString()))
    } finally {
      dir.cleanup()
    }
  })
})
