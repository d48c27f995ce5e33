import { appendFileSync, existsSync, readdirSync, readFileSync, truncateSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { DeadLetters } from '../src/pipeline/dead-letter.js'
import { indexEntry, SEAL_ENTRY } from '../src/pipeline/segment-index.js'
import type { SegmentDamage } from '../src/pipeline/segment-recovery.js'
import { Spool, type SealedSegment } from '../src/pipeline/spool.js'
import { SPANS } from '../src/pipeline/tables.js'
import { tempDir } from './helpers/tmp.js'

/**
 * A spool segment left by an earlier run is checked before it is replayed: a torn
 * last write (never acknowledged) is cut silently; damage or truncation costs only
 * the rows it hit, is logged (onDamage) and counted (dead/), and the original
 * files are kept in dead/.
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
function restart(dir: string): { found: SealedSegment[]; damage: SegmentDamage[]; spool: Spool } {
  const damage: SegmentDamage[] = []
  const spool = new Spool({
    dir,
    maxBytes: 1 << 20,
    fsync: 'always',
    segmentMaxRows: 1000,
    segmentMaxBytes: 1 << 20,
    segmentMaxAgeMs: 60_000,
    onSealed: () => {},
    onDamage: (d) => damage.push(d),
  })
  return { found: spool.recover(), damage, spool }
}

const rowsOf = (records: Buffer[]) => Buffer.concat([SPANS.header, ...records])
const entriesOf = (records: Buffer[]) => Buffer.concat([...records.map((r) => indexEntry(r, r.toString().split('\n').length - 1)), SEAL_ENTRY])

describe('spool recovery of a damaged or torn segment', () => {
  it('a segment closed normally ends its index with the seal entry and replays whole', async () => {
    const dir = tempDir()
    try {
      const { segment, records } = await sealedSegment(dir.path)
      expect(readFileSync(segment.indexPath as string).equals(entriesOf(records))).toBe(true)
      const { found, damage, spool } = restart(dir.path)
      expect(found.map((s) => s.rows)).toEqual([15])
      expect(damage).toEqual([])
      expect(readdirSync(join(dir.path, 'dead'))).toEqual([])
      await spool.close()
    } finally {
      dir.cleanup()
    }
  })

  it('drops a torn last write silently: its requests were never acknowledged', async () => {
    const dir = tempDir()
    try {
      // A segment open at a crash: no seal entry, and the group commit in flight had written
      // the entries of its two requests and part of the first one's rows.
      const records = [Buffer.from('a\t1\n'), Buffer.from('b\t2\nc\t3\n')]
      const inFlight = [Buffer.from('d\t4\n'), Buffer.from('e\t5\n')]
      const seg = join(dir.path, '00001767225600000-1-000000.spans.t3.seg')
      writeFileSync(seg, Buffer.concat([SPANS.header, ...records, inFlight[0]!.subarray(0, 2)]))
      writeFileSync(seg.replace(/seg$/, 'idx'), Buffer.concat([...records, ...inFlight].map((r) => indexEntry(r, 1))))
      const { found, damage, spool } = restart(dir.path)
      expect(found.map((s) => s.rows)).toEqual([2])
      expect(damage).toEqual([])
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
