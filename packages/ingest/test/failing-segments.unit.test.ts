import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { FailingSegments, readFailingSegments } from '../src/pipeline/failing-segments.js'

// The note of failing segments a server keeps in its spool: what `spanlens dead-letter stuck`
// reads, and what a restarted server counts on from.

let dir: string
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'spanlens-failing-'))
})
afterEach(() => rmSync(dir, { recursive: true, force: true }))

const seg = (name: string) => ({ name, table: 'spans', rows: 3 })
const failure = { error: 'SOMETHING_NEW (999): injected', shown: 'SOMETHING_NEW (999)', kind: 'unknown' }

describe('failing segments', () => {
  it('survive a restart with their first failure and attempts, forget segments the spool no longer has, and leave no file once none fails', () => {
    const first = new FailingSegments(dir)
    first.failed(seg('a.seg'), failure, 1000)
    first.failed(seg('b.seg'), failure, 1500)
    first.failed(seg('a.seg'), { ...failure, slicesAlike: 8 }, 2000)
    expect(readFailingSegments(dir).map((f) => [f.segment, f.attempts, f.firstFailedAt, f.lastFailedAt, f.slicesAlike])).toEqual([
      ['a.seg', 2, 1000, 2000, 8],
      ['b.seg', 1, 1500, 1500, undefined],
    ])
    // The next server: b was inserted or set aside meanwhile; a fails on, counted on.
    const next = new FailingSegments(dir)
    next.retain(new Set(['a.seg']))
    expect(next.failed(seg('a.seg'), failure, 9000)).toMatchObject({ attempts: 3, firstFailedAt: 1000, lastFailedAt: 9000 })
    expect(readFailingSegments(dir).map((f) => f.segment)).toEqual(['a.seg'])
    next.cleared('a.seg')
    expect(readFailingSegments(dir)).toEqual([])
    expect(next.list()).toEqual([])
  })

  it('reads a note that does not parse, or holds something else, as none', () => {
    writeFileSync(join(dir, 'failing.json'), '{"torn":')
    expect(readFailingSegments(dir)).toEqual([])
    writeFileSync(join(dir, 'failing.json'), '[{"segment":"a.seg"},7,null]')
    expect(new FailingSegments(dir).list()).toEqual([])
  })
})
