import { createRequire } from 'node:module'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { tempDir } from './helpers/tmp.js'

// The raw engine, without our store around it: this file pins down the chDB
// behaviour that store-leftover-output.ts guards against.
const require = createRequire(import.meta.url)
const { Session } = require('chdb') as {
  Session: new (path: string) => {
    queryAsync(sql: string, opts: { format: string }): Promise<{ bytes(): Uint8Array }>
    close(): void
  }
}
const FIXED_HINT =
  'chDB no longer hands a failed query\'s output to the next call. The guard in ' +
  'packages/ingest/src/store/store-leftover-output.ts may be removable: check every case in this file, ' +
  'then delete the guard and this test together.'

let session: InstanceType<typeof Session>
let dir: ReturnType<typeof tempDir>
const text = async (sql: string) => Buffer.from((await session.queryAsync(sql, { format: 'JSONEachRow' })).bytes()).toString('utf8')

beforeAll(() => {
  dir = tempDir('spanlens-chdb-leftover-')
  session = new Session(dir.path)
})
afterAll(() => {
  session.close()
  dir.cleanup()
})

describe('chDB session (known upstream behaviour)', () => {
  it('hands the rows a failed query had produced to the next query on the session', async () => {
    await expect(text('SELECT number FROM numbers(100000) WHERE throwIf(number = 50000) = 0 SETTINGS max_block_size = 1000, max_threads = 1')).rejects.toThrow(/throwIf/)
    const next = await text('SELECT 42 AS answer')
    expect(next, FIXED_HINT).not.toBe('{"answer":42}\n')
    // How many rows get out before the exception varies from run to run (a failure
    // at row 5 of 1-row blocks left 0 to 5 of them); 50 blocks in, some always have.
    expect(next).toMatch(/^\{"number":0\}\n(\{"number":\d+\}\n)*\{"answer":42\}\n$/)
  })

  it('keeps the leftover through a failed call that produced nothing, until a call succeeds', async () => {
    await expect(text('SELECT number FROM numbers(100000) WHERE throwIf(number = 50000) = 0 SETTINGS max_block_size = 1000, max_threads = 1')).rejects.toThrow(/throwIf/)
    await expect(text('SELEC 1')).rejects.toThrow(/Syntax error/)
    const next = await text('SELECT 43 AS answer')
    expect(next, FIXED_HINT).not.toBe('{"answer":43}\n')
    expect(next).toMatch(/^\{"number":0\}\n(\{"number":\d+\}\n)*\{"answer":43\}\n$/)
    expect(await text('SELECT 44 AS answer')).toBe('{"answer":44}\n')
  })
})

describe('chDB session (known upstream behaviour), limits', () => {
  it('hands the rows sent before a timeout to the next query', async () => {
    await expect(text('SELECT number, sleepEachRow(0.01) AS z FROM numbers(1000) SETTINGS max_execution_time = 0.3, max_block_size = 1')).rejects.toThrow(/TIMEOUT_EXCEEDED/)
    const next = await text('SELECT 45 AS answer')
    expect(next, FIXED_HINT).not.toBe('{"answer":45}\n')
    expect(next.startsWith('{"number":0,"z":0}\n')).toBe(true)
    expect(next.endsWith('{"answer":45}\n')).toBe(true)
  })
})
