import { readFileSync } from 'node:fs'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { decompressZstd } from '../src/http/zstd.js'
import { rawBlock as raw, rleBlock as rle, zstdBlockHeader as blockHeader, zstdBomb, zstdFrame as frame, zstdStored } from './helpers/zstd.js'

// A recorded OTLP request compressed by the zstd CLI 1.5.4 (fixtures/zstd/README.md).
const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url))
const original = fixture('otlp/openllmetry-anthropic/chat.pb')
const LIMIT = 64 * 1024 * 1024

const code = (f: () => unknown): string | undefined => {
  try {
    f()
    return undefined
  } catch (err) {
    return (err as { code?: string }).code
  }
}

describe('Content-Encoding: zstd', () => {
  it.each(['chat.pb.zst', 'chat.pb.19.zst', 'chat.pb.stream.zst', 'chat.pb.two-frames.zst'])('decodes what the zstd CLI wrote: %s', (name) => {
    expect(decompressZstd(fixture(`zstd/${name}`), LIMIT).equals(original)).toBe(true)
  })

  it('decodes raw and run-length blocks, and skips skippable frames', () => {
    const skippable = Buffer.concat([Buffer.from([0x5a, 0x2a, 0x4d, 0x18, 3, 0, 0, 0]), Buffer.from('abc')])
    const body = Buffer.concat([skippable, frame(1024, [raw(Buffer.from('hello '), false), rle(3, true)]), skippable])
    expect(decompressZstd(body, LIMIT).toString('latin1')).toBe('hello ***')
  })

  it('refuses a bomb once its output crosses the limit', () => {
    // 4,000 blocks of 128 KiB: 500 MiB from 16 KB.
    expect(code(() => decompressZstd(zstdBomb(4000), 1024 * 1024))).toBe('SPANLENS_BODY_TOO_LARGE')
    // At the limit exactly, it decodes.
    expect(decompressZstd(zstdBomb(8), 1024 * 1024)).toHaveLength(1024 * 1024)
    expect(decompressZstd(zstdStored(original), LIMIT).equals(original)).toBe(true)
  })

  it('refuses a frame that asks for a window over 8 MiB before allocating it', () => {
    // zstd --long=27: a 128 MiB window.
    expect(() => decompressZstd(fixture('zstd/chat.pb.long.zst'), LIMIT)).toThrow(/asks for a 134217728-byte window; at most 8388608/)
    expect(code(() => decompressZstd(frame(2 ** 31, [raw(Buffer.from('x'))]), LIMIT))).toBe('SPANLENS_BAD_OTLP')
  })

  it.each([
    ['an empty body', Buffer.alloc(0), /empty body/],
    ['another format', Buffer.from('{"resourceSpans":[]}'), /not a zstd frame/],
    ['a truncated frame', fixture('zstd/chat.pb.zst').subarray(0, 100), /truncated/],
    ['bytes after the last frame', Buffer.concat([fixture('zstd/chat.pb.zst'), Buffer.from('garbage!')]), /bytes after the last frame/],
    ['a dictionary', Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x01, 0x50, 7, 0, 0, 0, 0, 0]), /dictionary/],
    ['a reserved block type', frame(1024, [blockHeader(3, 1, true), Buffer.from('x')]), /reserved block type/],
    ['a block bigger than its window', frame(1024, [rle(2048, true)]), /2048-byte block/],
  ])('refuses %s with SPANLENS_BAD_OTLP naming why', (_, body, why) => {
    expect(code(() => decompressZstd(body, LIMIT))).toBe('SPANLENS_BAD_OTLP')
    expect(() => decompressZstd(body, LIMIT)).toThrow(why)
  })

  it('answers any corruption of a real body with its bytes or a typed error, never another throw', () => {
    const good = fixture('zstd/chat.pb.19.zst')
    const edits = fc.array(fc.tuple(fc.nat(good.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 })
    fc.assert(
      fc.property(edits, fc.nat(good.length), (changes, cut) => {
        const body = Buffer.from(good.subarray(0, Math.max(1, cut)))
        for (const [at, byte] of changes) if (at < body.length) body[at] = byte
        const c = code(() => decompressZstd(body, 1024 * 1024))
        expect([undefined, 'SPANLENS_BAD_OTLP', 'SPANLENS_BODY_TOO_LARGE']).toContain(c)
      }),
      { numRuns: Number(process.env.SPANLENS_FUZZ_PROPERTY_RUNS ?? 2000) },
    )
  })
})
