import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { pino } from 'pino'
import { describe, expect, it } from 'vitest'
import { loadConfig } from '../src/config/load.js'
import { createMetrics } from '../src/metrics.js'
import { IngestPipeline } from '../src/pipeline/ingest.js'
import { frame } from '../src/pipeline/segment-file.js'
import { indexEntry, SEAL_ENTRY } from '../src/pipeline/segment-index.js'
import { SPANS } from '../src/pipeline/tables.js'
import type { Store } from '../src/store/index.js'
import { tempDir } from './helpers/tmp.js'

// The spool as a crash leaves it, checked at start: real files, a store that takes
// every insert (what it receives is the point; ClickHouse's side is in spool-recovery.test.ts).

describe('a spool segment being written when the process stopped', () => {
  it('cuts only the unfinished write at its end, keeps every whole record, and says so in a warning and the metrics', async () => {
    const dir = tempDir()
    const spoolDir = join(dir.path, 'spool')
    mkdirSync(spoolDir, { recursive: true })
    // Two answered requests of 2 and 3 rows, then a third whose index entry was written and its rows only in part.
    const records = [Buffer.from('a1\na2\n'), Buffer.from('b1\nb2\nb3\n'), Buffer.from('c1\nc2\nc3\nc4\n')]
    const torn = records[2]!.subarray(0, 7)
    const name = `${String(Date.now()).padStart(14, '0')}-1-000000.spans.t3.seg`
    writeFileSync(join(spoolDir, name), Buffer.concat([SPANS.header, records[0]!, records[1]!, torn]))
    writeFileSync(join(spoolDir, name.replace(/seg$/, 'idx')), Buffer.concat(records.map((r, i) => indexEntry(r, [2, 3, 4][i]!))))

    const inserted: Buffer[] = []
    const store = { cluster: undefined, insertFile: async (insert: { path: string }) => void inserted.push(readFileSync(insert.path)) } as unknown as Store
    const lines: string[] = []
    const metrics = createMetrics()
    const config = loadConfig({ env: { SPANLENS_DATA_DIR: dir.path, SPANLENS_LOG_LEVEL: 'silent' } })
    const pipeline = new IngestPipeline(config.ingest, store, metrics, pino({ level: 'warn' }, { write: (l: string) => lines.push(l) }))
    try {
      expect(pipeline.start()).toBe(1)
      await pipeline.flush()
      expect(inserted).toEqual([Buffer.concat([SPANS.header, records[0]!, records[1]!])])
      const warned = lines.map((l) => JSON.parse(l) as Record<string, unknown>)
      expect(warned).toEqual([expect.objectContaining({ level: 40, segment: name, table: 'spans', recordsCut: 1, bytesCut: 7 })])
      const text = await metrics.registry.metrics()
      expect(text).toMatch(/^spanlens_spool_torn_records_total 1$/m)
      expect(text).toMatch(/^spanlens_spool_torn_bytes_total 7$/m)
    } finally {
      await pipeline.stop(0)
      dir.cleanup()
    }
  })

  it('cuts nothing and says nothing of a sealed segment', async () => {
    const dir = tempDir()
    const spoolDir = join(dir.path, 'spool')
    mkdirSync(spoolDir, { recursive: true })
    const record = Buffer.from('a1\na2\n')
    const name = `${String(Date.now()).padStart(14, '0')}-1-000000.spans.t3.seg`
    writeFileSync(join(spoolDir, name), Buffer.concat([SPANS.header, record]))
    writeFileSync(join(spoolDir, name.replace(/seg$/, 'idx')), Buffer.concat([indexEntry(record, 2), SEAL_ENTRY]))
    const store = { cluster: undefined, insertFile: async () => undefined } as unknown as Store
    const lines: string[] = []
    const metrics = createMetrics()
    const pipeline = new IngestPipeline(loadConfig({ env: { SPANLENS_DATA_DIR: dir.path } }).ingest, store, metrics, pino({ level: 'warn' }, { write: (l: string) => lines.push(l) }))
    try {
      pipeline.start()
      await pipeline.flush()
      expect(lines).toEqual([])
      expect(await metrics.registry.metrics()).toMatch(/^spanlens_spool_torn_bytes_total 0$/m)
    } finally {
      await pipeline.stop(0)
      dir.cleanup()
    }
  })
})

describe('a framed segment left by an older version (.t1), damaged in the middle', () => {
  it('keeps the acknowledged records after the damaged one, reports the rows lost, and cuts only the unfinished write', async () => {
    const dir = tempDir()
    const spoolDir = join(dir.path, 'spool')
    mkdirSync(spoolDir, { recursive: true })
    const payloads = [Buffer.from('a1\na2\n'), Buffer.from('b1\nb2\nb3\n'), Buffer.from('c1\n')]
    const records = payloads.map((p, i) => Buffer.concat([frame(p, [2, 3, 1][i]!), p]))
    // One byte of the second record's rows flipped (a bad sector), and a write cut short after the third.
    records[1]![14] = records[1]![14]! ^ 0xff
    const cutShort = Buffer.concat([frame(Buffer.from('d1\nd2\n'), 2), Buffer.from('d1')])
    const name = `${String(Date.now()).padStart(14, '0')}-1-000000.t1.seg`
    writeFileSync(join(spoolDir, name), Buffer.concat([...records, cutShort]))

    const inserted: string[] = []
    const store = { cluster: undefined, insertRaw: async (insert: { body: Buffer[] }) => void inserted.push(Buffer.concat(insert.body).toString()) } as unknown as Store
    const lines: string[] = []
    const pipeline = new IngestPipeline(loadConfig({ env: { SPANLENS_DATA_DIR: dir.path } }).ingest, store, createMetrics(), pino({ level: 'warn' }, { write: (l: string) => lines.push(l) }))
    try {
      pipeline.start()
      await pipeline.flush()
      expect(inserted).toEqual(['a1\na2\nc1\n'])
      const logged = lines.map((l) => JSON.parse(l) as Record<string, unknown>)
      expect(logged).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ level: 50, segment: name, rowsLost: 3, recordsLost: 1, rowsKept: 3 }),
          expect.objectContaining({ level: 40, segment: name, bytesCut: cutShort.length }),
        ]),
      )
      expect(logged).toHaveLength(2)
      expect(pipeline.health().deadLetters).toMatchObject({ damagedSegments: 1, rowsLost: 3 })
    } finally {
      await pipeline.stop(0)
      dir.cleanup()
    }
  })
})

