import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, truncateSync, writeFileSync } from 'node:fs'
import { open } from 'node:fs/promises'
import { join } from 'node:path'
import { pino } from 'pino'
import { describe, expect, it, vi } from 'vitest'
import { loadConfig } from '../src/config/load.js'
import { createMetrics } from '../src/metrics.js'
import { DeadLetters } from '../src/pipeline/dead-letter.js'
import { IngestPipeline } from '../src/pipeline/ingest.js'
import { frame } from '../src/pipeline/segment-file.js'
import { indexEntry, SEAL_ENTRY } from '../src/pipeline/segment-index.js'
import type { SegmentDamage, TornTail } from '../src/pipeline/segment-recovery.js'
import { Spool, type SealedSegment } from '../src/pipeline/spool.js'
import { SPANS } from '../src/pipeline/tables.js'
import type { Store } from '../src/store/index.js'
import { openFilesUnder, tempDir } from './helpers/tmp.js'

/**
 * A spool segment left by an earlier run is checked before it is replayed: a torn
 * last write (never acknowledged) is cut and reported (onTornTail: a warning and
 * metrics); damage or truncation costs only the rows it hit, is logged (onDamage)
 * and counted (dead/), and the original files are kept in dead/.
 */

/** Five requests of 1..5 rows (15 rows), acknowledged and sealed into one segment, as a server that stopped leaves them. */
async function sealedSegment(dir: string): Promise<{ segment: SealedSegment; records: Buffer[] }> {
  const sealed: SealedSegment[] = []
  const spool = new Spool({ dir, maxBytes: 1 << 20, fsync: 'always', segmentMaxRows: 1000, segmentMaxBytes: 1 << 20, segmentMaxAgeMs: 60_000, onSealed: (s) => sealed.push(s) })
  spool.recover()
  const records = [1, 2, 3, 4, 5].map((n) => Buffer.from(Array.from({ length: n }, (_, i) => `r${n}-${i}\t${'x'.repeat(40)}\n`).join('')))
  for (const [i, r] of records.entries()) await spool.append(r, i + 1)
  await spool.close()
  return { segment: sealed[0] as SealedSegment, records }
}

/** What a restart finds: the segments to replay, and the damage it reported. */
function restart(dir: string): { found: SealedSegment[]; damage: SegmentDamage[]; torn: TornTail[]; spool: Spool } {
  const damage: SegmentDamage[] = []
  const torn: TornTail[] = []
  const spool = new Spool({
    dir,
    maxBytes: 1 << 20,
    fsync: 'always',
    segmentMaxRows: 1000,
    segmentMaxBytes: 1 << 20,
    segmentMaxAgeMs: 60_000,
    onSealed: () => {},
    onDamage: (d) => damage.push(d),
    onTornTail: (t) => torn.push(t),
  })
  return { found: spool.recover(), damage, torn, spool }
}

const rowsOf = (records: Buffer[]) => Buffer.concat([SPANS.header, ...records])
const entriesOf = (records: Buffer[]) => Buffer.concat([...records.map((r) => indexEntry(r, r.toString().split('\n').length - 1)), SEAL_ENTRY])

describe('spool recovery of a damaged or torn segment', () => {
  it('a segment closed normally ends its index with the seal entry and replays whole', async () => {
    const dir = tempDir()
    try {
      const { segment, records } = await sealedSegment(dir.path)
      expect(readFileSync(segment.indexPath as string).equals(entriesOf(records))).toBe(true)
      const { found, damage, torn, spool } = restart(dir.path)
      expect(found.map((s) => s.rows)).toEqual([15])
      expect(damage).toEqual([])
      expect(torn).toEqual([])
      expect(readdirSync(join(dir.path, 'dead'))).toEqual([])
      await spool.close()
    } finally {
      dir.cleanup()
    }
  })

  it('cuts a torn last write, whose requests were never acknowledged, and reports the records and bytes cut', async () => {
    const dir = tempDir()
    try {
      // A segment open at a crash: no seal entry, and the group commit in flight had written
      // the entries of its two requests and part of the first one's rows.
      const records = [Buffer.from('a\t1\n'), Buffer.from('b\t2\nc\t3\n')]
      const inFlight = [Buffer.from('d\t4\n'), Buffer.from('e\t5\n')]
      const seg = join(dir.path, '00001767225600000-1-000000.spans.t3.seg')
      writeFileSync(seg, Buffer.concat([SPANS.header, ...records, inFlight[0]!.subarray(0, 2)]))
      writeFileSync(seg.replace(/seg$/, 'idx'), Buffer.concat([...records, ...inFlight].map((r) => indexEntry(r, 1))))
      const { found, damage, torn, spool } = restart(dir.path)
      expect(found.map((s) => s.rows)).toEqual([2])
      expect(damage).toEqual([])
      expect(torn).toEqual([{ segment: '00001767225600000-1-000000.spans.t3.seg', table: 'spans', records: 2, bytes: 2 }])
      expect(readdirSync(join(dir.path, 'dead'))).toEqual([])
      expect(readFileSync(seg).equals(rowsOf(records))).toBe(true)
      expect(readFileSync(seg.replace(/seg$/, 'idx')).equals(Buffer.concat([...records.map((r) => indexEntry(r, 1)), SEAL_ENTRY]))).toBe(true)
      await spool.close()
    } finally {
      dir.cleanup()
    }
  })

  it('a damaged record in the middle costs only its own rows: the records after it are kept, the loss reported and counted', async () => {
    const dir = tempDir()
    try {
      const { segment, records } = await sealedSegment(dir.path)
      const original = { seg: readFileSync(segment.path), idx: readFileSync(segment.indexPath as string) }
      // 16 bytes flipped inside the third request's rows.
      const damaged = Buffer.from(original.seg)
      const at = SPANS.header.length + records[0]!.length + records[1]!.length + 10
      for (let i = at; i < at + 16; i++) damaged[i] = damaged[i]! ^ 0xff
      writeFileSync(segment.path, damaged)

      const { found, damage, spool } = restart(dir.path)
      expect(found.map((s) => s.rows)).toEqual([12])
      expect(damage).toMatchObject([{ segment: segment.name, table: 'spans', lostRecords: 1, lostRows: 3, keptRows: 12 }])
      const kept = [records[0]!, records[1]!, records[3]!, records[4]!]
      expect(readFileSync(segment.path).equals(rowsOf(kept))).toBe(true)
      expect(readFileSync(segment.indexPath as string).equals(entriesOf(kept))).toBe(true)
      expect(found[0]?.bytes).toBe(rowsOf(kept).length + entriesOf(kept).length)
      // The files as found, for whoever wants to look at them.
      const dead = join(dir.path, 'dead')
      expect(readFileSync(join(dead, `${segment.name}.damaged`)).equals(damaged)).toBe(true)
      expect(readFileSync(join(dead, `${segment.name.replace(/seg$/, 'idx')}.damaged`)).equals(original.idx)).toBe(true)
      expect(new DeadLetters(dead).stats()).toMatchObject({ damagedSegments: 1, rowsLost: 3, unreadableSegments: 0, letters: 0 })
      await spool.close()

      // A second restart (the segment not inserted yet) finds it whole and sealed.
      const again = restart(dir.path)
      expect(again.found.map((s) => s.rows)).toEqual([12])
      expect(new DeadLetters(dead).stats()).toMatchObject({ damagedSegments: 1, rowsLost: 3 })
      await again.spool.close()
    } finally {
      dir.cleanup()
    }
  })

  it('a truncated segment reports the acknowledged rows it lost', async () => {
    const dir = tempDir()
    try {
      const { segment, records } = await sealedSegment(dir.path)
      // Cut inside the fourth request's rows: the fourth and fifth are gone.
      truncateSync(segment.path, SPANS.header.length + records[0]!.length + records[1]!.length + records[2]!.length + 7)
      const { found, damage, spool } = restart(dir.path)
      expect(found.map((s) => s.rows)).toEqual([6])
      expect(damage).toMatchObject([{ lostRecords: 2, lostRows: 9, keptRows: 6 }])
      expect(readFileSync(segment.path).equals(rowsOf(records.slice(0, 3)))).toBe(true)
      expect(new DeadLetters(join(dir.path, 'dead')).stats()).toMatchObject({ damagedSegments: 1, rowsLost: 9 })
      await spool.close()
    } finally {
      dir.cleanup()
    }
  })

  it('a crash while a damaged segment is rewritten is recovered from the original kept in dead/', async () => {
    const dir = tempDir()
    try {
      const { segment, records } = await sealedSegment(dir.path)
      const damaged = Buffer.from(readFileSync(segment.path))
      damaged[SPANS.header.length + records[0]!.length] = 0x21
      writeFileSync(segment.path, damaged)
      const first = restart(dir.path)
      await first.spool.close()
      // The crash came between the two renames: the rewritten rows beside the original index.
      const dead = join(dir.path, 'dead')
      writeFileSync(segment.indexPath as string, readFileSync(join(dead, `${segment.name.replace(/seg$/, 'idx')}.damaged`)))
      appendFileSync(`${segment.path}.tmp`, 'half')

      const { found, damage, spool } = restart(dir.path)
      expect(found.map((s) => s.rows)).toEqual([13])
      expect(damage).toMatchObject([{ lostRecords: 1, lostRows: 2, keptRows: 13 }])
      expect(readFileSync(segment.path).equals(rowsOf([records[0]!, ...records.slice(2)]))).toBe(true)
      expect(readFileSync(join(dead, `${segment.name}.damaged`)).equals(damaged)).toBe(true)
      expect(existsSync(`${segment.path}.tmp`)).toBe(false)
      expect(new DeadLetters(dead).stats()).toMatchObject({ damagedSegments: 1, rowsLost: 2 })
      await spool.close()
    } finally {
      dir.cleanup()
    }
  })
})

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


describe('a spool segment whose close fails', () => {
  it('is read back as after a crash and handed over at once, its acknowledged rows whole, and closes its files', async () => {
    const dir = tempDir()
    const sealed: SealedSegment[] = []
    const failures: Error[] = []
    const spool = new Spool({ dir: dir.path, maxBytes: 1 << 20, fsync: 'always', segmentMaxRows: 1000, segmentMaxBytes: 1 << 20, segmentMaxAgeMs: 60_000, onSealed: (s) => sealed.push(s), onError: (err) => failures.push(err) })
    spool.recover()
    const records = [2, 3].map((n) => Buffer.from(Array.from({ length: n }, (_, i) => `r${n}-${i}\t${'x'.repeat(40)}\n`).join('')))
    for (const [i, r] of records.entries()) await spool.append(r, i + 2)
    // The segment's sync at close fails, as an fdatasync does on an I/O error.
    const probe = await open(join(dir.path, 'probe'), 'w')
    const fileHandle = Object.getPrototypeOf(probe) as { datasync: () => Promise<void> }
    await probe.close()
    const datasync = vi.spyOn(fileHandle, 'datasync').mockRejectedValueOnce(Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' }))
    try {
      await spool.close()
    } finally {
      datasync.mockRestore()
    }
    expect(failures.map((e) => e.message)).toEqual(['EIO: i/o error, fdatasync'])
    expect(sealed.map((s) => s.rows)).toEqual([5])
    expect(readFileSync((sealed[0] as SealedSegment).path, 'utf8')).toContain(Buffer.concat(records).toString())
    expect(openFilesUnder(dir.path)).toEqual([])
    dir.cleanup()
  })
})
