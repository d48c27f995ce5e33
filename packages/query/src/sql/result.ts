import { readAtMost, ResultTooLarge } from './explain.js'

/** A result as ClickHouse writes it in JSONCompact. */
export interface CompactResult {
  meta?: Array<{ name: string; type: string }>
  data?: unknown[][]
  rows?: number
  statistics?: { elapsed?: unknown }
}

/** A result read, and the bytes of it counted against the limit. */
export interface ReadResult {
  body: CompactResult
  bytes: number
}

/** Over HTTP: one JSONCompact document, read as a stream up to `limit` bytes. */
export async function readDocument(stream: AsyncIterable<Uint8Array | string>, limit: number): Promise<ReadResult> {
  const text = await readAtMost(stream, limit)
  return { body: JSON.parse(text.toString('utf8')) as CompactResult, bytes: text.length }
}

/**
 * The format of a streamed result. chDB (3.4.0) starts the output format again for every block
 * it streams, so each chunk is a document of its own: in JSONCompact each repeated the meta and
 * ended with that block's statistics, and `WITH TOTALS` came out as a chunk that was no JSON.
 * In this format a chunk is two lines, the names and the types, then one line per row; a value
 * is written as in JSONCompact (the same settings quote 64-bit integers), and a raw newline
 * occurs only between lines (a string's is written `\n`). Totals are left out, as the
 * reply leaves them out over HTTP.
 */
export const STREAM_FORMAT = 'JSONCompactEachRowWithNamesAndTypes'

/** A streamed result as read: the names and types line of its first chunk, and every chunk's rows. */
export interface Blocks {
  names: Buffer
  types: Buffer
  rows: Buffer[]
  bytes: number
  /** The statement's time, from its first chunk's request to its last chunk, in seconds. */
  elapsed: number
}

/**
 * Embedded, through chDB's stream: the rows of every chunk (STREAM_FORMAT), the names and types
 * once. The count is of those bytes, so that a result weighs the same however many blocks it
 * comes in. Nothing is parsed here: this runs while the store's one engine is held for the
 * statement, and a result stopped at the limit costs its bytes, not their strings and arrays too.
 */
export async function collectBlocks(chunks: AsyncIterable<Uint8Array>, limit: number): Promise<Blocks> {
  const started = Date.now()
  let header: { names: Buffer; types: Buffer } | undefined
  const rows: Buffer[] = []
  let bytes = 0
  for await (const chunk of chunks) {
    const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)
    const namesEnd = b.indexOf(0x0a)
    const typesEnd = namesEnd < 0 ? -1 : b.indexOf(0x0a, namesEnd + 1)
    if (typesEnd < 0) throw new Error(`the store's streamed result has no names and types (${b.length} bytes)`)
    bytes += b.length - (header === undefined ? 0 : typesEnd + 1)
    if (bytes > limit) throw new ResultTooLarge()
    header ??= { names: b.subarray(0, namesEnd), types: b.subarray(namesEnd + 1, typesEnd) }
    if (b.length > typesEnd + 1) rows.push(b.subarray(typesEnd + 1))
  }
  return { names: header?.names ?? Buffer.from('[]'), types: header?.types ?? Buffer.from('[]'), rows, bytes, elapsed: (Date.now() - started) / 1000 }
}

/** The result collectBlocks read, as the JSONCompact document an HTTP read gives. */
export function parseBlocks(blocks: Blocks): ReadResult {
  const names = JSON.parse(blocks.names.toString('utf8')) as string[]
  const types = JSON.parse(blocks.types.toString('utf8')) as string[]
  // One row a line, each ending in a newline: as a JSON array, the newlines between rows become commas.
  const lines = Buffer.concat(blocks.rows).toString('utf8').trimEnd()
  const data = lines === '' ? [] : (JSON.parse(`[${lines.replaceAll('\n', ',')}]`) as unknown[][])
  const meta = names.map((name, i) => ({ name, type: types[i] as string }))
  return { body: { meta, data, rows: data.length, statistics: { elapsed: blocks.elapsed } }, bytes: blocks.bytes }
}
