import type { Sender } from './senders.js'

/** What the max-load phase reports, whichever client made the load. */
export interface MaxLoad {
  ok: number
  notOk: number
  /** The answers that were not 2xx / OK, by HTTP status code or gRPC status name. */
  byStatus: Record<string, number>
  errors: number
  latencyMs: { p50: number; p99: number }
}

/**
 * Closed-loop load, as autocannon makes over HTTP: `connections` workers, each
 * with one request in flight on its own connection, the next sent when the last
 * is answered, for `seconds`. Used for OTLP/gRPC, which autocannon does not speak.
 */
export async function closedLoop(opts: { sender: Sender; connections: number; seconds: number; body: () => Buffer }): Promise<MaxLoad> {
  const latencies: number[] = []
  const result: MaxLoad = { ok: 0, notOk: 0, byStatus: {}, errors: 0, latencyMs: { p50: 0, p99: 0 } }
  const end = performance.now() + opts.seconds * 1000
  const worker = async (lane: number) => {
    while (performance.now() < end) {
      const sent = performance.now()
      try {
        const answer = await opts.sender.send(opts.body(), lane)
        latencies.push(performance.now() - sent)
        if (answer.ok) result.ok++
        else {
          result.notOk++
          result.byStatus[answer.status] = (result.byStatus[answer.status] ?? 0) + 1
        }
      } catch {
        result.errors++
      }
    }
  }
  await Promise.all(Array.from({ length: opts.connections }, (_, lane) => worker(lane)))
  latencies.sort((a, b) => a - b)
  const at = (q: number) => Math.round(latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0)
  result.latencyMs = { p50: at(0.5), p99: at(0.99) }
  return result
}
