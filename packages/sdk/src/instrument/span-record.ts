import { SamplingDecision, SpanKind, SpanStatusCode, trace, TraceFlags, type Attributes, type Context, type HrTime, type Link, type SpanContext, type SpanStatus, type Tracer } from '@opentelemetry/api'
import { hrTimeDuration, isTracingSuppressed } from '@opentelemetry/core'
import type { ReadableSpan, Sampler, SpanLimits, SpanProcessor, TimedEvent } from '@opentelemetry/sdk-trace-base'

/**
 * A standalone LLM call's span, written directly as the finished span
 * (ReadableSpan) that the tracer would have produced and ended: same ids,
 * sampling decision, parent, resource, scope, attributes and times, and the
 * same processor calls (onStart, then onEnd). Only the SDK's own provider
 * gets these: nothing can observe the span between its start and its end
 * there, as the call never enters its context (llm-span.ts). Creating and
 * ending a tracer span for it cost ~45 µs of CPU per call in the app benchmark
 * (startSpan, SpanImpl, attribute sanitizing, the hrtime conversions, the GC
 * of its fields), on a span whose attributes the SDK already checked.
 */

/** What the tracer of our private provider holds (sdk-trace-base 2.x `Tracer` fields). */
interface TracerParts {
  instrumentationScope: ReadableSpan['instrumentationScope']
  _sampler: Sampler
  _spanLimits: SpanLimits
  _resource: ReadableSpan['resource']
  _idGenerator: { generateTraceId(): string; generateSpanId(): string }
  _spanProcessor: SpanProcessor
}

export interface SpanWriter {
  /**
   * Records the span of a call that ended OK: started and ended through the
   * processors, or dropped as the tracer would (sampled out, tracing
   * suppressed). False when the tracer must build it instead (span limits the
   * record does not apply). `attributes` becomes the span's.
   */
  write(name: string, attributes: Attributes, parent: Context, startMs: number, endMs: number): boolean
}

/** The writer for `tracer`, when it is sdk-trace-base's and its parts are where 2.x keeps them. */
export function spanWriterFor(tracer: Tracer): SpanWriter | undefined {
  const t = tracer as Tracer & Partial<TracerParts>
  const { instrumentationScope: scope, _sampler: sampler, _spanLimits: limits, _resource: resource, _idGenerator: ids, _spanProcessor: processor } = t
  if (!scope || !sampler || !limits || !resource || !ids || !processor) return undefined
  const countLimit = limits.attributeCountLimit ?? 128
  // Values are never cut here: with a length limit set (OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT), the tracer builds the span.
  if (limits.attributeValueLengthLimit !== undefined && Number.isFinite(limits.attributeValueLengthLimit)) return undefined
  return {
    write(name, attributes, parent, startMs, endMs) {
      if (isTracingSuppressed(parent)) return true
      const parentContext = trace.getSpanContext(parent)
      const valid = parentContext !== undefined && trace.isSpanContextValid(parentContext)
      const traceId = valid ? parentContext.traceId : ids.generateTraceId()
      const spanId = ids.generateSpanId()
      const decision = sampler.shouldSample(parent, traceId, name, SpanKind.CLIENT, attributes, NO_LINKS)
      if (decision.decision === SamplingDecision.NOT_RECORD) return true
      if (decision.attributes) Object.assign(attributes, decision.attributes)
      const spanContext: SpanContext = {
        traceId,
        spanId,
        traceFlags: decision.decision === SamplingDecision.RECORD_AND_SAMPLED ? TraceFlags.SAMPLED : TraceFlags.NONE,
        traceState: decision.traceState ?? (valid ? parentContext.traceState : undefined),
      }
      // As the tracer's span converts performance.now() times: corrected for the drift between that clock and Date.
      const offset = Date.now() - (performance.now() + performance.timeOrigin)
      const record = new SpanRecord(name, spanContext, valid ? parentContext : undefined, attributes, hrTimeAt(startMs + offset), hrTimeAt(endMs + offset), resource, scope)
      processor.onStart(record as never, parent)
      // Past the count limit (withContext metadata can add many), the tracer's span drops attributes: let it.
      let count = 0
      for (const _ in attributes) count++
      if (count > countLimit) return false
      processor.onEnd(record)
      return true
    },
  }
}

// What every record shares: a span written here has no links, no events and an unset status. Frozen, as
// one object serves every span; per span they were three of the record's ten allocations.
const NO_LINKS: Link[] = Object.freeze([]) as unknown as Link[]
const NO_EVENTS: TimedEvent[] = Object.freeze([]) as unknown as TimedEvent[]
const UNSET: SpanStatus = Object.freeze({ code: SpanStatusCode.UNSET })

// @opentelemetry/core's hrTime(ms) is addHrTimes(millisToHrTime(performance.timeOrigin), millisToHrTime(ms)):
// three arrays per time, two of them for the origin, which does not change. The same arithmetic, one array.
const ORIGIN_S = Math.trunc(performance.timeOrigin / 1000)
const ORIGIN_NS = Math.round((performance.timeOrigin % 1000) * 1_000_000)

/** `hrTime(ms)` of @opentelemetry/core (ms since performance.timeOrigin → [epoch s, ns]), to the same nanosecond. */
export function hrTimeAt(ms: number): HrTime {
  let s = ORIGIN_S + Math.trunc(ms / 1000)
  let ns = ORIGIN_NS + Math.round((ms % 1000) * 1_000_000)
  if (ns >= 1_000_000_000) {
    ns -= 1_000_000_000
    s += 1
  }
  return [s, ns]
}

class SpanRecord implements ReadableSpan {
  readonly kind = SpanKind.CLIENT
  readonly status = UNSET
  readonly links = NO_LINKS
  readonly events = NO_EVENTS
  readonly ended = true
  readonly droppedAttributesCount = 0
  readonly droppedEventsCount = 0
  readonly droppedLinksCount = 0

  constructor(
    readonly name: string,
    private readonly context: SpanContext,
    readonly parentSpanContext: SpanContext | undefined,
    readonly attributes: Attributes,
    readonly startTime: HrTime,
    readonly endTime: HrTime,
    readonly resource: ReadableSpan['resource'],
    readonly instrumentationScope: ReadableSpan['instrumentationScope'],
  ) {}

  /** Computed when read: the exporter never reads it. */
  get duration(): HrTime {
    return hrTimeDuration(this.startTime, this.endTime)
  }

  spanContext(): SpanContext {
    return this.context
  }

  /** The span processor API passes spans to onStart as writable: what it sets lands in the attributes. */
  setAttribute(key: string, value: Attributes[string]): this {
    if (value !== undefined) this.attributes[key] = value
    return this
  }

  setAttributes(attributes: Attributes): this {
    for (const k in attributes) this.setAttribute(k, attributes[k])
    return this
  }
}
