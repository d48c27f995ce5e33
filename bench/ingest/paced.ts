import { writeFileSync } from 'node:fs'
import type { Sender } from './senders.js'

/**
 * Open-loop load at a fixed average rate with Poisson arrivals (exponential gaps),
 * like many independent exporters. autocannon's rate option sends each second's
 * whole quota back to back at the top of the second and then pauses, so its
 * latencies measure how fast a one-second burst drains, not latency at a rate.
 * Latency runs from each request's scheduled time, so a slow server cannot hide
 * queueing by delaying the next send (no coordinated omission).
 */
export interface PacedResult {
  sent: number
  ok: number
  non2xx: number
  /** The answers that were not 2xx / OK, by HTTP status code or gRPC status name. */
  byStatus: Record<string, number>
  errors: number
  latencyMs: { p50: number; p99: number; max: number; mean: number }
  /** Requests whose latency passed 50 and 100 ms. */
  over50: number
  over100: number
  /**
   * How many distinct seconds of the phase (by scheduled send time) hold a
   * request over 100 ms: a few stall episodes, or a tail spread everywhere.
   */
  secondsWithOver100: number
}

export async function pacedLoad(opts: {
  sender: Sender
  body: () => Buffer
  requestsPerSecond: number
  seconds: number
  seed?: number
  /** Keeps every request's send time and latency here, to line up with other samplers. */
  traceFile?: string
}): Promise<PacedResult> {
  let seed = opts.seed ?? 42
  const uniform = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648
    return (seed + 1) / 2147483649
  }
  /** [scheduled send time in ms since the phase began, latency ms] per request. */
  const timeline: [number, number][] = []
  let ok = 0
  let non2xx = 0
  const byStatus: Record<string, number> = {}
  let errors = 0
  const inFlight: Promise<void>[] = []
  const start = performance.now()
  const end = start + opts.seconds * 1000
  let next = start
  while (next < end) {
    const scheduled = next
    const wait = scheduled - performance.now()
    if (wait > 1) await new Promise((r) => setTimeout(r, wait))
    const body = opts.body()
    inFlight.push(
      opts.sender.send(body).then(
        (answer) => {
          timeline.push([scheduled - start, performance.now() - scheduled])
          if (answer.ok) ok++
          else {
            non2xx++
            byStatus[answer.status] = (byStatus[answer.status] ?? 0) + 1
          }
        },
        () => void errors++,
      ),
    )
    next += (-Math.log(uniform()) / opts.requestsPerSecond) * 1000
  }
  await Promise.all(inFlight)
  if (opts.traceFile) writeFileSync(opts.traceFile, JSON.stringify({ startedAt: performance.timeOrigin + start, requests: timeline }))
  const latencies = timeline.map(([, latency]) => latency).sort((a, b) => a - b)
  const at = (q: number) => Math.round(latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0)
  return {
    sent: inFlight.length,
    ok,
    non2xx,
    byStatus,
    errors,
    latencyMs: { p50: at(0.5), p99: at(0.99), max: Math.round(latencies.at(-1) ?? 0), mean: latencies.reduce((a, b) => a + b, 0) / Math.max(1, latencies.length) },
    over50: latencies.filter((l) => l > 50).length,
    over100: latencies.filter((l) => l > 100).length,
    secondsWithOver100: new Set(timeline.filter(([, l]) => l > 100).map(([t]) => Math.floor(t / 1000))).size,
  }
}
