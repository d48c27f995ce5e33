import { brotliCompressSync, constants, gzipSync } from 'node:zlib'

export type Encoding = 'br' | 'gzip'

/** Types worth compressing: text. Images and fonts are compressed already. */
const TEXT = /^(text\/|application\/json|image\/svg\+xml)/
/** Under this, the headers of a compressed reply cost about what it saves. */
const MIN_BYTES = 1024

/**
 * The encoding to answer `accept-encoding` with, or none: brotli when the client
 * takes it (browsers offer it over HTTPS, as behind a TLS proxy), else gzip. A
 * `;q=0` refuses that one.
 */
export function pickEncoding(accept: string | string[] | undefined): Encoding | undefined {
  const header = Array.isArray(accept) ? accept.join(',') : (accept ?? '')
  const taken = new Set<string>()
  for (const part of header.split(',')) {
    const [name = '', ...params] = part.split(';').map((s) => s.trim().toLowerCase())
    const q = params.find((p) => p.startsWith('q='))
    if (q !== undefined && Number(q.slice(2)) === 0) continue
    taken.add(name)
  }
  if (taken.has('br')) return 'br'
  if (taken.has('gzip') || taken.has('*')) return 'gzip'
  return undefined
}

/**
 * The console's files, compressed once per file version. Measured on the built
 * bundle: its files are 165 KB, 65 KB gzipped and 62 KB in brotli; the entry script
 * every page loads 57 KB, 21 KB gzipped. That is what a console opened from another
 * machine waits for; a cached file is answered in well under a millisecond.
 * Keyed by path, size and mtime, so a rebuilt bundle is compressed again;
 * a bounded number of entries, as a server can outlive many rebuilds.
 */
export class CompressedFiles {
  private readonly cache = new Map<string, Buffer>()

  constructor(private readonly maxEntries = 256) {}

  /**
   * The body to send for `file` (at `path`, of `size` bytes, changed at `mtimeMs`) and the
   * encoding it is in (none: as it is). `read` is called only when the cache does not have it.
   */
  encode(file: { path: string; size: number; mtimeMs: number }, type: string, encoding: Encoding | undefined, read: () => Buffer): { body: Buffer; encoding?: Encoding } {
    if (!encoding || file.size < MIN_BYTES || !TEXT.test(type)) return { body: read() }
    const key = `${encoding}\0${file.path}\0${file.size}\0${file.mtimeMs}`
    let out = this.cache.get(key)
    if (!out) {
      const body = read()
      out =
        encoding === 'br'
          ? brotliCompressSync(body, { params: { [constants.BROTLI_PARAM_QUALITY]: 9, [constants.BROTLI_PARAM_SIZE_HINT]: body.length } })
          : gzipSync(body, { level: 9 })
      if (this.cache.size >= this.maxEntries) this.cache.clear()
      this.cache.set(key, out)
    }
    return { body: out, encoding }
  }
}
