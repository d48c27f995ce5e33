import { describe, expect, it } from 'vitest'
import { StoreWideFailure } from '../src/pipeline/insert-errors.js'
import { insertIsolated } from '../src/pipeline/isolating-insert.js'
import type { RowTarget } from '../src/pipeline/segment-rows.js'
import type { Store } from '../src/store/index.js'

// What isolation decides from the answers of inserts: a store that answers as told
// (the engine's own answers to bad rows are in inserter-isolation.test.ts).

const target: RowTarget = { table: 'spans', columns: ['project_id', 'name'], format: 'TabSeparated' }
const rows = (n: number) => Array.from({ length: n }, (_, i) => Buffer.from(`acme\trow-${i}`))
const unknownType = (type = 'SOMETHING_NEW') => Object.assign(new Error(`Code: 999. DB::Exception: injected. (${type})`), { code: '999', type })

/** A store that refuses an insert holding any row `refuses` names, with that error; counts its inserts. */
function answering(refuses: (row: string) => Error | undefined) {
  const inserted: string[] = []
  let calls = 0
  const store = {
    cluster: undefined,
    insertRaw: async (insert: { body: Buffer[] }) => {
      calls++
      const lines = Buffer.concat(insert.body).toString().split('\n').filter(Boolean)
      for (const l of lines) {
        const err = refuses(l)
        if (err) throw err
      }
      inserted.push(...lines)
    },
  } as unknown as Store
  return { store, inserted, calls: () => calls }
}

describe('an error of a type Spanlens does not know is blamed on rows only when the rows differ', () => {
  it('holds every row when the store refuses every slice alike (a quota it does not name), in at most 14 more inserts', async () => {
    const { store, inserted, calls } = answering(() => unknownType())
    const whole = rows(1000)
    const failure = { kind: 'unknown' as const, type: 'SOMETHING_NEW', code: 999, message: 'injected' }
    const held = await insertIsolated(store, target, whole, 'spanlens:seg', failure).catch((err: unknown) => err)
    expect(held).toBeInstanceOf(StoreWideFailure)
    expect(held).toMatchObject({ type: 'SOMETHING_NEW', slices: 8 })
    expect(inserted).toEqual([])
    expect(calls()).toBe(14)
  })

  it('holds a segment of one row, and of a few rows each refused alone alike: nothing shows they are bad', async () => {
    for (const n of [1, 3]) {
      const { store, calls } = answering(() => unknownType())
      await expect(insertIsolated(store, target, rows(n), 'spanlens:seg')).rejects.toBeInstanceOf(StoreWideFailure)
      // n = 3: the whole, [0, 2) and [2, 3), then [0, 1) and [1, 2).
      expect(calls()).toBe(n === 1 ? 1 : 5)
    }
  })

  it('dead-letters the one refused row and inserts the others once the slices show the rows differ', async () => {
    const { store, inserted } = answering((row) => (row === 'acme\trow-37' ? unknownType() : undefined))
    const result = await insertIsolated(store, target, rows(64), 'spanlens:seg')
    expect(result.dead.map((d) => d.row.toString())).toEqual(['acme\trow-37'])
    expect(result.dead[0]?.reason).toMatch(/^SOMETHING_NEW \(999\)/)
    expect(result.inserted).toBe(63)
    expect(new Set(inserted).size).toBe(63)
  })

  it('dead-letters rows of every slice when they fail with different errors, as bad rows do', async () => {
    // Every eighth holds a bad row, but not of one kind: two types, one of them a parse error.
    const { store } = answering((row) => {
      const i = Number(row.split('-')[1])
      if (i % 8 !== 0) return undefined
      return i % 16 === 0 ? unknownType() : Object.assign(new Error('Cannot parse DateTime. (CANNOT_PARSE_DATETIME)'), { code: '41', type: 'CANNOT_PARSE_DATETIME' })
    })
    const result = await insertIsolated(store, target, rows(64), 'spanlens:seg')
    expect(result.dead.map((d) => d.row.toString())).toEqual(Array.from({ length: 8 }, (_, k) => `acme\trow-${k * 8}`))
    expect(result.inserted).toBe(56)
  })

  it('holds the rows when the slices all fail alike with another type than the whole segment did (its file insert)', async () => {
    const { store } = answering(() => unknownType('SOMETHING_ELSE'))
    const failure = { kind: 'unknown' as const, type: 'SOMETHING_NEW', code: 999, message: 'injected' }
    await expect(insertIsolated(store, target, rows(64), 'spanlens:seg', failure)).rejects.toMatchObject({ name: 'StoreWideFailure', type: 'SOMETHING_ELSE' })
  })

  it('throws a failure of the store met while slicing as it came, for the caller to retry', async () => {
    let calls = 0
    const quota = Object.assign(new Error('Quota for user exceeded. (QUOTA_EXCEEDED)'), { code: '201', type: 'QUOTA_EXCEEDED' })
    const { store } = answering(() => (++calls === 1 ? unknownType() : quota))
    await expect(insertIsolated(store, target, rows(16), 'spanlens:seg')).rejects.toBe(quota)
  })
})
