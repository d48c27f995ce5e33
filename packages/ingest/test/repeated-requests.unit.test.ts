import { describe, expect, it } from 'vitest'
import { Recent } from '../src/pipeline/recent.js'
import { RepeatedRequests } from '../src/pipeline/repeated-requests.js'

describe('requests answered lately', () => {
  it('gives a repeat the first reply once it is settled', async () => {
    const r = new RepeatedRequests<string>()
    expect(r.earlier('a')).toBeUndefined()
    const answer = r.open('a')
    const waiting = r.earlier('a')
    answer('ok')
    expect(await waiting).toBe('ok')
    expect(await r.earlier('a')).toBe('ok')
    expect(r.earlier('b')).toBeUndefined()
  })

  it('forgets a request that failed, so its retry is taken as new', async () => {
    const r = new RepeatedRequests<string>()
    const answer = r.open('a')
    const waiting = r.earlier('a')
    answer(undefined)
    expect(await waiting).toBeUndefined()
    expect(r.earlier('a')).toBeUndefined()
  })

  it('forgets a reply older than its age limit, and keeps at most its entry limit', async () => {
    const r = new RepeatedRequests<string>(2, 60_000)
    for (const k of ['a', 'b', 'c']) r.open(k)('ok')
    expect(r.size).toBe(2)
    expect(r.earlier('a')).toBeUndefined()
    expect(await r.earlier('c')).toBe('ok')
  })
})

describe('a map that forgets', () => {
  it('drops entries past their age, oldest first, and past its size', () => {
    const m = new Recent<number>(3, 1_000)
    m.set('a', 1, 0)
    m.set('b', 2, 500)
    expect(m.get('a', 999)).toBe(1)
    expect(m.get('a', 1_000)).toBeUndefined()
    expect(m.get('b', 1_000)).toBe(2)
    for (const k of ['c', 'd', 'e']) m.set(k, 0, 1_100)
    expect(m.size).toBe(3)
    expect(m.get('b', 1_100)).toBeUndefined()
  })

  it('setting a key again moves it to the end', () => {
    const m = new Recent<number>(2, 1_000)
    m.set('a', 1, 0)
    m.set('b', 2, 0)
    m.set('a', 3, 0)
    m.set('c', 4, 0)
    expect(m.get('a', 0)).toBe(3)
    expect(m.get('b', 0)).toBeUndefined()
  })
})
