import type { StreamQuery } from '@spanlens/query'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadConfig } from '../src/config/load.js'
import { createStore, type Store } from '../src/store/index.js'
import { tempDir } from './helpers/tmp.js'

let store: Store
let dir: ReturnType<typeof tempDir>

beforeAll(async () => {
  dir = tempDir('spanlens-stream-')
  store = await createStore(loadConfig({ env: { SPANLENS_DATA_DIR: dir.path } }).store)
})
afterAll(async () => {
  await store.close()
  dir.cleanup()
})

const text = (chunk: Uint8Array) => Buffer.from(chunk).toString('utf8')
const stream = (query: string, settings: Record<string, string | number> = {}): Parameters<StreamQuery>[0] => ({
  query,
  clickhouse_settings: { default_format: 'JSONCompactEachRowWithNamesAndTypes', ...settings },
})
const rows = async (query: string) => (await store.client.query({ query, format: 'JSONEachRow' })).json()

describe('embedded store: a statement read as a stream (Store.streamQuery)', () => {
  it('hands over one block at a time, each written as a document of its own, its settings scoped to it', async () => {
    const chunks = await store.streamQuery!(stream('SELECT number AS n FROM numbers(5)', { max_block_size: 2 }), async (cs) => {
      const all: string[] = []
      for await (const c of cs) all.push(text(c))
      return all
    })
    // chDB starts the format again for every block (sql/result.ts reads it so).
    expect(chunks).toEqual(['["n"]\n["UInt64"]\n[0]\n[1]\n', '["n"]\n["UInt64"]\n[2]\n[3]\n', '["n"]\n["UInt64"]\n[4]\n'])
    const [after] = (await rows("SELECT getSetting('max_block_size') AS b")) as Array<{ b: unknown }>
    expect(String(after?.b)).not.toBe('2')
  })

  it('holds the engine while it is read: other calls wait their turn', async () => {
    const seen = await store.streamQuery!(stream('SELECT number FROM numbers(3)'), async (cs) => {
      for await (const _ of cs) {
        // A query asked for while the stream is read runs after it.
        const waiting = rows('SELECT 1 AS one')
        await new Promise((resolve) => setImmediate(resolve))
        const activity = store.activity!()
        return { busy: activity.busySince !== null, queued: activity.queued, waiting }
      }
      throw new Error('no chunk')
    })
    expect(seen).toMatchObject({ busy: true, queued: 1 })
    expect(await seen.waiting).toEqual([{ one: 1 }])
    expect(store.activity!()).toMatchObject({ busySince: null, queued: 0 })
  })

  it('a reader that stops early cancels the statement, and the next call gets only its own output', async () => {
    const stop = new Error('enough')
    let read = 0
    await expect(
      store.streamQuery!(stream('SELECT number FROM numbers(1000000)', { max_block_size: 100 }), async (cs) => {
        for await (const _ of cs) if (++read === 2) throw stop
      }),
    ).rejects.toBe(stop)
    expect(read).toBe(2)
    expect(await rows('SELECT 42 AS answer')).toEqual([{ answer: 42 }])
  })

  it("a statement stopped by a limit rejects with ClickHouse's code and type, and leaves nothing for the next call", async () => {
    const before = store.activity!().leftoverBytesDiscarded
    const limited = stream('SELECT number FROM numbers(100000)', { max_result_rows: 10, result_overflow_mode: 'throw', max_block_size: 100 })
    const failed = await store.streamQuery!(limited, async (cs) => {
      for await (const _ of cs) {
        // read on
      }
    }).catch((e: unknown) => e)
    expect(failed).toMatchObject({ code: '396', type: 'TOO_MANY_ROWS_OR_BYTES' })
    expect(await rows('SELECT 43 AS answer')).toEqual([{ answer: 43 }])
    // The names and types it had written were left on the session, and discarded (store-leftover-output.ts).
    expect(store.activity!().leftoverBytesDiscarded).toBeGreaterThan(before)
  })

  it("refuses a bad statement with ClickHouse's code", async () => {
    await expect(store.streamQuery!(stream('SELEC 1'), async (cs) => {
      for await (const _ of cs) {
        // nothing
      }
    })).rejects.toMatchObject({ code: '62', type: 'SYNTAX_ERROR' })
    expect(await rows('SELECT 44 AS answer')).toEqual([{ answer: 44 }])
  })
})
