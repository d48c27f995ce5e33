import { deflateSync, gunzipSync } from 'node:zlib'
import { describe, expect, it } from 'vitest'
import { otlpTypes } from '../helpers/proto.js'
import { makeCase } from './cases.js'
import { baseRequest, requestJsonBytes, requestWire, spansOf } from './model.js'
import { spansInBody } from './oracle.js'
import { Rng, seedFromEnv } from './rng.js'
import { encodeMessage, varint } from './wire.js'

// The fuzzer's own promises: without them a green fuzz run would prove nothing.
describe('the OTLP fuzzer library', () => {
  it('makes the same bytes for the same seed and case, and different ones for another case', () => {
    const now = 1_796_000_000_000_000_000n
    for (let i = 0; i < 100; i++) {
      const a = makeCase(7, i, { service: 's', abortRate: 0.1, now })
      const b = makeCase(7, i, { service: 's', abortRate: 0.1, now })
      expect(b.body.equals(a.body)).toBe(true)
      expect(b.labels).toEqual(a.labels)
    }
    expect(makeCase(7, 1, { service: 's' }).body.equals(makeCase(7, 2, { service: 's' }).body)).toBe(false)
    expect(makeCase(7, 1, { service: 's' }).body.equals(makeCase(8, 1, { service: 's' }).body)).toBe(false)
  })

  it('writes valid requests that protobufjs decodes to the same spans (ids, times, names)', () => {
    const rng = new Rng(42)
    for (let n = 0; n < 50; n++) {
      const req = baseRequest(rng, { service: 'svc' })
      const decoded = otlpTypes().request.toObject(otlpTypes().request.decode(encodeMessage(requestWire(req))), { longs: String, bytes: String }) as {
        resourceSpans: Array<{ scopeSpans: Array<{ spans: Array<{ traceId: string; spanId: string; startTimeUnixNano: string; endTimeUnixNano: string; name: string }> }> }>
      }
      const got = decoded.resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans))
      const want = spansOf(req)
      expect(got.map((s) => [Buffer.from(s.traceId, 'base64').toString('hex'), Buffer.from(s.spanId, 'base64').toString('hex'), s.startTimeUnixNano, s.endTimeUnixNano, s.name])).toEqual(
        want.map((s) => [s.traceId.toString('hex'), s.spanId.toString('hex'), String(s.start), String(s.end), s.name]),
      )
    }
  })

  it('writes invalid UTF-8 into JSON string literals byte for byte and keeps the rest valid JSON', () => {
    const req = baseRequest(new Rng(1), { service: 'svc' })
    const first = spansOf(req)[0]
    if (!first) throw new Error('no span')
    first.name = Buffer.from([0x61, 0xff, 0x22, 0x5c, 0x0a])
    const body = requestJsonBytes(req)
    expect(body.includes(Buffer.from([0x61, 0xff, 0x5c, 0x22, 0x5c, 0x5c, 0x5c, 0x6e]))).toBe(true)
    expect(() => JSON.parse(body.toString('utf8'))).not.toThrow()
  })

  it('counts spans the way a client does, and nothing for a body that is not a request', () => {
    const req = baseRequest(new Rng(3), { service: 'svc' })
    const pb = encodeMessage(requestWire(req))
    expect(spansInBody('protobuf', pb, 'none')).toBe(spansOf(req).length)
    expect(spansInBody('protobuf', deflateSync(pb), 'deflate')).toBe(spansOf(req).length)
    expect(spansInBody('json', requestJsonBytes(req), 'none')).toBe(spansOf(req).length)
    expect(spansInBody('json', Buffer.from('{"resourceSpans": ['), 'none')).toBeUndefined()
    expect(spansInBody('json', Buffer.from('{"resource_spans":[{"scope_spans":[{"spans":[{},{}]}]}]}'), 'none')).toBe(2)
    expect(spansInBody('json', Buffer.from('{"resource_spans":[],"resourceSpans":[]}'), 'none')).toBeUndefined()
    expect(spansInBody('protobuf', Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]), 'none')).toBeUndefined()
  })

  it('reaches every kind of mutation and both encodings within a few hundred cases', () => {
    const labels = new Set<string>()
    const formats = new Set<string>()
    for (let i = 0; i < 600; i++) {
      const c = makeCase(99, i, { service: 's', abortRate: 0.02 })
      formats.add(c.format)
      for (const l of c.labels) labels.add(l.replace(/\(.*$/, ''))
      if (c.compression === 'gzip' && !c.labels.some((l) => l.startsWith('gzip+'))) expect(() => gunzipSync(c.body)).not.toThrow()
    }
    expect([...formats].sort()).toEqual(['json', 'protobuf'])
    for (const want of ['edgeTime', 'manyDays', 'invalidUtf8', 'edgeNumbers', 'lengthLie', 'wireTypeSwap', 'bitFlips', 'truncate', 'json.edgeTime', 'json.idForm', 'gzip', 'deflate', 'contentType', 'contentEncoding', 'abortMidBody']) {
      expect(labels, want).toContain(want)
    }
  })

  it('writes varints as protobuf does, and pads them when asked', () => {
    expect(varint(300n)).toEqual(Buffer.from([0xac, 0x02]))
    expect(varint((1n << 64n) - 1n)).toHaveLength(10)
    expect(varint(1n, 2)).toEqual(Buffer.from([0x81, 0x80, 0x00]))
  })

  it('takes the seed from SPANLENS_FUZZ_SEED and refuses one that is not a 32-bit integer', () => {
    expect(seedFromEnv({}, 5)).toBe(5)
    expect(seedFromEnv({ SPANLENS_FUZZ_SEED: '0x10' }, 5)).toBe(16)
    expect(() => seedFromEnv({ SPANLENS_FUZZ_SEED: 'abc' }, 5)).toThrow(/SPANLENS_FUZZ_SEED/)
  })
})
