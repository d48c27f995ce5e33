/**
 * zstd frames made by hand (RFC 8878): raw and run-length blocks only, so tests can
 * send valid zstd bodies and bombs without a zstd encoder (Node 20's zlib has none).
 */
const MAGIC = [0x28, 0xb5, 0x2f, 0xfd]

/** A frame of the given blocks with a `window`-byte window descriptor (a power of two from 1 KiB), no checksum. */
export function zstdFrame(window: number, blocks: Buffer[]): Buffer {
  return Buffer.concat([Buffer.from([...MAGIC, 0x00, (Math.log2(window) - 10) << 3]), ...blocks])
}

export function zstdBlockHeader(type: number, size: number, last: boolean): Buffer {
  const h = Buffer.alloc(3)
  h.writeUIntLE((size << 3) | (type << 1) | (last ? 1 : 0), 0, 3)
  return h
}

/** A block stored as is. */
export const rawBlock = (data: Buffer, last = true) => Buffer.concat([zstdBlockHeader(0, data.length, last), data])

/** A run-length block: `size` copies of one byte, from 4 bytes. */
export const rleBlock = (size: number, last: boolean) => Buffer.concat([zstdBlockHeader(1, size, last), Buffer.from([0x2a])])

/** `data` as one zstd frame of stored blocks (128 KiB each at most, as RFC 8878 allows). */
export function zstdStored(data: Buffer): Buffer {
  const blocks: Buffer[] = []
  for (let at = 0; at < data.length || blocks.length === 0; at += 128 * 1024) {
    const end = Math.min(data.length, at + 128 * 1024)
    blocks.push(rawBlock(data.subarray(at, end), end === data.length))
  }
  return zstdFrame(8 * 1024 * 1024, blocks)
}

/** A frame that decodes to `blocks` × 128 KiB of one byte, from 4 bytes a block. */
export const zstdBomb = (blocks: number) => zstdFrame(8 * 1024 * 1024, Array.from({ length: blocks }, (_, i) => rleBlock(128 * 1024, i === blocks - 1)))
