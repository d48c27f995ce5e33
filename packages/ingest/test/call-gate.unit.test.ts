import { afterEach, describe, expect, it, vi } from 'vitest'
import { CallGate, HOLD_MS } from '../src/store/call-gate.js'

/** A call that runs until `finish()` is called, recording when it started. */
function pending(order: string[], name: string) {
  let finish!: () => void
  const done = new Promise<void>((resolve) => (finish = resolve))
  return { call: () => (order.push(name), done), finish: () => finish() }
}

const tick = () => new Promise((resolve) => setImmediate(resolve))

afterEach(() => {
  vi.useRealTimers()
})

describe('the embedded engine gate', () => {
  it('runs a waiting ingest call before a waiting query', async () => {
    const gate = new CallGate(1)
    const order: string[] = []
    const first = pending(order, 'query 1')
    const running = gate.run('query', first.call)
    const query = gate.run('query', async () => void order.push('query 2'))
    const insert = gate.run('ingest', async () => void order.push('insert'))
    first.finish()
    await Promise.all([running, query, insert])
    expect(order).toEqual(['query 1', 'insert', 'query 2'])
  })

  it('keeps the engine for the insert an ending insert announced, ahead of a query already waiting', async () => {
    const gate = new CallGate(1)
    const order: string[] = []
    const first = pending(order, 'insert 1')
    const inserted = gate.run('ingest', first.call, { holdFor: () => true })
    const query = gate.run('query', async () => void order.push('query'))
    first.finish()
    await inserted
    // The inserter removes its segment before it queues the next: a few ms, several turns of the loop.
    for (let i = 0; i < 5; i++) await tick()
    await gate.run('ingest', async () => void order.push('insert 2'))
    await query
    expect(order).toEqual(['insert 1', 'insert 2', 'query'])
  })

  it('passes the engine to a query when the ending insert announces none', async () => {
    const gate = new CallGate(1)
    const order: string[] = []
    const first = pending(order, 'insert 1')
    const inserted = gate.run('ingest', first.call, { holdFor: () => false })
    const query = gate.run('query', async () => void order.push('query'))
    first.finish()
    await inserted
    await tick()
    await gate.run('ingest', async () => void order.push('insert 2'))
    await query
    expect(order).toEqual(['insert 1', 'query', 'insert 2'])
  })

  it('gives a held engine to the waiting query once HOLD_MS pass without the announced insert', async () => {
    vi.useFakeTimers()
    const gate = new CallGate(1)
    const order: string[] = []
    await gate.run('ingest', async () => void order.push('insert'), { holdFor: () => true })
    const query = gate.run('query', async () => void order.push('query'))
    await vi.advanceTimersByTimeAsync(HOLD_MS - 1)
    expect(order).toEqual(['insert'])
    await vi.advanceTimersByTimeAsync(1)
    await query
    expect(order).toEqual(['insert', 'query'])
    expect(gate.queued).toBe(0)
    // The slot is free again: a call runs at once.
    await gate.run('query', async () => void order.push('after'))
    expect(order).toEqual(['insert', 'query', 'after'])
  })

  it('asks whether an insert follows only when the insert ends', async () => {
    const gate = new CallGate(1)
    let more = false
    const first = pending([], 'insert')
    const inserted = gate.run('ingest', first.call, { holdFor: () => more })
    const order: string[] = []
    const query = gate.run('query', async () => void order.push('query'))
    more = true
    first.finish()
    await inserted
    await tick()
    await gate.run('ingest', async () => void order.push('insert 2'))
    await query
    expect(order).toEqual(['insert 2', 'query'])
  })
})
