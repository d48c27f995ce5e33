import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { failureReason } from '../src/export/failure-reason.js'

/** A google.rpc.Status as an OTLP server writes it: code = 1, message = 2, details = 3. */
function status(code: number, message: string, details: Buffer[] = []): Buffer {
  const m = Buffer.from(message, 'utf8')
  const len = (n: number) => (n < 128 ? Buffer.from([n]) : Buffer.from([(n & 0x7f) | 0x80, n >> 7]))
  return Buffer.concat([Buffer.from([0x08, code]), Buffer.from([0x12]), len(m.length), m, ...details.flatMap((d) => [Buffer.from([0x1a]), len(d.length), d])])
}

describe("the reason an OTLP server gives for a refused export", () => {
  it('is the message of a google.rpc.Status, as the Spanlens server and the OpenTelemetry Collector send it', () => {
    expect(failureReason(status(16, 'SPANLENS_UNAUTHORIZED: invalid API key'))).toBe('SPANLENS_UNAUTHORIZED: invalid API key')
    expect(failureReason(status(3, 'line one\n  line two'))).toBe('line one line two')
    expect(failureReason(status(3, 'é — ✓'))).toBe('é — ✓')
    // Cut inside the details that follow (a body kept to its first 1 KiB): the message before them was whole.
    const withDetails = status(3, 'bad span', [Buffer.alloc(2000, 1)])
    expect(failureReason(withDetails.subarray(0, 1024))).toBe('bad span')
  })

  it('is the message of a JSON error', () => {
    expect(failureReason(Buffer.from('{"error":{"code":"SPANLENS_BAD_OTLP","message":"not OTLP"}}'))).toBe('not OTLP')
    expect(failureReason(Buffer.from('{"message":"quota exceeded"}'))).toBe('quota exceeded')
    expect(failureReason(Buffer.from('{"error":"rate limited"}'))).toBe('rate limited')
  })

  it('is cut to 300 characters', () => {
    expect(failureReason(status(3, 'x'.repeat(1000)))).toBe(`${'x'.repeat(300)}…`)
  })

  it('is nothing for an empty body, HTML, plain text, a message cut short or not UTF-8, and never a throw', () => {
    for (const body of [undefined, Buffer.alloc(0), Buffer.from('<html>413 Request Entity Too Large</html>'), Buffer.from('Not Found'), Buffer.from('{"error":'), status(3, 'cut here').subarray(0, 8), Buffer.from([0x12, 0x02, 0xff, 0xfe])]) {
      expect(failureReason(body), String(body)).toBeUndefined()
    }
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (b) => {
        const r = failureReason(Buffer.from(b))
        expect(r === undefined || (typeof r === 'string' && r.length <= 301)).toBe(true)
      }),
      { numRuns: 2000 },
    )
  })
})
