import { existsSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

/** A spool segment whose inserts have failed since its last success (it has none: a success removes it). */
export interface FailingSegment {
  segment: string
  table: string
  rows: number
  /** Epoch ms of its first failed insert, and of its last. */
  firstFailedAt: number
  lastFailedAt: number
  attempts: number
  /** The last failure, as failureText() writes it: ClickHouse's type and the first line of its message. */
  lastError: string
  /** The same as /readyz shows it (publicFailureText: no message that could quote a row). */
  lastErrorShown: string
  /** The last failure's kind (insert-errors.ts). */
  kind: string
  /**
   * The last failure was of a type Spanlens does not know and every one of this many slices
   * failed alike (StoreWideFailure): retried as the store's, and no retry ends it if each slice
   * holds a bad row. `spanlens dead-letter set-aside` is for that case.
   */
  slicesAlike?: number
}

const FILE = 'failing.json'

/**
 * The segments the inserter has failed to insert, kept in `<spool>/failing.json` as well as
 * in memory: `spanlens dead-letter stuck` reads it beside a running server or after one, and
 * a restarted server counts on from it (how long a segment has failed survives the restart).
 * Written at each failure: a segment is retried at most once per backoff wait (10 s at the
 * ceiling) and only the segments tried fail, a few at a time, so this is a small file written a
 * few times a second at most.
 */
export class FailingSegments {
  private readonly entries = new Map<string, FailingSegment>()
  readonly path: string

  constructor(spoolDir: string) {
    this.path = join(spoolDir, FILE)
    for (const e of readFailingSegments(spoolDir)) this.entries.set(e.segment, e)
  }

  /** Notes a failed insert of `segment`; returns its entry. */
  failed(segment: { name: string; table: string; rows: number }, failure: { error: string; shown: string; kind: string; slicesAlike?: number | undefined }, now: number): FailingSegment {
    const before = this.entries.get(segment.name)
    const entry: FailingSegment = {
      segment: segment.name,
      table: segment.table,
      rows: segment.rows,
      firstFailedAt: before?.firstFailedAt ?? now,
      lastFailedAt: now,
      attempts: (before?.attempts ?? 0) + 1,
      lastError: failure.error,
      lastErrorShown: failure.shown,
      kind: failure.kind,
      ...(failure.slicesAlike !== undefined ? { slicesAlike: failure.slicesAlike } : {}),
    }
    this.entries.set(segment.name, entry)
    this.save()
    return entry
  }

  /** The segment is inserted, set aside or gone. */
  cleared(name: string): void {
    if (this.entries.delete(name)) this.save()
  }

  /** Keeps only the entries of these segments (those the spool found at start). */
  retain(names: ReadonlySet<string>): void {
    let changed = false
    for (const name of this.entries.keys()) {
      if (!names.has(name)) changed = this.entries.delete(name) || changed
    }
    if (changed) this.save()
  }

  /** The entry of one segment, if it is failing. */
  get(name: string): FailingSegment | undefined {
    return this.entries.get(name)
  }

  /** How many segments are failing. */
  get size(): number {
    return this.entries.size
  }

  /** Oldest failure first. */
  list(): FailingSegment[] {
    return sortByAge([...this.entries.values()])
  }

  private save(): void {
    try {
      if (this.entries.size === 0) {
        if (existsSync(this.path)) unlinkSync(this.path)
        return
      }
      // Replaced whole (temp file, rename), not synced: written on the event loop at a failed
      // insert, it must not wait for the disk as the spool's acknowledged writes do. Lost or
      // torn by a power cut, it reads as none (readFailingSegments) and the counts start again.
      const tmp = `${this.path}.tmp`
      writeFileSync(tmp, `${JSON.stringify(this.list(), null, 1)}\n`)
      renameSync(tmp, this.path)
    } catch {
      // A note for operators, not data: a spool that cannot take it (a full disk) says so when it
      // refuses requests; the inserter and /readyz go on from memory.
    }
  }
}

/** Seconds a segment has been failing at `now`, from its first failure (epoch ms): /readyz, the admin route and the CLI say it alike. */
export const secondsFailing = (firstFailedAt: number, now: number): number => (now - firstFailedAt) / 1000

/** What `<spool>/failing.json` says, oldest failure first; empty when there is none or it does not parse. */
export function readFailingSegments(spoolDir: string): FailingSegment[] {
  const path = join(spoolDir, FILE)
  if (!existsSync(path)) return []
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as unknown
    return Array.isArray(parsed) ? sortByAge(parsed.filter(isEntry)) : []
  } catch {
    return []
  }
}

function isEntry(e: unknown): e is FailingSegment {
  const o = e as Partial<FailingSegment> | null
  return typeof o?.segment === 'string' && typeof o.attempts === 'number' && typeof o.firstFailedAt === 'number' && typeof o.lastError === 'string' && typeof o.lastErrorShown === 'string'
}

const sortByAge = (list: FailingSegment[]) => list.sort((a, b) => a.firstFailedAt - b.firstFailedAt || a.segment.localeCompare(b.segment))
