import { join } from 'node:path'
import type { IngestConfig } from '../config/load.js'
import { errors } from '../errors.js'
import { DeadLetters } from './dead-letter.js'
import { FailingSegments, type FailingSegment } from './failing-segments.js'
import { segmentToken } from './segment-insert.js'
import { readSegmentRows, rowProject } from './segment-rows.js'
import { type SealedSegment, Spool } from './spool.js'
import { spoolLayout } from './spool-layout.js'
import { lockSpoolDir } from './spool-lock.js'

export interface SetAside {
  segment: string
  rows: number
  /** The reason each row's entry in the letter gives. */
  reason: string
}

/**
 * Moves one spool segment that no retry inserts into the dead letters, as rows a replay
 * (`spanlens dead-letter replay`) inserts later: a segment of a type of failure Spanlens does
 * not know whose every slice fails alike is otherwise retried for ever (inserter.ts).
 *
 * Only with no server on the spool: a running server's inserter holds its segments (in an
 * insert, or waiting out a backoff), and one moved under it could be inserted by it and kept
 * in a letter too, which a replay would insert again. A running server does it itself, on its
 * admin route (Inserter.setAside). So this takes the spool's lock as a
 * server does, and a live holder is SPANLENS_SPOOL_IN_USE; while it holds the lock no server
 * starts on the spool. The spool is checked as a server start checks it (a torn end cut,
 * damage kept aside), so the letter holds exactly the rows a server would have inserted.
 *
 * Written letter first (durably), segment removed after: a crash in between leaves both, and
 * the letter carries the segment's deduplication token, under which its replay inserts nothing
 * a later insert of the segment stored.
 */
export async function setAsideSegment(config: IngestConfig, name: string, note: (line: string) => void, now = Date.now()): Promise<SetAside> {
  // A name, not a path: nothing outside the spool directory is read or moved.
  if (!name.endsWith('.seg') || name.includes('/') || name.includes('\\') || name.startsWith('.')) throw errors.SPOOL_SEGMENT_UNKNOWN(name)
  const lock = lockSpoolDir(config.spoolDir, (dir, holder) => errors.SPOOL_IN_USE(dir, holder))
  const spool = new Spool({
    ...spoolLayout(config),
    onSealed: () => undefined,
    // What a server start would log of the spool it checks, said here instead.
    onRecoveryNote: note,
    onDamage: (d) => note(`${d.segment}: found damaged, ${d.lostRows} acknowledged rows lost, ${d.keptRows} kept; the original files are in spool/dead`),
    onTornTail: (t) => note(`${t.segment}: an unfinished write at its end (a crash mid-write) cut, ${t.bytes} bytes`),
    lock,
  })
  try {
    const segment = spool.recover().find((s) => s.name === name)
    if (segment === undefined) throw errors.SPOOL_SEGMENT_UNKNOWN(name)
    const failing = new FailingSegments(config.spoolDir)
    const letter = await writeSegmentLetter(
      segment,
      new DeadLetters(join(config.spoolDir, 'dead')),
      failing.get(name),
      now,
    )
    await spool.remove(segment)
    failing.cleared(name)
    return { segment: name, ...letter }
  } finally {
    await spool.close()
  }
}

/**
 * Writes a sealed segment's rows as a dead letter named after it, each with the reason, under
 * the segment's deduplication token; the caller removes the segment once this returned.
 */
export async function writeSegmentLetter(segment: SealedSegment, letters: DeadLetters, failing: FailingSegment | undefined, now: number): Promise<{ rows: number; reason: string }> {
  const reason = reasonOf(failing, now)
  const { rows, ...target } = await readSegmentRows(segment)
  letters.write(
    segment.name,
    target,
    rows.map((row) => ({ row, project: rowProject(row, target), reason })),
    segmentToken(segment.name),
  )
  return { rows: rows.length, reason }
}

/** ClickHouse's last word on the segment first (its type is what the dead-letter metric counts by), then the operator's act. */
function reasonOf(entry: FailingSegment | undefined, now: number): string {
  if (entry === undefined) return 'SET_ASIDE: set aside by an operator; no failed insert of it was recorded'
  const hours = (now - entry.firstFailedAt) / 3_600_000
  const over = hours >= 1 ? `${hours.toFixed(1)} h` : `${Math.round((now - entry.firstFailedAt) / 60_000)} min`
  return `${entry.lastError} (set aside by an operator after ${entry.attempts} failed inserts over ${over})`
}
