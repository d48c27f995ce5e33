import { describe, expect, it } from 'vitest'
import { defaultAdmission, QueryAdmission } from '../src/index.js'

/** A query that runs until released, recording the order queries started in. */
function gatedQueries() {
  const started: string[] = []
  const releases: Array<() => void> = []
  const query = (label: string) => () =>
    new Promise<string>((resolve) => {
      started.push(label)
      releases.push(() => resolve(label))
    })
  const tick = () => new Promise((r) => setImmediate(r))
  // A granted query starts a few microtasks after its grant: wait for it before releasing.
  const releaseOldest = async () => {
    await tick()
    releases.shift()?.()
    await new Promise((r) => setImmediate(r))
  }
  return { started, query, releaseOldest }
}

describe('query admission', () => {
  it('a request that runs several queries at once counts as that many, so the totals (and the sockets they leave to ingest) hold', async () => {
    const admission = new QueryAdmission({ perProject: 4, total: 8, queuePerProject: 8, queueTimeoutMs: 10_000 })
    const { started, query, releaseOldest } = gatedQueries()
    expect(admission.slotsFor(4)).toBe(4)
    expect(admission.slotsFor(16)).toBe(4) // never more than a project may run
    const drifts = ['a', 'b', 'c'].map((p) => admission.run(p, query(`${p}-drift`), 4))
    await new Promise((r) => setImmediate(r))
    // Two 4-query reports fill the 8; the third waits for one to end.
    expect(started).toEqual(['a-drift', 'b-drift'])
    expect(admission.stats('c')).toEqual({ running: 0, waiting: 1 })
    await releaseOldest()
    expect(started).toEqual(['a-drift', 'b-drift', 'c-drift'])
    expect(admission.stats('a')).toEqual({ running: 0, waiting: 0 })
    await releaseOldest()
    await releaseOldest()
    await expect(Promise.all(drifts)).resolves.toEqual(['a-drift', 'b-drift', 'c-drift'])
  })

  it('a project with a backlog delays another project by one query, not by its backlog', async () => {
    const admission = new QueryAdmission({ perProject: 1, total: 1, queuePerProject: 8, queueTimeoutMs: 10_000 })
    const { started, query, releaseOldest } = gatedQueries()
    const runs = [1, 2, 3, 4].map((i) => admission.run('heavy', query(`heavy-${i}`)))
    const light = admission.run('light', query('light-1'))
    await releaseOldest()
    expect(started).toEqual(['heavy-1', 'light-1'])
    for (let i = 0; i < 4; i++) await releaseOldest()
    expect(started).toEqual(['heavy-1', 'light-1', 'heavy-2', 'heavy-3', 'heavy-4'])
    await expect(light).resolves.toBe('light-1')
    await expect(Promise.all(runs)).resolves.toHaveLength(4)
  })

  it('a project over its queue gets SPANLENS_QUERY_BUSY (429) with a retry time, other projects still run', async () => {
    const admission = new QueryAdmission({ perProject: 1, total: 2, queuePerProject: 2, queueTimeoutMs: 5_000 })
    const { query, releaseOldest, started } = gatedQueries()
    const held = [1, 2, 3].map((i) => admission.run('a', query(`a-${i}`)))
    await expect(admission.run('a', query('a-4'))).rejects.toMatchObject({ code: 'SPANLENS_QUERY_BUSY', statusCode: 429, retryAfterSeconds: 5 })
    const other = admission.run('b', query('b-1'))
    await new Promise((r) => setImmediate(r))
    expect(started).toEqual(['a-1', 'b-1'])
    for (let i = 0; i < 4; i++) await releaseOldest()
    await expect(Promise.all([...held, other])).resolves.toHaveLength(4)
    expect(admission.stats('a')).toEqual({ running: 0, waiting: 0 })
  })

  it('a query that waits longer than the queue timeout gets SPANLENS_QUERY_BUSY and leaves the queue', async () => {
    const admission = new QueryAdmission({ perProject: 1, total: 4, queuePerProject: 4, queueTimeoutMs: 50 })
    const { query, releaseOldest } = gatedQueries()
    const first = admission.run('a', query('a-1'))
    await expect(admission.run('a', query('a-2'))).rejects.toMatchObject({ code: 'SPANLENS_QUERY_BUSY', retryAfterSeconds: 1 })
    expect(admission.stats('a')).toEqual({ running: 1, waiting: 0 })
    await releaseOldest()
    await expect(first).resolves.toBe('a-1')
  })

  it('a failed query frees its slot', async () => {
    const admission = new QueryAdmission({ perProject: 1, total: 1, queuePerProject: 1, queueTimeoutMs: 1_000 })
    await expect(admission.run('a', () => Promise.reject(new Error('boom')))).rejects.toThrow('boom')
    await expect(admission.run('a', async () => 'next')).resolves.toBe('next')
  })

  it('by default waits twice the SQL time limit, so the request behind a query that runs to its limit still gets its turn', () => {
    expect(defaultAdmission('embedded', 30)).toMatchObject({ total: 1, queueTimeoutMs: 60_000 })
    expect(defaultAdmission('remote', 5).queueTimeoutMs).toBe(30_000)
  })

  describe('a caller that goes away', () => {
    it('leaves the queue with SPANLENS_CLIENT_GONE and its query never runs; the queries behind it keep their turn', async () => {
      const admission = new QueryAdmission({ perProject: 1, total: 1, queuePerProject: 8, queueTimeoutMs: 10_000 })
      const { started, query, releaseOldest } = gatedQueries()
      const first = admission.run('a', query('a-1'))
      const gone = new AbortController()
      const abandoned = admission.run('a', query('a-2'), 1, gone.signal)
      const third = admission.run('a', query('a-3'))
      await new Promise((r) => setImmediate(r))
      gone.abort()
      await expect(abandoned).rejects.toMatchObject({ code: 'SPANLENS_CLIENT_GONE', statusCode: 499 })
      expect(admission.stats('a')).toEqual({ running: 1, waiting: 1 })
      await releaseOldest()
      await releaseOldest()
      await expect(Promise.all([first, third])).resolves.toEqual(['a-1', 'a-3'])
      expect(started).toEqual(['a-1', 'a-3'])
    })

    it('is refused at once when it left before asking and would wait', async () => {
      const admission = new QueryAdmission({ perProject: 1, total: 1, queuePerProject: 8, queueTimeoutMs: 10_000 })
      const { started, query, releaseOldest } = gatedQueries()
      const first = admission.run('a', query('a-1'))
      await expect(admission.run('a', query('a-2'), 1, AbortSignal.abort())).rejects.toMatchObject({ code: 'SPANLENS_CLIENT_GONE' })
      expect(admission.stats('a')).toEqual({ running: 1, waiting: 0 })
      await releaseOldest()
      await first
      expect(started).toEqual(['a-1'])
    })

    it('that left before asking still runs when a slot is free: a client that half-closed to wait for its answer looks gone', async () => {
      const admission = new QueryAdmission({ perProject: 1, total: 1, queuePerProject: 8, queueTimeoutMs: 10_000 })
      const { started, query, releaseOldest } = gatedQueries()
      const alone = admission.run('a', query('a-1'), 1, AbortSignal.abort())
      await new Promise((r) => setImmediate(r))
      await releaseOldest()
      await expect(alone).resolves.toBe('a-1')
      expect(started).toEqual(['a-1'])
    })

    it('does not stop a query already running, and its slot is freed when it ends', async () => {
      const admission = new QueryAdmission({ perProject: 1, total: 1, queuePerProject: 8, queueTimeoutMs: 10_000 })
      const { query, releaseOldest } = gatedQueries()
      const gone = new AbortController()
      const running = admission.run('a', query('a-1'), 1, gone.signal)
      await new Promise((r) => setImmediate(r))
      gone.abort()
      await releaseOldest()
      await expect(running).resolves.toBe('a-1')
      expect(admission.stats('a')).toEqual({ running: 0, waiting: 0 })
    })

    it('that headed its queue wanting more slots than were free lets the smaller query behind it run', async () => {
      const admission = new QueryAdmission({ perProject: 4, total: 4, queuePerProject: 8, queueTimeoutMs: 10_000 })
      const { started, query, releaseOldest } = gatedQueries()
      const small = admission.run('a', query('a-1'))
      const gone = new AbortController()
      const wide = admission.run('b', query('b-drift'), 4, gone.signal)
      const next = admission.run('b', query('b-1'))
      await new Promise((r) => setImmediate(r))
      expect(started).toEqual(['a-1'])
      gone.abort()
      await expect(wide).rejects.toMatchObject({ code: 'SPANLENS_CLIENT_GONE' })
      await new Promise((r) => setImmediate(r))
      expect(started).toEqual(['a-1', 'b-1'])
      await releaseOldest()
      await releaseOldest()
      await expect(Promise.all([small, next])).resolves.toEqual(['a-1', 'b-1'])
    })
  })
})
