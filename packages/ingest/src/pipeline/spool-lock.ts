import { randomUUID } from 'node:crypto'
import { closeSync, fsyncSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { errors } from '../errors.js'
import { ensureWritableDir } from '../writable-dir.js'

/**
 * One server per spool directory. A server replays every segment it finds in
 * its spool at start, so a second one on the same directory would insert the
 * first one's segments (and delete them under it). The chDB data directory has
 * its own lock, but the spool can live elsewhere (SPANLENS_SPOOL_DIR), and with a
 * ClickHouse server (SPANLENS_CLICKHOUSE_URL) nothing else stops two servers
 * started from the same directory.
 *
 * Node has no flock(), so the lock is a file created exclusively, naming its
 * holder. A holder that is gone (its pid no longer runs, runs a process started
 * at another time, or is a zombie) leaves a stale lock, which the next server
 * takes over. A holder on another host cannot be checked and always counts as alive.
 */
const LOCK_FILE = 'LOCK'

interface Holder {
  pid: number
  host: string
  /** The process's start time in clock ticks since boot (Linux), to tell a reused pid apart. */
  startTicks: number | null
  token: string
}

export interface SpoolLock {
  /** Removes the lock file if it is still this holder's. */
  release(): void
}

/**
 * Creates the directory if needed (SPANLENS_DATA_DIR_UNUSABLE if it cannot be written) and locks it.
 * `refused` makes the error thrown when a live process holds it (SPANLENS_SPOOL_LOCKED, a second server's).
 */
export function lockSpoolDir(dir: string, refused: (dir: string, holder: string, lockFile: string) => Error = errors.SPOOL_LOCKED): SpoolLock {
  ensureWritableDir(dir)
  const path = join(dir, LOCK_FILE)
  const me: Holder = { pid: process.pid, host: hostname(), startTicks: readProcStat(process.pid)?.startTicks ?? null, token: randomUUID() }
  // Twice at most: the second attempt follows the removal of a stale lock.
  for (let attempt = 0; attempt < 2; attempt++) {
    let fd: number
    try {
      fd = openSync(path, 'wx')
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
      const holder = readHolder(path)
      if (holder && alive(holder)) throw refused(dir, `process ${holder.pid} on ${holder.host}`, path)
      unlinkSync(path)
      continue
    }
    try {
      writeSync(fd, JSON.stringify(me))
      fsyncSync(fd)
    } finally {
      closeSync(fd)
    }
    return {
      release: () => {
        if (readHolder(path)?.token !== me.token) return
        try {
          unlinkSync(path)
        } catch {
          // Already gone: nothing to release.
        }
      },
    }
  }
  throw refused(dir, 'another server starting at the same moment', path)
}

function readHolder(path: string): Holder | undefined {
  try {
    const h = JSON.parse(readFileSync(path, 'utf8')) as Partial<Holder>
    if (typeof h.pid !== 'number' || typeof h.host !== 'string') return undefined
    return { pid: h.pid, host: h.host, startTicks: typeof h.startTicks === 'number' ? h.startTicks : null, token: String(h.token) }
  } catch {
    // Unreadable or half-written (a crash while locking): nobody holds it.
    return undefined
  }
}

function alive(holder: Holder): boolean {
  if (holder.host !== hostname()) return true
  // This process's own pid: a restart that got the same pid (pid 1 in a container).
  if (holder.pid === process.pid) return false
  try {
    process.kill(holder.pid, 0)
  } catch (err) {
    // EPERM: it runs, as another user.
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false
  }
  // kill(pid, 0) succeeds on a zombie: a server killed with SIGKILL is one until
  // its parent reaps it, and a restart in that time was refused as if it still ran.
  const stat = readProcStat(holder.pid)
  if (stat !== null && GONE_STATES.has(stat.state)) return false
  const ticks = stat?.startTicks ?? null
  return holder.startTicks === null || ticks === null || ticks === holder.startTicks
}

/** proc(5) states of a process that has exited: zombie, dead. */
const GONE_STATES = new Set(['Z', 'X', 'x'])

interface ProcStat {
  /** Field 3: R, S, D, Z, X... */
  state: string
  /** Field 22: the process's start time in clock ticks since boot; null if unreadable. */
  startTicks: number | null
}

/**
 * Fields of a /proc/<pid>/stat line. The command name (field 2) is in parentheses
 * and may itself hold spaces and parentheses, so fields are counted from the last `)`.
 */
export function parseProcStat(line: string): ProcStat | null {
  const close = line.lastIndexOf(')')
  if (close < 0) return null
  const fields = line.slice(close + 2).split(' ')
  const state = fields[0]
  if (state === undefined || state === '') return null
  const ticks = Number(fields[19])
  return { state, startTicks: Number.isFinite(ticks) ? ticks : null }
}

/** Null where there is no /proc, or no such process. */
function readProcStat(pid: number): ProcStat | null {
  try {
    return parseProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8'))
  } catch {
    return null
  }
}
