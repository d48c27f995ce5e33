import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, unlinkSync } from 'node:fs'
import { join } from 'node:path'
import type { DeadRow } from './isolating-insert.js'
import { LEGACY_SPAN_COLUMNS, type RowFormat } from './row-format.js'
import { damageNotes } from './segment-recovery.js'
import { writeDurably } from './durable-write.js'
import { joinRows, splitLines, type RowTarget } from './segment-rows.js'

/**
 * Rows ClickHouse refused, kept out of the way with its reason so nothing
 * acknowledged disappears silently: `<spool>/dead/<segment>.dead.rows` holds the
 * rows as they were spooled (insertable as they are), `<segment>.dead.json` one
 * entry per row (project, reason). Written whole (temp file, fsync, rename) and
 * named by segment, so isolating the same segment again after a crash rewrites
 * the same letter instead of adding a second one.
 * Whole segments written in a format this version does not know, or whose column
 * line names a column their table lacks, also land in dead/ unread (spool.ts,
 * inserter.ts), as `.seg` files. A segment found damaged at start leaves a
 * copy of its original files, `<segment>.damaged` and `<index>.damaged`, and
 * `<segment>.damaged.json` saying how many acknowledged rows it lost
 * (segment-recovery.ts). `spanlens dead-letter` lists all three kinds.
 */
interface DeadLetterMeta {
  segment: string
  /** The table the rows are for and their columns; letters written before tables had neither (spans, the span columns of that time). */
  table?: string
  columns?: string[]
  format: RowFormat
  createdAt: string
  rows: Array<{ project: string; reason: string }>
  /**
   * A whole segment set aside by an operator (set-aside.ts): the deduplication token its inserts
   * had. Its replay inserts under it, so rows an insert of the segment stored before (a crash
   * between its letter and the segment's removal) are not stored twice. A rewrite drops it.
   */
  token?: string
}

export interface DeadLetter {
  name: string
  meta: DeadLetterMeta
}

export interface DeadLetterStats {
  letters: number
  rows: number
  byProject: Record<string, number>
  /** Whole segments set aside unread: a format unknown to this version, or a column line naming columns their table lacks. */
  unreadableSegments: number
  /** Segments found damaged at start, and the acknowledged rows they lost (their notes). */
  damagedSegments: number
  rowsLost: number
}

const ROWS = '.dead.rows'
const META = '.dead.json'

export class DeadLetters {
  /** Stats as of the directory's mtime: another process (`spanlens dead-letter`) may add or remove letters. */
  private cached: { mtimeMs: number; stats: DeadLetterStats } | undefined

  constructor(readonly dir: string) {}

  write(segment: string, target: RowTarget, dead: readonly DeadRow[], token?: string): void {
    mkdirSync(this.dir, { recursive: true })
    const meta: DeadLetterMeta = {
      segment,
      table: target.table,
      columns: [...target.columns],
      format: target.format,
      createdAt: new Date().toISOString(),
      rows: dead.map((d) => ({ project: d.project, reason: d.reason })),
      ...(token !== undefined ? { token } : {}),
    }
    // Rows first, meta last: a letter counts (list()) once its meta exists.
    writeDurably(join(this.dir, `${segment}${ROWS}`), joinRows(dead.map((d) => d.row)))
    writeDurably(join(this.dir, `${segment}${META}`), Buffer.from(`${JSON.stringify(meta, null, 1)}\n`))
    this.cached = undefined
  }

  list(): DeadLetter[] {
    if (!existsSync(this.dir)) return []
    return readdirSync(this.dir)
      .filter((f) => f.endsWith(META))
      .sort()
      .map((f) => ({ name: f.slice(0, -META.length), meta: JSON.parse(readFileSync(join(this.dir, f), 'utf8')) as DeadLetterMeta }))
  }

  rows(name: string): Buffer[] {
    return splitLines(readFileSync(join(this.dir, `${name}${ROWS}`)))
  }

  remove(name: string): void {
    for (const suffix of [META, ROWS]) {
      const path = join(this.dir, `${name}${suffix}`)
      if (existsSync(path)) unlinkSync(path)
    }
    this.cached = undefined
  }

  /** Replaces a letter's rows with those still refused (after a replay). */
  rewrite(name: string, dead: readonly DeadRow[]): void {
    const letter = this.list().find((l) => l.name === name)
    if (!letter) return
    if (dead.length === 0) this.remove(name)
    else this.write(name, targetOf(letter), dead)
  }

  stats(): DeadLetterStats {
    const mtimeMs = existsSync(this.dir) ? statSync(this.dir).mtimeMs : 0
    const cached = this.cached
    if (cached !== undefined && cached.mtimeMs === mtimeMs) return cached.stats
    const byProject: Record<string, number> = {}
    let rows = 0
    const letters = this.list()
    for (const l of letters) {
      for (const r of l.meta.rows) {
        byProject[r.project] = (byProject[r.project] ?? 0) + 1
        rows++
      }
    }
    const files = existsSync(this.dir) ? readdirSync(this.dir) : []
    const unreadableSegments = files.filter((f) => f.endsWith('.seg')).length
    const damage = damageNotes(this.dir, files)
    const stats = { letters: letters.length, rows, byProject, unreadableSegments, damagedSegments: damage.length, rowsLost: damage.reduce((n, d) => n + d.lostRows, 0) }
    this.cached = { mtimeMs, stats }
    return stats
  }
}

/** Where a letter's rows go and how they read. */
export function targetOf(letter: DeadLetter): RowTarget {
  return { table: letter.meta.table ?? 'spans', columns: letter.meta.columns ?? LEGACY_SPAN_COLUMNS, format: letter.meta.format }
}
