import type { Store } from '../../src/store/index.js'

export type Fault = 'down' | 'commit-then-fail' | 'ok'

/**
 * Wraps the real embedded store and injects faults into inserts (insertRaw):
 * 'down' fails before ClickHouse sees the rows; 'commit-then-fail' lets the
 * insert commit and then throws, as when a response is lost on the network.
 */
export function faultyStore(store: Store): Store & { fault: Fault; attempts: number } {
  const state = { fault: 'ok' as Fault, attempts: 0 }
  const insertRaw: Store['insertRaw'] = async (insert) => {
    state.attempts++
    if (state.fault === 'down') throw Object.assign(new Error('injected: connection refused'), { code: 'ECONNREFUSED' })
    await store.insertRaw(insert)
    if (state.fault === 'commit-then-fail') {
      throw Object.assign(new Error('injected: response lost after commit'), { code: 'ECONNRESET' })
    }
  }
  const wrapped = { ...store, insertRaw, close: () => store.close() }
  Object.defineProperties(wrapped, {
    fault: { get: () => state.fault, set: (f: Fault) => (state.fault = f), enumerable: true },
    attempts: { get: () => state.attempts, enumerable: true },
  })
  return wrapped as Store & { fault: Fault; attempts: number }
}
