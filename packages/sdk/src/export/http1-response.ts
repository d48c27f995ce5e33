/**
 * An incremental parser for one HTTP/1.1 response to a request that is not
 * HEAD (RFC 9112): the status, the two headers the exporter reads, and the body's
 * framing (Content-Length, chunked, or until the connection closes). A success's
 * body is counted past, never kept (an OTLP reply's is not read); a failure keeps
 * its first MAX_ERROR_BODY bytes, where OTLP servers say why (a google.rpc.Status).
 *
 * Bytes arrive in any split (one at a time included); `push` takes the next
 * ones and says whether the response is complete. Anything malformed is an
 * `Http1ProtocolError`, never a throw of another kind and never unbounded
 * memory: a head is at most MAX_HEAD bytes, a chunk-size or trailer line MAX_LINE.
 */

export const MAX_HEAD = 64 * 1024
const MAX_LINE = 8 * 1024
/** The bytes of a failure's body kept for the reason it gives. */
export const MAX_ERROR_BODY = 1024

export class Http1ProtocolError extends Error {
  override name = 'Http1ProtocolError'
}

export interface Http1Response {
  status: number
  /** The Retry-After header as sent, when there was one. */
  retryAfter: string | undefined
  /** The connection may carry another request (HTTP/1.1 without `Connection: close`, length-framed body, nothing extra after it). */
  reusable: boolean
  /** A status of 300 or more: the body's first MAX_ERROR_BODY bytes (empty when it had none). */
  errorBody?: Buffer
}

const HEAD = 0
const LENGTH = 1
const CHUNK_SIZE = 2
const CHUNK_DATA = 3
const CHUNK_END = 4
const TRAILERS = 5
const UNTIL_CLOSE = 6
const DONE = 7

const CR = 13
const LF = 10
const STATUS_LINE = /^HTTP\/1\.([01]) ([1-9]\d\d)(?: |$)/
const HEX = /^[0-9a-fA-F]{1,15}$/

export class Http1ResponseParser {
  private state = HEAD
  /** Bytes of the head or of the current line, until its end arrives. */
  private pending: Buffer | undefined
  /** Body bytes (LENGTH) or chunk bytes (CHUNK_DATA) still to come. */
  private remaining = 0
  private response: Http1Response | undefined
  private seen = false
  /** A failure's body bytes kept so far, and how many more may be. */
  private kept: Buffer[] = []
  private keep = 0

  get done(): boolean {
    return this.state === DONE
  }

  /** Whether any byte of a response arrived (a reused connection that closes before one never answered). */
  get started(): boolean {
    return this.seen
  }

  /**
   * Takes the next bytes. Returns the response once it is complete; bytes after
   * its end make it not reusable (nothing else was asked for).
   */
  push(bytes: Buffer): Http1Response | undefined {
    if (bytes.length > 0) this.seen = true
    if (this.state === DONE) {
      if (bytes.length > 0 && this.response) this.response.reusable = false
      return undefined
    }
    let at = 0
    while (at < bytes.length && this.state !== DONE) {
      switch (this.state) {
        case HEAD: {
          const end = this.line(bytes, at, MAX_HEAD, true)
          if (end < 0) return undefined
          at = end
          this.head(this.take())
          break
        }
        case LENGTH:
        case UNTIL_CLOSE: {
          const n = this.state === UNTIL_CLOSE ? bytes.length - at : Math.min(this.remaining, bytes.length - at)
          this.keepBody(bytes, at, n)
          at += n
          if (this.state === LENGTH) {
            this.remaining -= n
            if (this.remaining === 0) this.state = DONE
          }
          break
        }
        case CHUNK_SIZE: {
          const end = this.line(bytes, at, MAX_LINE, false)
          if (end < 0) return undefined
          at = end
          // `1a;ext=value`: extensions are allowed and ignored; whitespace before them too.
          const text = this.take().toString('latin1', 0, this.lineLength)
          const size = text.split(';', 1)[0]!.trim()
          if (!HEX.test(size)) throw new Http1ProtocolError(`bad chunk size ${JSON.stringify(text.slice(0, 40))}`)
          this.remaining = parseInt(size, 16)
          this.state = this.remaining === 0 ? TRAILERS : CHUNK_DATA
          break
        }
        case CHUNK_DATA: {
          const n = Math.min(this.remaining, bytes.length - at)
          this.keepBody(bytes, at, n)
          at += n
          this.remaining -= n
          if (this.remaining === 0) this.state = CHUNK_END
          break
        }
        case CHUNK_END: {
          const end = this.line(bytes, at, 2, false)
          if (end < 0) return undefined
          at = end
          if (this.lineLength !== 0) throw new Http1ProtocolError('chunk data longer than its size')
          this.take()
          this.state = CHUNK_SIZE
          break
        }
        case TRAILERS: {
          const end = this.line(bytes, at, MAX_LINE, false)
          if (end < 0) return undefined
          at = end
          // Trailer fields are skipped; the empty line ends the message.
          if (this.lineLength === 0) this.state = DONE
          this.take()
          break
        }
      }
    }
    if (this.state !== DONE) return undefined
    if (at < bytes.length) this.response!.reusable = false
    return this.finished()
  }

  /** Copies what is still to be kept of `n` body bytes at `at` (a failure's body only). */
  private keepBody(bytes: Buffer, at: number, n: number): void {
    if (this.keep === 0 || n === 0) return
    const k = Math.min(this.keep, n)
    this.kept.push(Buffer.from(bytes.subarray(at, at + k)))
    this.keep -= k
  }

  private finished(): Http1Response {
    const r = this.response!
    if (r.status >= 300) r.errorBody = Buffer.concat(this.kept)
    return r
  }

  /** The connection closed: a body framed by the close is complete; anything else was cut short. */
  end(): Http1Response {
    if (this.state === UNTIL_CLOSE) {
      this.state = DONE
      return this.finished()
    }
    if (this.state === DONE) return this.finished()
    throw new Http1ProtocolError(this.started ? 'connection closed in the middle of the response' : 'connection closed before a response')
  }

  // ---- lines and the head

  /** Length of the line taken by the last line() (without its CRLF). */
  private lineLength = 0

  /**
   * Appends bytes up to the end of the current line (or, with `head`, of the
   * head: an empty line) to `pending`; returns the offset after it, or -1 when
   * it has not arrived yet.
   */
  private line(bytes: Buffer, at: number, max: number, head: boolean): number {
    const prior = this.pending
    const start = prior ? prior.length : 0
    let end = -1
    // Search from one byte before the new bytes when the previous ones end a CR (or CRLF, CRLFCR for a head).
    for (let i = at; i < bytes.length; i++) {
      if (bytes[i] !== LF) continue
      const pos = start + (i - at) // index of this LF in the joined bytes
      const byteAt = (k: number) => (k >= start ? bytes[at + (k - start)] : prior![k])
      if (pos < 1 || byteAt(pos - 1) !== CR) throw new Http1ProtocolError('bare LF in a response line')
      if (!head || (pos >= 3 && byteAt(pos - 2) === LF && byteAt(pos - 3) === CR)) {
        end = i + 1
        this.lineLength = pos - (head ? 3 : 1)
        break
      }
    }
    const upTo = end < 0 ? bytes.length : end
    const total = start + (upTo - at)
    if (total > max + (head ? 4 : 2)) throw new Http1ProtocolError(head ? `response head over ${max} bytes` : `response line over ${max} bytes`)
    const piece = bytes.subarray(at, upTo)
    this.pending = prior ? Buffer.concat([prior, piece]) : Buffer.from(piece)
    return end
  }

  private take(): Buffer {
    const b = this.pending!
    this.pending = undefined
    return b
  }

  private head(bytes: Buffer): void {
    const lines = bytes.toString('latin1', 0, this.lineLength).split('\r\n')
    const m = STATUS_LINE.exec(lines[0]!)
    if (!m) throw new Http1ProtocolError(`not an HTTP/1.x status line: ${JSON.stringify(lines[0]!.slice(0, 40))}`)
    const minor = m[1]
    const status = Number(m[2])
    let length: number | undefined
    let chunked = false
    let encoded = false
    let close = minor === '0'
    let retryAfter: string | undefined
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i]!
      const colon = line.indexOf(':')
      if (colon <= 0) throw new Http1ProtocolError(`bad header line ${JSON.stringify(line.slice(0, 40))}`)
      const name = line.slice(0, colon).toLowerCase()
      const value = line.slice(colon + 1).trim()
      if (name === 'content-length') {
        if (!/^\d{1,15}$/.test(value)) throw new Http1ProtocolError(`bad content-length ${JSON.stringify(value.slice(0, 40))}`)
        const n = Number(value)
        if (length !== undefined && length !== n) throw new Http1ProtocolError('conflicting content-length headers')
        length = n
      } else if (name === 'transfer-encoding') {
        encoded = true
        const codings = value.toLowerCase().split(',')
        chunked = codings[codings.length - 1]!.trim() === 'chunked'
      } else if (name === 'connection') {
        const tokens = value.toLowerCase().split(',').map((t) => t.trim())
        if (tokens.includes('close')) close = true
        else if (minor === '0' && tokens.includes('keep-alive')) close = false
      } else if (name === 'retry-after') {
        retryAfter = value
      }
    }
    if (status < 200) {
      // 100 Continue, 103 Early Hints: informational, the real response follows. 101 would switch protocols, never asked for.
      if (status === 101) throw new Http1ProtocolError('unexpected 101 Switching Protocols')
      return
    }
    this.response = { status, retryAfter, reusable: !close }
    this.keep = status >= 300 ? MAX_ERROR_BODY : 0
    if (status === 204 || status === 304) this.state = DONE
    else if (encoded) {
      // Transfer-Encoding wins over Content-Length; a final coding other than chunked is framed by the close.
      if (chunked) this.state = CHUNK_SIZE
      else this.toClose()
    } else if (length !== undefined) {
      this.remaining = length
      this.state = length === 0 ? DONE : LENGTH
    } else this.toClose()
  }

  private toClose(): void {
    this.state = UNTIL_CLOSE
    this.response!.reusable = false
  }
}
