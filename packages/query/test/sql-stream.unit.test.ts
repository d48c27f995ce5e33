import { readFileSync } from 'node:fs'
import { Readable } from 'node:stream'
import type { ClickHouseClient } from '@clickhouse/client'
import { describe, expect, it } from 'vitest'
import { runSandboxedSql, type StreamQuery } from '../src/index.js'
import { collectBlocks, parseBlocks } from '../src/sql/result.js'

// Chunks as chDB 3.4.0's queryStream wrote them in JSONCompactEachRowWithNamesAndTypes for
// `SELECT number AS n, toString(number) AS s FROM numbers(5) SETTINGS max_block_size = 2`:
// every block starts with the names and types again.
const HEADER = '["n", "s"]\n["UInt64", "String"]\n'
const BLOCKS = [`${HEADER}["0", "0"]\n["1", "1"]\n`, `${HEADER}["2", "2"]\n["3", "3"]\n`, `${HEADER}["4", "4"]\n`]
const ROW_BYTES = BLOCKS.join('').length - BLOCKS.length * HEADER.length

async function* chunksOf(texts: string[], pulled: { n: number; closed: boolean }): AsyncGenerator<Uint8Array> {
  try {
    for (const t of texts) {
      pulled.n++
      yield new Uint8Array(Buffer.from(t))
    }
  } finally {
    pulled.closed = true
  }
}

describe('a result streamed a block at a time (embedded)', () => {
  it('is the rows of every block in order, named and typed once', async () => {
    const { body, bytes } = parseBlocks(await collectBlocks(chunksOf(BLOCKS, { n: 0, closed: false }), 1 << 20))
    expect(body.meta).toEqual([{ name: 'n', type: 'UInt64' }, { name: 's', type: 'String' }])
    expect(body.data).toEqual([['0', '0'], ['1', '1'], ['2', '2'], ['3', '3'], ['4', '4']])
    expect(body.rows).toBe(5)
    // The names and types count once, however many blocks repeat them.
    expect(bytes).toBe(HEADER.length + ROW_BYTES)
  })

  it('keeps the columns of an empty result', async () => {
    const { body } = parseBlocks(await collectBlocks(chunksOf([HEADER], { n: 0, closed: false }), 1 << 20))
    expect(body).toMatchObject({ meta: [{ name: 'n', type: 'UInt64' }, { name: 's', type: 'String' }], data: [], rows: 0 })
  })

  it('stops pulling at the limit and ends the stream', async () => {
    const pulled = { n: 0, closed: false }
    await expect(collectBlocks(chunksOf(BLOCKS, pulled), HEADER.length + ROW_BYTES - 1)).rejects.toThrow()
    expect(pulled).toEqual({ n: 3, closed: true })
    const early = { n: 0, closed: false }
    await expect(collectBlocks(chunksOf(BLOCKS, early), BLOCKS[0]!.length)).rejects.toThrow()
    expect(early).toEqual({ n: 2, closed: true })
  })
})

describe('POST /sql through a store that streams', () => {
  // The analysis goes through the client with the recorded EXPLAINs (sql-protocol.unit.test.ts); the result through the stream.
  const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url))
  const QUERY = "SELECT service_name, count() AS n FROM spans WHERE name != 'tab\\there' GROUP BY service_name"
  const client = {
    exec: async (p: { query: string }) => {
      if (!p.query.startsWith('EXPLAIN')) throw new Error('the result is read through the stream, not exec')
      if (!p.query.startsWith('EXPLAIN AST')) return { stream: Readable.from([fixture('explain-query-tree.tsv')]) }
      const marker = /\bFROM (\w+)/.exec(p.query)?.[1] ?? 'spans'
      return { stream: Readable.from([fixture('explain-ast.tsv').toString('utf8').replace('TableIdentifier spans', `TableIdentifier ${marker}`)]) }
    },
    query: async () => ({ json: async () => [{ name: 'spans' }] }),
  } as unknown as ClickHouseClient
  const limits = { maxExecutionSeconds: 5, maxMemoryBytes: 1 << 26, maxResultRows: 100, maxResultBytes: 1 << 20 }

  it('reads the result through the stream, in its format, with the limits and small blocks, and answers SPANLENS_SQL_LIMIT past the byte limit', async () => {
    const asked: Array<Parameters<StreamQuery>[0]> = []
    const stream = (texts: string[]): StreamQuery =>
      async (params, read) => {
        asked.push(params)
        return read(chunksOf(texts, { n: 0, closed: false }))
      }
    const r = await runSandboxedSql(client, 'p1', QUERY, { database: 'spanlens', limits, stream: stream(BLOCKS) })
    expect(r.data).toEqual([0, 1, 2, 3, 4].map((i) => ({ n: String(i), s: String(i) })))
    expect(asked[0]?.clickhouse_settings).toMatchObject({
      default_format: 'JSONCompactEachRowWithNamesAndTypes',
      readonly: '2',
      max_result_bytes: String(1 << 20),
      max_block_size: '256',
    })
    const refused = await runSandboxedSql(client, 'p1', QUERY, { database: 'spanlens', limits: { ...limits, maxResultBytes: 40 }, stream: stream(BLOCKS) }).catch((e: unknown) => e)
    expect(refused).toMatchObject({ code: 'SPANLENS_SQL_LIMIT', message: expect.stringContaining('SPANLENS_SQL_MAX_RESULT_BYTES') })
  })
})
