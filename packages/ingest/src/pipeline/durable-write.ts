import { closeSync, fsyncSync, openSync, renameSync, writeSync } from 'node:fs'

/** Replaces `path` with `data` whole: a crash leaves the old file or the new one, never part of either. */
export function writeDurably(path: string, data: Buffer): void {
  const tmp = `${path}.tmp`
  const fd = openSync(tmp, 'w')
  try {
    let written = 0
    while (written < data.length) written += writeSync(fd, data, written)
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
  renameSync(tmp, path)
}
