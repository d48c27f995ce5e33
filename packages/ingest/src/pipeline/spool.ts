import fs, { constants, existsSync, mkdirSync, readdirSync, readFileSync, statSync, truncateSync, unlinkSync, renameSync, writeSync } from 'node:fs'
import { open, unlink, type FileHandle } from 'node:fs/promises'
import { basename, join } from 'node:path'
import { errors } from '../errors.js'
import { isSegmentTag, SPOOL_FORMAT, SEGMENT_FORMATS, segmentLayout, type InsertFormat, type SegmentLayout, type SegmentTag } from './row-format.js'
import { parseSegment } from './segment-file.js'
import { checkSegment, entryRows, INDEX_ENTRY_BYTES, indexEntry } from './segment-index.js'
import { lockSpoolDir, type SpoolLock } from './spool-lock.js'

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
  /** The ClickHouse format of its rows, from the tag in its name. */
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

const indexPathOf = (segmentPath: string) => segmentPath.replace(/\.seg$/, '.idx')

const SYNC_INTERVAL_MS = 200

/**
 * Append-only spool. A request is acknowledged only once its record is written
 * (and, with fsync=always, fsynced: concurrent requests share one fsync, the
 * group commit). Each segment becomes exactly one insert, whose deduplication
 * token is the segment name, so a replay after a crash cannot duplicate rows.
 */
export class Spool {
  private active: ActiveSegment | undefined
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
      const tag = /\.([a-z0-9]+)\.seg$/.exec(name)?.[1] ?? ''
      if (!isSegmentTag(tag)) {
        // Written in a format this version does not know: keep it, never misread it.
        this.moveToDead(path, indexPathOf(path))
        continue
      }
      const seg = this.recoverSegment(name, path, tag)
      if (!seg) continue
      this.sealedOnDisk.set(name, seg)
      this.bytesOnDisk += seg.bytes
      found.push(seg)
    }
    // An index whose segment is gone: the crash came between creating the two files.
    for (const name of readdirSync(this.opts.dir).filter((f) => f.endsWith('.idx'))) {
      if (!existsSync(join(this.opts.dir, name.replace(/\.idx$/, '.seg')))) unlinkSync(join(this.opts.dir, name))
    }
    if (this.opts.fsync === 'interval') {
      this.syncTimer = setInterval(() => void this.active?.sync().catch(() => undefined), SYNC_INTERVAL_MS)
      this.syncTimer.unref()
    }
    return found
  }

  /** Checks a segment left by an earlier run, cuts off a torn last write; undefined when no row is left. */
  private recoverSegment(name: string, path: string, tag: SegmentTag): SealedSegment | undefined {
    const format = SEGMENT_FORMATS[tag]
    const layout = segmentLayout(tag)
    const data = readFileSync(path)
    let rows: number
    let bytes: number
    let indexPath: string | undefined
    if (layout === 'framed') {
      const parsed = parseSegment(data)
      if (parsed.torn) truncateSync(path, parsed.validBytes)
      rows = parsed.rows
      bytes = parsed.validBytes
    } else {
      indexPath = indexPathOf(path)
      const index = existsSync(indexPath) ? readFileSync(indexPath) : Buffer.alloc(0)
      const checked = checkSegment(data, index)
      if (checked.validBytes !== data.length) truncateSync(path, checked.validBytes)
      if (checked.validIndexBytes !== index.length) truncateSync(indexPath, checked.validIndexBytes)
      if (checked.unindexedRows > 0) this.opts.onRecoveryNote?.(`${name}: ${checked.unindexedRows} rows past the end of its index kept`)
      rows = checked.rows
      bytes = checked.validBytes + checked.validIndexBytes
    }
    if (rows === 0) {
      unlinkSync(path)
      if (indexPath && existsSync(indexPath)) unlinkSync(indexPath)
      return undefined
    }
    return { name, path, bytes, rows, createdAt: statSync(path).mtimeMs, format, layout, indexPath }
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
    return this.sealedOnDisk.size + (this.active ? 1 : 0)
  }

  /** Age of the oldest data not yet confirmed by ClickHouse, in ms (0 when empty). */
  oldestAgeMs(now = Date.now()): number {
    let oldest = this.active?.createdAt ?? Number.POSITIVE_INFINITY
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
  async append(payload: Buffer, rows: number, project?: string, projectMaxBytes = Number.POSITIVE_INFINITY): Promise<void> {
    if (this.closed) throw errors.SHUTTING_DOWN()
    const size = payload.length + INDEX_ENTRY_BYTES
    if (this.bytesOnDisk + size > this.opts.maxBytes) {
      this.lastRefusedAt = Date.now()
      throw errors.SPOOL_FULL('server')
    }
    if (project !== undefined && this.bytesOf(project) + size > projectMaxBytes) throw errors.SPOOL_FULL('project')
    const segment = this.activeSegment()
    this.bytesOnDisk += size
    const done = segment.append(payload, indexEntry(payload, rows), size, rows)
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

  private activeSegment(): ActiveSegment {
    if (this.active) return this.active
    const name = `${Date.now().toString().padStart(14, '0')}-${process.pid}-${String(this.seq++).padStart(6, '0')}.${SPOOL_FORMAT}.seg`
    const segment = new ActiveSegment(join(this.opts.dir, name), name, this.opts.fsync === 'always')
    segment.timer = setTimeout(() => {
      if (this.opts.holdOnAge?.()) segment.overdue = true
      else void this.seal(segment)
    }, this.opts.segmentMaxAgeMs)
    this.active = segment
    return segment
  }

  private seal(segment: ActiveSegment): Promise<void> {
    if (segment.handedOver) return segment.handedOver
    segment.sealed = true
    clearTimeout(segment.timer)
    if (this.active === segment) this.active = undefined
    segment.handedOver = segment
      .close()
      .then(() => {
        if (segment.broken) return this.sealBroken(segment)
        const sealed: SealedSegment = {
          name: segment.name,
          path: segment.path,
          bytes: segment.bytes,
          rows: segment.rows,
          createdAt: segment.createdAt,
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
    const sealed = this.recoverSegment(segment.name, segment.path, SPOOL_FORMAT)
    if (!sealed) return
    this.bytesOnDisk += sealed.bytes
    this.sealedOnDisk.set(sealed.name, sealed)
    this.opts.onSealed(sealed)
  }

  /** Seals the active segment if it outlived its age while held open. */
  sealIfOverdue(): void {
    if (this.active?.overdue) void this.seal(this.active)
  }

  /** Seals the active segment now; resolves once it and every segment being sealed are handed to the inserter. */
  async sealActive(): Promise<void> {
    if (this.active) void this.seal(this.active)
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
  bytes = 0
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

  constructor(
    readonly path: string,
    readonly name: string,
    private readonly syncEachWrite: boolean,
  ) {
    // fsync=always: an O_DSYNC file makes each group commit's writev durable when it
    // returns, one threadpool round trip instead of writev + fdatasync. Under load the
    // wait is for a pool thread and a core while chDB holds both, not for the disk,
    // so a second trip costs as much as the first (bench/README.md, "the spool's group
    // commit in one system call").
    this.dsync = syncEachWrite && constants.O_DSYNC !== undefined
    this.handle = open(path, this.dsync ? constants.O_WRONLY | constants.O_CREAT | constants.O_APPEND | constants.O_DSYNC : 'a')
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

  async sync(): Promise<void> {
    const [fh, index] = await Promise.all([this.handle, this.index])
    await Promise.all([fh.datasync(), index.datasync()])
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      while (this.writing) await this.writing
      const [fh, index] = await Promise.all([this.handle, this.index])
      await Promise.all([fh.datasync(), index.datasync()])
      await Promise.all([fh.close(), index.close()])
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
