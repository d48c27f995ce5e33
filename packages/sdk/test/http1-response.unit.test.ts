import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { Http1ProtocolError, Http1ResponseParser, MAX_ERROR_BODY, MAX_HEAD, type Http1Response } from '../src/export/http1-response.js'

const bytes = (s: string) => Buffer.from(s, 'latin1')

/** Feeds `text` cut at `cuts` (sorted offsets); returns the response, when and whether it completed. */
function feed(text: string, cuts: number[] = []): { res: Http1Response | undefined; at: number; parser: Http1ResponseParser } {
  const p = new Http1ResponseParser()
  const all = bytes(text)
  const points = [...new Set(cuts.filter((c) => c > 0 && c < all.length))].sort((a, b) => a - b)
  let prev = 0
  for (const point of [...points, all.length]) {
    const res = p.push(all.subarray(prev, point))
    if (res) return { res, at: point, parser: p }
    prev = point
  }
  return { res: undefined, at: all.length, parser: p }
}

const LENGTH_REPLY = 'HTTP/1.1 200 OK\r\nContent-Type: application/x-protobuf\r\nContent-Length: 5\r\n\r\nhello'
const CHUNKED_REPLY =
  'HTTP/1.1 429 Too Many Requests\r\nTransfer-Encoding: chunked\r\nRetry-After: 7\r\n\r\n' +
  '5;name=value\r\nhello\r\n1A\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\nX-Trailer: yes\r\n\r\n'

describe('HTTP/1.1 response parser', () => {
  it('reads a Content-Length reply, and only once its last body byte arrived', () => {
    const { res, at } = feed(LENGTH_REPLY)
    expect(res).toEqual({ status: 200, retryAfter: undefined, reusable: true })
    expect(at).toBe(LENGTH_REPLY.length)
    expect(feed(LENGTH_REPLY.slice(0, -1)).res).toBeUndefined()
  })

  it('reads a chunked reply with extensions and trailers, and keeps Retry-After', () => {
    expect(feed(CHUNKED_REPLY).res).toEqual({ status: 429, retryAfter: '7', reusable: true, errorBody: bytes('helloabcdefghijklmnopqrstuvwxyz') })
    expect(feed(CHUNKED_REPLY.slice(0, -2)).res).toBeUndefined()
  })

  it('gives the same answer however the bytes are split, one at a time included', () => {
    for (const reply of [LENGTH_REPLY, CHUNKED_REPLY, 'HTTP/1.1 100 Continue\r\n\r\n' + LENGTH_REPLY]) {
      const whole = feed(reply).res
      const oneByOne = feed(reply, Array.from({ length: reply.length }, (_, i) => i))
      expect(oneByOne.res).toEqual(whole)
      fc.assert(
        fc.property(fc.array(fc.integer({ min: 1, max: reply.length - 1 }), { maxLength: 12 }), (cuts) => {
          const r = feed(reply, cuts)
          expect(r.res).toEqual(whole)
          expect(r.at).toBe(reply.length)
        }),
        { numRuns: 300 },
      )
    }
  })

  it('skips informational replies (100 Continue, 103 Early Hints) and reads the one that follows', () => {
    const reply = 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n'
    expect(feed(reply).res).toEqual({ status: 204, retryAfter: undefined, reusable: true })
  })

  it('ends 204 and 304 replies at their head, and a Content-Length of 0 too', () => {
    expect(feed('HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n').res?.status).toBe(304)
    expect(feed('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n').res).toEqual({ status: 200, retryAfter: undefined, reusable: true })
  })

  it('reads a reply framed by the close when it has neither length nor chunking, and never reuses its connection', () => {
    const { res, parser } = feed('HTTP/1.1 503 Service Unavailable\r\nRetry-After: Wed, 21 Oct 2015 07:28:00 GMT\r\n\r\nbusy, come back')
    expect(res).toBeUndefined()
    expect(parser.end()).toEqual({ status: 503, retryAfter: 'Wed, 21 Oct 2015 07:28:00 GMT', reusable: false, errorBody: bytes('busy, come back') })
    // A final coding other than chunked is framed by the close as well, Content-Length notwithstanding.
    const gz = feed('HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nContent-Length: 2\r\n\r\nab')
    expect(gz.res).toBeUndefined()
    expect(gz.parser.end().reusable).toBe(false)
  })

  it('does not reuse a connection the server closes: Connection: close, HTTP/1.0 without keep-alive, or bytes nobody asked for', () => {
    expect(feed('HTTP/1.1 200 OK\r\nConnection: Close\r\nContent-Length: 0\r\n\r\n').res?.reusable).toBe(false)
    expect(feed('HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n').res?.reusable).toBe(false)
    expect(feed('HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n').res?.reusable).toBe(true)
    expect(feed('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK').res?.reusable).toBe(false)
    const later = feed('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n')
    later.parser.push(bytes('junk'))
    expect(later.res?.reusable).toBe(false)
  })

  it('says a reply was cut short, and whether any of it arrived', () => {
    const none = new Http1ResponseParser()
    expect(none.started).toBe(false)
    expect(() => none.end()).toThrow(/closed before a response/)
    const half = feed(LENGTH_REPLY.slice(0, 30)).parser
    expect(half.started).toBe(true)
    expect(() => half.end()).toThrow(/in the middle of the response/)
    expect(() => feed(CHUNKED_REPLY.slice(0, 90)).parser.end()).toThrow(Http1ProtocolError)
  })

  it('rejects malformed replies with a protocol error', () => {
    const bad = [
      'SSH-2.0-OpenSSH_9.6\r\n\r\n',
      'HTTP/2 200\r\n\r\n',
      'HTTP/1.1 99 Low\r\n\r\n',
      'HTTP/1.1 101 Switching Protocols\r\n\r\n',
      'HTTP/1.1 200 OK\nContent-Length: 0\n\n',
      'HTTP/1.1 200 OK\r\nno colon here\r\n\r\n',
      'HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n',
      'HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n',
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n',
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n',
    ]
    for (const reply of bad) expect(() => feed(reply), reply).toThrow(Http1ProtocolError)
  })

  it("keeps a failure's body, its first MAX_ERROR_BODY bytes only, and never a success's", () => {
    const long = 'e'.repeat(MAX_ERROR_BODY + 500)
    const cut = feed(`HTTP/1.1 400 Bad Request\r\nContent-Length: ${long.length}\r\n\r\n${long}`, [100, 700, 1200])
    expect(cut.res?.errorBody?.toString('latin1')).toBe(long.slice(0, MAX_ERROR_BODY))
    expect(cut.res?.reusable).toBe(true)
    expect(feed('HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n').res?.errorBody).toEqual(Buffer.alloc(0))
    expect(feed(LENGTH_REPLY).res).not.toHaveProperty('errorBody')
  })

  it('bounds what it holds: a head over 64 KiB or an endless chunk-size line is an error, not memory', () => {
    const p = new Http1ResponseParser()
    p.push(bytes('HTTP/1.1 200 OK\r\n'))
    const filler = bytes(`X-Filler: ${'a'.repeat(1000)}\r\n`)
    expect(() => {
      for (let i = 0; i < MAX_HEAD / filler.length + 2; i++) p.push(filler)
    }).toThrow(/head over/)
    const c = new Http1ResponseParser()
    c.push(bytes('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n'))
    expect(() => {
      for (let i = 0; i < 20; i++) c.push(bytes('1'.repeat(1000)))
    }).toThrow(/line over/)
  })

  it('never throws anything but a protocol error on arbitrary bytes', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.uint8Array({ maxLength: 300 }), fc.string({ maxLength: 200 }).map((s) => bytes(`HTTP/1.1 200 OK\r\n${s}`))),
        fc.array(fc.integer({ min: 1, max: 299 }), { maxLength: 6 }),
        (data, cuts) => {
          const p = new Http1ResponseParser()
          const points = [...new Set(cuts.filter((c) => c < data.length)), data.length].sort((a, b) => a - b)
          let prev = 0
          try {
            for (const point of points) {
              p.push(Buffer.from(data.subarray(prev, point)))
              prev = point
            }
            p.end()
          } catch (err) {
            expect(err).toBeInstanceOf(Http1ProtocolError)
          }
        },
      ),
      { numRuns: 2000 },
    )
  })
})
