import type { ClickHouseClient } from '@clickhouse/client'
import type { Store } from '../../src/store/index.js'

export type Fault = 'down' | 'commit-then-fail' | 'ok'

/**
 * Wraps the real embedded store and injects faults into inserts (client.exec):
 * 'down' fails before ClickHouse sees the rows; 'commit-then-fail' lets the
 * insert commit and then throws, as when a response is lost on the network.
 */
export function faultyStore(store: Store): Store & { fault: Fault; attempts: number } {
  const state = { fault: 'ok' as Fault, attempts: 0 }
  const client = new Proxy(store.client, {
    get(target, prop, receiver) {
      if (prop === 'exec') {
        return async (params: Parameters<ClickHouseClient['exec']>[0]) => {
          state.attempts++
          if (state.fault === 'down') throw Object.assign(new Error('injected: connection refused'), { code: 'ECONNREFUSED' })
          const result = await target.exec(params)
          if (state.fault === 'commit-then-fail') {
            result.stream.resume()
            throw Object.assign(new Error('injected: response lost after commit'), { code: 'ECONNRESET' })
          }
          return result
        }
      }
      const value = Reflect.get(target, prop, receiver) as unknown
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value
    },
  })
  const wrapped = { ...store, client, close: () => store.close() }
  Object.defineProperties(wrapped, {
    fault: { get: () => state.fault, set: (f: Fault) => (state.fault = f), enumerable: true },
    attempts: { get: () => state.attempts, enumerable: true },
  })
  return wrapped as Store & { fault: Fault; attempts: number }
}
