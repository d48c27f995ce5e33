import type { HrTime, TimeInput } from '@opentelemetry/api'

/**
 * Span times as OpenTelemetry JS computes them (@opentelemetry/core 2.x), to
 * the same nanosecond: the SDK's spans must read as the tracing SDK's would.
 */

const NS_PER_S = 1_000_000_000

/** Epoch milliseconds → [s, ns]. */
export function millisToHrTime(epochMs: number): HrTime {
  return [Math.trunc(epochMs / 1000), Math.round((epochMs % 1000) * 1_000_000)]
}

// hrTime(ms) of @opentelemetry/core adds millisToHrTime(performance.timeOrigin) to millisToHrTime(ms): three
// arrays per time, two of them for the origin, which does not change. The same arithmetic, one array.
const ORIGIN_S = Math.trunc(performance.timeOrigin / 1000)
const ORIGIN_NS = Math.round((performance.timeOrigin % 1000) * 1_000_000)

/** Milliseconds since performance.timeOrigin → [epoch s, ns]. */
export function hrTimeAt(ms: number): HrTime {
  let s = ORIGIN_S + Math.trunc(ms / 1000)
  let ns = ORIGIN_NS + Math.round((ms % 1000) * 1_000_000)
  if (ns >= NS_PER_S) {
    ns -= NS_PER_S
    s += 1
  }
  return [s, ns]
}

export function addHrTimes(a: HrTime, b: HrTime): HrTime {
  const out: HrTime = [a[0] + b[0], a[1] + b[1]]
  if (out[1] >= NS_PER_S) {
    out[1] -= NS_PER_S
    out[0] += 1
  }
  return out
}

export function hrTimeDuration(start: HrTime, end: HrTime): HrTime {
  let s = end[0] - start[0]
  let ns = end[1] - start[1]
  if (ns < 0) {
    s -= 1
    ns += NS_PER_S
  }
  return [s, ns]
}

function isHrTime(v: unknown): v is HrTime {
  return Array.isArray(v) && v.length === 2 && typeof v[0] === 'number' && typeof v[1] === 'number'
}

export function isTimeInput(v: unknown): v is TimeInput {
  return isHrTime(v) || typeof v === 'number' || v instanceof Date
}

/** How far Date.now() runs ahead of performance.timeOrigin + performance.now(), read now (the two clocks drift apart). */
export function clockOffset(): number {
  return Date.now() - (performance.now() + performance.timeOrigin)
}

/**
 * A time given to a span: a number no later than performance.now() is a
 * performance timestamp (corrected by the span's clock offset), a larger one
 * epoch milliseconds; a Date, or an HrTime as is. Undefined for no input.
 */
export function fromTimeInput(input: unknown, offset: number): HrTime | undefined {
  if (typeof input === 'number') return input <= performance.now() ? hrTimeAt(input + offset) : millisToHrTime(input)
  if (input instanceof Date) return millisToHrTime(input.getTime())
  if (isHrTime(input)) return input
  return undefined
}
