import { readFileSync } from 'node:fs'

/**
 * The process's limit on open files (RLIMIT_NOFILE), which every socket, spool segment
 * and ClickHouse part file counts against. Node has no call for it; Linux shows it in
 * /proc/self/limits, after Node raised the soft limit to the hard one at start (the
 * limit the server runs under). Undefined elsewhere, or when it says unlimited.
 */
export function openFilesLimit(read: () => string = () => readFileSync('/proc/self/limits', 'utf8')): number | undefined {
  let text: string
  try {
    text = read()
  } catch {
    return undefined
  }
  const soft = /^Max open files\s+(\d+)\s/m.exec(text)?.[1]
  return soft === undefined ? undefined : Number(soft)
}

/**
 * Where the limit cannot be read (macOS, Windows). macOS gives Node 10,240 files
 * (its OPEN_MAX); Windows sockets are handles with no such limit.
 */
const MAX_CONNECTIONS_UNKNOWN_LIMIT = 4096

/**
 * Default of SPANLENS_MAX_CONNECTIONS: the open-file limit less a reserve for the
 * spool and the store, a quarter of the limit and at least 1024. An embedded server
 * measured 83 descriptors idle and 430 under an 8-client ingest load (merges, spool
 * segments, threads' pipes, its log); a remote store needs fewer. Never under half
 * the limit, so a small limit still takes connections.
 */
export function defaultMaxConnections(openFiles: number | undefined): number {
  if (openFiles === undefined) return MAX_CONNECTIONS_UNKNOWN_LIMIT
  const reserve = Math.max(1024, Math.floor(openFiles / 4))
  return Math.max(1, openFiles - reserve, Math.floor(openFiles / 2))
}
