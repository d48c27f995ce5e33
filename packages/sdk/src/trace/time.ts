import type { HrTime, TimeInput } from '@opentelemetry/api'

/**
 * Span times as OpenTelemetry JS computes them (@opentelemetry/core 2.x), to
 * the same nanosecond: the SDK's spans must read as the tracing SDK's would.
 */

const NS_PER_S = 1_000_000_000

/** Epoch milliseconds → [s, ns]. */
function millisToHrTime(epochMs: number): HrTime {
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

/**
 * The SDK's one clock for span times: the monotonic, sub-millisecond performance.now() from
 * performance.timeOrigin, as OpenTelemetry's hrTime() reads it, plus an offset that follows Date.now()
 * where the two clocks drift apart (the monotonic clock stops while the machine sleeps; NTP slews and
 * steps the wall clock). Every span time, start, end or event, is `hrTimeAt(performance.now() + offset)`.
 *
 * Date.now() counts whole milliseconds, so one reading only bounds the offset to [low, low + 1 ms]
 * with low = Date.now() − (timeOrigin + performance.now()). Taking low afresh for each span, as
 * sdk-trace-base does, stamps each span up to 1 ms early by a different amount, so spans made within
 * a millisecond of each other come out of order (a child before its parent, a tool after the call
 * that used its result). Here the offset starts at 0 (Node sets timeOrigin from the wall clock at
 * start: the two agree to a few microseconds) and a reading moves it only when it shows the offset
 * outside those bounds, towards them by at most SLEW of the monotonic time since the previous
 * reading: a later time is never stamped earlier. A gap over STEP_MS (the wall clock was set, the
 * machine slept) is closed at once.
 */
export const SLEW = 0.001
export const STEP_MS = 1000

export interface OffsetClock {
  /** Reads the wall clock once: the offset for `perfNow` (performance.now() just read), moved as the reading allows. */
  sync(perfNow: number): number
  /** The offset as of the last sync, without reading the wall clock. */
  current(): number
}

export function offsetClock(wallNow: () => number, timeOrigin: number): OffsetClock {
  let offset = 0
  let lastReading = 0
  return {
    sync(perfNow) {
      const low = wallNow() - (timeOrigin + perfNow)
      const gap = offset < low ? low - offset : offset > low + 1 ? low + 1 - offset : 0
      if (gap !== 0) offset += Math.abs(gap) > STEP_MS ? gap : Math.sign(gap) * Math.min(Math.abs(gap), SLEW * Math.max(0, perfNow - lastReading))
      lastReading = perfNow
      return offset
    },
    current: () => offset,
  }
}

/** The clock every span of the SDK is timed by; synced where a span starts or an LLM call's span is written. */
export const spanClock = offsetClock(() => Date.now(), performance.timeOrigin) // Date.now looked up per reading: a test moves the wall clock

/**
 * A time given to a span: a number no later than performance.now() is a
 * performance timestamp (put on the SDK's clock by `offset`), a larger one
 * epoch milliseconds; a Date, or an HrTime as is. Undefined for no input.
 */
export function fromTimeInput(input: unknown, offset: number): HrTime | undefined {
  if (typeof input === 'number') return input <= performance.now() ? hrTimeAt(input + offset) : millisToHrTime(input)
  if (input instanceof Date) return millisToHrTime(input.getTime())
  if (isHrTime(input)) return input
  return undefined
}
