import fs, { constants, existsSync, mkdirSync, readdirSync, statSync, unlinkSync, renameSync, writeSync } from 'node:fs'
import { open, unlink, type FileHandle } from 'node:fs/promises'
import { basename, join } from 'node:path'
import { errors } from '../errors.js'
import { isSegmentTag, LEGACY_SPAN_COLUMNS, SPOOL_FORMAT, SEGMENT_FORMATS, segmentLayout, type InsertFormat, type SegmentLayout, type SegmentTag } from './row-format.js'
import { entryRows, INDEX_ENTRY_BYTES, indexEntry, SEAL_ENTRY } from './segment-index.js'
import { recoverFramedSegment, recoverPlainSegment, type SegmentDamage, type TornTail } from './segment-recovery.js'
import { lockSpoolDir, type SpoolLock } from './spool-lock.js'
import { SPANS, spoolTableNamed, type SpoolTable } from './tables.js'

export interface SpoolOptions {
  dir: string
  maxBytes: number
  fsync: 'always' | 'interval' | 'never'
  /** A segment is sealed (and becomes one ClickHouse insert) at this many rows... */
  segmentMaxRows: number
  /** ...or bytes... */
  segmentMaxBytes: number
  /** ...or this long after its first record. */
  segmentMaxAgeMs: number
  onSealed: (segment: SealedSegment) => void
  onError?: (err: Error) => void
  /** Something recovery did that an operator should hear of (rows kept past a lost index tail). */
  onRecoveryNote?: (message: string) => void
  /** A segment found damaged at start: acknowledged rows lost, the rest kept (segment-recovery.ts). */
  onDamage?: (damage: SegmentDamage) => void
  /** The end of a segment being written when the process stopped, cut at start (segment-recovery.ts). */
  onTornTail?: (torn: TornTail) => void
  /**
   * Asked when a segment reaches its age: true keeps it open (up to its row and
   * byte limits) because the inserter is busy and sealing it would not make its
   * rows visible any sooner; call sealIfOverdue() once the inserter frees up.
   */
  holdOnAge?: () => boolean
  /**
   * The directory's lock, when the caller took it first (buildServer does, before
   * it opens the store); otherwise recover() takes it. Released by close().
   */
  lock?: SpoolLock | undefined
}

export interface SealedSegment {
  name: string
  path: string
  bytes: number
  rows: number
  createdAt: number
  /** The table its rows go to, from its name (`spans` before format `t3`). */
  table: string
  /** The columns its rows hold, in order: its first line from format `t3`, the span columns of that time before. */
  columns: readonly string[]
  /** Bytes before the first row (the column line); 0 before `t3`. */
  headerBytes: number
  /** The ClickHouse format of the file, from the tag in its name. */
  format: InsertFormat
  /** `plain`: the file is nothing but rows, and `indexPath` holds the record headers. */
  layout: SegmentLayout
  indexPath: string | undefined
}

interface Pending {
  payload: Buffer
  entry: Buffer
  resolve: () => void
  reject: (err: Error) => void
}

/** One table's rows of one request: what a request appends, for each table it writes. */
export interface SpoolBatch {
  table: SpoolTable
  payload: Buffer
  rows: number
}

export interface AppendOptions {
  /** The table of the rows; `spans` when not given. */
  table?: SpoolTable
  /** Whose rows: counted against `projectMaxBytes` until ClickHouse confirms them. */
  project?: string
  projectMaxBytes?: number
}

const indexPathOf = (segmentPath: string) => segmentPath.replace(/\.seg$/, '.idx')
/** `<time>-<pid>-<seq>.<table>.t3.seg`; earlier formats have no table part (they hold spans). */
const SEGMENT_NAME = /(?:\.([a-z_][a-z0-9_]*))?\.([a-z0-9]+)\.seg$/

const SYNC_INTERVAL_MS = 200

/**
 * Append-only spool. A request is acknowledged only once its record is written
 * (and, with fsync=always, fsynced: concurrent requests share one fsync, the
 * group commit). Each segment holds one table's rows and becomes exactly one
 * insert, whose deduplication token is the segment name, so a replay after a
 * crash cannot duplicate rows. One segment is open per table at a time.
 */
export class Spool {
  private readonly active = new Map<string, ActiveSegment>()
  private seq = 0
  private bytesOnDisk = 0
  private readonly sealedOnDisk = new Map<string, SealedSegment>()
  private syncTimer: NodeJS.Timeout | undefined
  private closed = false
  private lastRefusedAt = 0
  /** Seals still closing their file: flush must wait for these too. */
  private readonly sealing = new Set<Promise<void>>()
  private lock: SpoolLock | undefined
  /** Bytes each project has in segments not yet confirmed, by segment; segments recovered from disk are not attributed. */
  private readonly projectBytesBySegment = new Map<string, Map<string, number>>()
  private readonly projectBytes = new Map<string, number>()

  constructor(private readonly opts: SpoolOptions) {}

  /** Creates the directory and returns the segments left by an earlier run, to replay. */
  recover(): SealedSegment[] {
    // lockSpoolDir creates and checks the directory; a caller that passed its lock did that already.
    this.lock = this.opts.lock ?? lockSpoolDir(this.opts.dir)
    mkdirSync(join(this.opts.dir, 'dead'), { recursive: true })
    const found: SealedSegment[] = []
    for (const name of readdirSync(this.opts.dir).filter((f) => f.endsWith('.seg')).sort()) {
      const path = join(this.opts.dir, name)
      const [, table, tag = ''] = SEGMENT_NAME.exec(name) ?? []
      // Written in a format this version does not know, or for a table it does not
      // write (a newer version's): keep it, never misread it.
      const known = isSegmentTag(tag) && (tag === 't3' ? table !== undefined && spoolTableNamed(table) !== undefined : table === undefined)
      if (!known) {
        this.moveToDead(path, indexPathOf(path))
        continue
      }
      const seg = this.recoverSegment(name, path, tag, table ?? SPANS.name)
      if (!seg) continue
      this.sealedOnDisk.set(name, seg)
      this.bytesOnDisk += seg.bytes
      found.push(seg)
    }
    // An index whose segment is gone: the crash came between creating the two files.
    for (const name of readdirSync(this.opts.dir).filter((f) => f.endsWith('.idx'))) {
      if (!existsSync(join(this.opts.dir, name.replace(/\.idx$/, '.seg')))) unlinkSync(join(this.opts.dir, name))
    }
    // A rewrite of a damaged segment interrupted by a crash: redone above, from the original in dead/.
    for (const name of readdirSync(this.opts.dir).filter((f) => f.endsWith('.tmp'))) unlinkSync(join(this.opts.dir, name))
    if (this.opts.fsync === 'interval') {
      this.syncTimer = setInterval(() => {
        for (const segment of this.active.values()) void segment.sync().catch(() => undefined)
      }, SYNC_INTERVAL_MS)
      this.syncTimer.unref()
    }
    return found
  }

  /**
   * Checks a segment left by an earlier run: cuts off a torn last write, keeps
   * the records around a damaged one (segment-recovery.ts); undefined when no row is left.
   */
  private recoverSegment(name: string, path: string, tag: SegmentTag, table: string): SealedSegment | undefined {
    const format = SEGMENT_FORMATS[tag]
    const layout = segmentLayout(tag)
    let rows: number
    let bytes: number
    let indexPath: string | undefined
    let columns: readonly string[] = LEGACY_SPAN_COLUMNS
    let headerBytes = 0
    if (layout === 'framed') {
      const recovered = recoverFramedSegment({ name, table, path }, join(this.opts.dir, 'dead'))
      if (recovered.damage) this.opts.onDamage?.(recovered.damage)
      if (recovered.torn) this.opts.onTornTail?.(recovered.torn)
      rows = recovered.rows
      bytes = recovered.bytes
    } else {
      indexPath = indexPathOf(path)
      const recovered = recoverPlainSegment({ name, table, path, indexPath, columnLine: tag === 't3' }, join(this.opts.dir, 'dead'))
      if (recovered.unindexedRows > 0) this.opts.onRecoveryNote?.(`${name}: ${recovered.unindexedRows} rows past the end of its index kept`)
      if (recovered.damage) this.opts.onDamage?.(recovered.damage)
      if (recovered.torn) this.opts.onTornTail?.(recovered.torn)
      rows = recovered.rows
      bytes = recovered.bytes
      columns = recovered.columns ?? columns
      headerBytes = recovered.headerBytes
    }
    if (rows === 0) {
      unlinkSync(path)
      if (indexPath && existsSync(indexPath)) unlinkSync(indexPath)
      return undefined
    }
    return { name, path, bytes, rows, createdAt: statSync(path).mtimeMs, table, columns, headerBytes, format, layout, indexPath }
  }

  private moveToDead(path: string, indexPath: string | undefined): void {
    const dead = join(this.opts.dir, 'dead')
    renameSync(path, join(dead, basename(path)))
    if (indexPath && existsSync(indexPath)) renameSync(indexPath, join(dead, basename(indexPath)))
  }

  get bytes(): number {
    return this.bytesOnDisk
  }

  get segments(): number {
    return this.sealedOnDisk.size + this.active.size
  }

  /** Age of the oldest data not yet confirmed by ClickHouse, in ms (0 when empty). */
  oldestAgeMs(now = Date.now()): number {
    let oldest = Number.POSITIVE_INFINITY
    for (const s of this.active.values()) oldest = Math.min(oldest, s.createdAt)
    for (const s of this.sealedOnDisk.values()) oldest = Math.min(oldest, s.createdAt)
    return Number.isFinite(oldest) ? now - oldest : 0
  }

  /** Nearly over quota, or a request was refused for space and nothing was freed since. */
  get full(): boolean {
    return this.bytesOnDisk >= this.opts.maxBytes * 0.95 || Date.now() - this.lastRefusedAt < 5000
  }

  /** Bytes of `project`'s rows written and not yet confirmed by ClickHouse (since this process started). */
  bytesOf(project: string): number {
    return this.projectBytes.get(project) ?? 0
  }

  /**
   * Resolves once the rows are durable per the fsync policy; throws SPOOL_FULL
   * over quota, or over `projectMaxBytes` of the project's own unconfirmed rows.
   */
  append(payload: Buffer, rows: number, options: AppendOptions = {}): Promise<void> {
    return this.appendAll([{ table: options.table ?? SPANS, payload, rows }], options.project, options.projectMaxBytes)
  }

  /**
   * One request's rows for several tables, each to its table's open segment:
   * resolves once all are durable. The quota is checked for all of them at
   * once, so a full spool refuses the request before anything is written. If one
   * write fails the request is refused (its exporter retries) and the rows
   * written for the other tables stay: the tables this serves collapse a
   * re-sent row (ReplacingMergeTree keys), as `spans` collapses a re-sent span.
   */
  async appendAll(batches: readonly SpoolBatch[], project?: string, projectMaxBytes = Number.POSITIVE_INFINITY): Promise<void> {
    if (this.closed) throw errors.SHUTTING_DOWN()
    let size = 0
    for (const b of batches) size += b.payload.length + INDEX_ENTRY_BYTES
    if (this.bytesOnDisk + size > this.opts.maxBytes) {
      this.lastRefusedAt = Date.now()
      throw errors.SPOOL_FULL('server')
    }
    if (project !== undefined && this.bytesOf(project) + size > projectMaxBytes) throw errors.SPOOL_FULL('project')
    if (batches.length === 1) return this.write(batches[0] as SpoolBatch, project)
    const results = await Promise.allSettled(batches.map((b) => this.write(b, project)))
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')
    if (failed) throw failed.reason
  }

  private async write(batch: SpoolBatch, project: string | undefined): Promise<void> {
    const size = batch.payload.length + INDEX_ENTRY_BYTES
    const segment = this.activeSegment(batch.table)
    this.bytesOnDisk += size
    const done = segment.append(batch.payload, indexEntry(batch.payload, batch.rows), size, batch.rows)
    if (segment.rows >= this.opts.segmentMaxRows || segment.bytes >= this.opts.segmentMaxBytes) void this.seal(segment)
    try {
      await done
      if (project !== undefined) this.countProjectBytes(segment.name, project, size)
    } catch (err) {
      this.bytesOnDisk -= size
      // The failed write was cut back, or (if even that failed) the segment is
      // sealed now and its tail checked as after a crash before it is inserted.
      if (segment.broken) void this.seal(segment)
      throw errors.SPOOL_IO((err as Error).message, { cause: err })
    }
  }

  private activeSegment(table: SpoolTable): ActiveSegment {
    const open = this.active.get(table.name)
    if (open) return open
    const name = `${Date.now().toString().padStart(14, '0')}-${process.pid}-${String(this.seq++).padStart(6, '0')}.${table.name}.${SPOOL_FORMAT}.seg`
    const segment = new ActiveSegment(join(this.opts.dir, name), name, table, this.opts.fsync === 'always')
    this.bytesOnDisk += segment.bytes
    segment.timer = setTimeout(() => {
      if (this.opts.holdOnAge?.()) segment.overdue = true
      else void this.seal(segment)
    }, this.opts.segmentMaxAgeMs)
    this.active.set(table.name, segment)
    return segment
  }

  private seal(segment: ActiveSegment): Promise<void> {
    if (segment.handedOver) return segment.handedOver
    segment.sealed = true
    clearTimeout(segment.timer)
    if (this.active.get(segment.table.name) === segment) this.active.delete(segment.table.name)
    segment.handedOver = segment
      .close()
      .then(() => {
        this.bytesOnDisk += segment.sealedBytes
        if (segment.broken) return this.sealBroken(segment)
        const sealed: SealedSegment = {
          name: segment.name,
          path: segment.path,
          bytes: segment.bytes,
          rows: segment.rows,
          createdAt: segment.createdAt,
          table: segment.table.name,
          columns: segment.table.columns,
          headerBytes: segment.table.header.length,
          format: SEGMENT_FORMATS[SPOOL_FORMAT],
          layout: 'plain',
          indexPath: segment.indexPath,
        }
        if (segment.rows === 0) {
          this.bytesOnDisk -= segment.bytes
          return Promise.all([unlink(segment.path).catch(() => undefined), unlink(segment.indexPath).catch(() => undefined)]).then(() => undefined)
        }
        this.sealedOnDisk.set(sealed.name, sealed)
        this.opts.onSealed(sealed)
        return undefined
      }, (err: Error) => {
        this.opts.onError?.(err)
        // Only its close failed (a sync, say): the records its writes returned for were
        // acknowledged, so it is read back as after a crash and handed over now, not at the next start.
        // One that took none (its files never opened, its column line refused) has nothing to read.
        if (segment.rows > 0) this.sealBroken(segment)
      })
      .catch((err: Error) => this.opts.onError?.(err))
    const handedOver = segment.handedOver
    this.sealing.add(handedOver)
    void handedOver.finally(() => this.sealing.delete(handedOver))
    return handedOver
  }

  /** A segment whose failed write could not be cut back: checked like after a crash, then handed over. */
  private sealBroken(segment: ActiveSegment): void {
    this.bytesOnDisk -= segment.bytes
    const sealed = this.recoverSegment(segment.name, segment.path, SPOOL_FORMAT, segment.table.name)
    if (!sealed) return
    this.bytesOnDisk += sealed.bytes
    this.sealedOnDisk.set(sealed.name, sealed)
    this.opts.onSealed(sealed)
  }

  /** Seals each open segment that outlived its age while held open. */
  sealIfOverdue(): void {
    for (const segment of [...this.active.values()]) if (segment.overdue) void this.seal(segment)
  }

  /** Seals the open segments now; resolves once they and every segment being sealed are handed to the inserter. */
  async sealActive(): Promise<void> {
    for (const segment of [...this.active.values()]) void this.seal(segment)
    await Promise.all([...this.sealing])
  }

  private countProjectBytes(segment: string, project: string, bytes: number): void {
    let bySegment = this.projectBytesBySegment.get(segment)
    if (!bySegment) this.projectBytesBySegment.set(segment, (bySegment = new Map()))
    bySegment.set(project, (bySegment.get(project) ?? 0) + bytes)
    this.projectBytes.set(project, (this.projectBytes.get(project) ?? 0) + bytes)
  }

  private uncountProjectBytes(segment: string): void {
    const bySegment = this.projectBytesBySegment.get(segment)
    if (!bySegment) return
    this.projectBytesBySegment.delete(segment)
    for (const [project, bytes] of bySegment) {
      const left = (this.projectBytes.get(project) ?? 0) - bytes
      if (left <= 0) this.projectBytes.delete(project)
      else this.projectBytes.set(project, left)
    }
  }

  /**
   * Moves a sealed segment to dead/ unread, as one in a format this version does
   * not know (counted as an unreadable segment): for a segment no retry can insert.
   */
  setAside(segment: SealedSegment): void {
    if (!this.sealedOnDisk.delete(segment.name)) return
    this.uncountProjectBytes(segment.name)
    this.bytesOnDisk -= segment.bytes
    this.lastRefusedAt = 0
    this.moveToDead(segment.path, segment.indexPath)
  }

  /** Called once ClickHouse confirmed the segment's rows. */
  async remove(segment: SealedSegment): Promise<void> {
    if (!this.sealedOnDisk.delete(segment.name)) return
    this.uncountProjectBytes(segment.name)
    this.bytesOnDisk -= segment.bytes
    this.lastRefusedAt = 0 // space was freed: the next request may fit
    await unlink(segment.path).catch(() => undefined)
    if (segment.indexPath) await unlink(segment.indexPath).catch(() => undefined)
  }

  async close(): Promise<void> {
    this.closed = true
    clearInterval(this.syncTimer)
    await this.sealActive()
    this.lock?.release()
  }
}

class ActiveSegment {
  rows = 0
  /** Bytes of the segment and its index, its column line included. */
  bytes: number
  readonly createdAt = Date.now()
  sealed = false
  /** Past its age but held open while the inserter was busy. */
  overdue = false
  handedOver: Promise<void> | undefined
  timer: NodeJS.Timeout | undefined
  readonly indexPath: string
  private handle: Promise<FileHandle>
  private index: Promise<FileHandle>
  private queue: Pending[] = []
  private writing: Promise<void> | undefined
  private closing: Promise<void> | undefined
  private readonly dsync: boolean
  /** Bytes of rows and of index entries known written: a failed write is cut back to these. */
  private dataBytes = 0
  private indexBytes = 0
  /** A failed write could not be cut back: it takes no more appends (Spool.append seals it). */
  broken = false
  /** Bytes close() added to the index: its seal entry. */
  sealedBytes = 0

  constructor(
    readonly path: string,
    readonly name: string,
    readonly table: SpoolTable,
    private readonly syncEachWrite: boolean,
  ) {
    // fsync=always: an O_DSYNC file makes each group commit's writev durable when it
    // returns, one threadpool round trip instead of writev + fdatasync. Under load the
    // wait is for a pool thread and a core while chDB holds both, not for the disk,
    // so a second trip costs as much as the first (bench/README.md, "the spool's group
    // commit in one system call").
    this.dsync = syncEachWrite && constants.O_DSYNC !== undefined
    // The column line goes first, before any record is queued: every append waits for the handle.
    // It is made durable with the first record (its O_DSYNC write or fsync covers the file).
    const header = table.header
    this.bytes = header.length
    this.handle = open(path, this.dsync ? constants.O_WRONLY | constants.O_CREAT | constants.O_APPEND | constants.O_DSYNC : 'a').then(async (fh) => {
      try {
        await writeAll(fh, [header])
      } catch (err) {
        // A segment whose column line failed takes no records (Spool.write seals it; recovery drops it).
        this.broken = true
        await fh.close().catch(() => undefined)
        throw err
      }
      this.dataBytes = header.length
      return fh
    })
    this.indexPath = indexPathOf(path)
    this.index = open(this.indexPath, 'a')
    // Surface open errors through the first append, not as an unhandled rejection.
    this.handle.catch(() => undefined)
    this.index.catch(() => undefined)
  }

  append(payload: Buffer, entry: Buffer, size: number, rows: number): Promise<void> {
    this.rows += rows
    this.bytes += size
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ payload, entry, resolve, reject })
      this.kick()
    })
  }

  private kick(): void {
    if (this.writing) return
    this.writing = this.drain().finally(() => {
      this.writing = undefined
      if (this.queue.length > 0) this.kick()
    })
  }

  /** One writev (and one fsync) for everything queued since the last cycle: group commit. */
  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue
      this.queue = []
      let fds: [number, number] | undefined
      try {
        const [fh, index] = await Promise.all([this.handle, this.index])
        fds = [fh.fd, index.fd]
        if (this.broken) throw new Error('an earlier write to this segment failed')
        const entries = Buffer.concat(batch.map((p) => p.entry))
        const payloads = batch.map((p) => p.payload)
        // The entries first, so a crash never leaves rows without one (segment-index.ts).
        // A page-cache write of 12 bytes per request: on the loop, no threadpool round trip.
        writeAllSync(index.fd, entries)
        await writeAll(fh, payloads)
        if (this.syncEachWrite && !this.dsync) await fh.datasync()
        this.indexBytes += entries.length
        this.dataBytes += payloads.reduce((n, p) => n + p.length, 0)
        for (const p of batch) p.resolve()
      } catch (err) {
        this.rollBack(fds, batch)
        for (const p of batch) p.reject(err as Error)
      }
    }
  }

  /**
   * Cuts a failed write (ENOSPC, EIO...) back to the last one that succeeded:
   * the rows of refused requests are never inserted, and later appends follow
   * whole records instead of torn bytes that would fail the segment's insert.
   * If the cut fails too, the segment is marked broken (see Spool.append).
   */
  private rollBack(fds: [number, number] | undefined, batch: Pending[]): void {
    for (const p of batch) {
      this.rows -= entryRows(p.entry)
      this.bytes -= p.payload.length + p.entry.length
    }
    if (!fds || this.broken) return
    try {
      // Through the module object, not a named import, so a test can make the cut fail.
      fs.ftruncateSync(fds[1], this.indexBytes)
      fs.ftruncateSync(fds[0], this.dataBytes)
    } catch {
      this.broken = true
    }
  }

  /**
   * After the last write: from here a record missing at start is damage, not a
   * torn write (segment-index.ts). Not for a broken segment, whose tail is checked
   * as after a crash. If it fails (a full disk), the segment is read at start as
   * one that was not sealed.
   */
  private sealEntry(fd: number): void {
    if (this.broken || this.rows === 0) return
    try {
      writeAllSync(fd, SEAL_ENTRY)
      this.bytes += SEAL_ENTRY.length
      this.sealedBytes = SEAL_ENTRY.length
    } catch {
      // Unsealed, or part of an entry, which recovery ignores.
    }
  }

  async sync(): Promise<void> {
    const [fh, index] = await Promise.all([this.handle, this.index])
    await Promise.all([fh.datasync(), index.datasync()])
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      while (this.writing) await this.writing
      const [data, index] = await Promise.allSettled([this.handle, this.index])
      const opened = [data, index].flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []))
      try {
        if (data.status === 'rejected') throw data.reason
        if (index.status === 'rejected') throw index.reason
        this.sealEntry(index.value.fd)
        await Promise.all([data.value.datasync(), index.value.datasync()])
      } catch (err) {
        // Whatever failed (the column line on a full disk, a sync), what did open is closed: one
        // left to the garbage collector stays open until a collection, a descriptor a refusal.
        await Promise.all(opened.map((fh) => fh.close().catch(() => undefined)))
        throw err
      }
      await Promise.all(opened.map((fh) => fh.close()))
    })()
    return this.closing
  }
}

function writeAllSync(fd: number, data: Buffer): void {
  let written = 0
  while (written < data.length) written += writeSync(fd, data, written)
}

async function writeAll(fh: FileHandle, buffers: Buffer[]): Promise<void> {
  // writev may write partially; IOV_MAX also caps buffers per call.
  let pending = buffers
  while (pending.length > 0) {
    const chunk = pending.slice(0, 1024)
    const total = chunk.reduce((n, b) => n + b.length, 0)
    const { bytesWritten } = await fh.writev(chunk)
    if (bytesWritten === total) {
      pending = pending.slice(chunk.length)
      continue
    }
    let skip = bytesWritten
    const rest: Buffer[] = []
    for (const b of pending) {
      if (skip >= b.length) {
        skip -= b.length
        continue
      }
      rest.push(skip > 0 ? b.subarray(skip) : b)
      skip = 0
    }
    pending = rest
  }
}
