import { SamplingDecision, SpanKind, SpanStatusCode, type Attributes, type Context, type HrTime, type Link, type SpanContext, type SpanStatus } from '@opentelemetry/api'
import { hrTimeAt, hrTimeDuration, spanClock } from '../trace/time.js'
import type { SpanlensTracer } from '../trace/tracer.js'
import type { FinishedSpan, InstrumentationScope, Resource, TimedEvent } from '../trace/types.js'

/**
 * A standalone LLM call's span, written directly as the finished span
 * (ReadableSpan) that the tracer would have produced and ended: same ids,
 * sampling decision, parent, resource, scope, attributes and times, and the
 * same processor calls (onStart, then onEnd). Only the SDK's own provider
 * gets these: nothing can observe the span between its start and its end
 * there, as the call never enters its context (llm-span.ts). Creating and
 * ending a tracer span for it (sdk-trace-base's) cost ~45 µs of CPU per call in
 * the app benchmark (startSpan, the span, attribute sanitizing, the hrtime
 * conversions, the GC of its fields), on a span whose attributes the SDK
 * already checked.
 */

export interface SpanWriter {
  /**
   * Records the span of a call that ended OK: started and ended through the
   * processor, or dropped as the tracer would (sampled out, tracing
   * suppressed). False when the tracer must build it instead (span limits the
   * record does not apply). `attributes` becomes the span's. `startMs` and `endMs` are on the SDK's
   * clock: performance.now() plus the clock's offset as it was then (trace/time.ts).
   */
  write(name: string, attributes: Attributes, parent: Context, startMs: number, endMs: number): boolean
}

/** The writer for the SDK's own tracer, or none when span limits cut values (then the tracer builds every span). */
export function spanWriterFor(tracer: SpanlensTracer): SpanWriter | undefined {
  const { resource, limits, processor } = tracer.parts
  const scope = tracer.scope
  const countLimit = limits.attributeCountLimit
  // Values are never cut here: with a length limit set (OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT), the tracer builds the span.
  if (Number.isFinite(limits.attributeValueLengthLimit)) return undefined
  return {
    write(name, attributes, parent, startMs, endMs) {
      const at = tracer.place(parent)
      if (!at || at.decision === SamplingDecision.NOT_RECORD) return true
      // The clock follows the wall clock by its readings: this is one (a process that only calls LLMs has no
      // other). Its result is for the spans after this one: this one's times were read on the clock as it was.
      spanClock.sync(performance.now())
      const record = new SpanRecord(name, at.spanContext, at.parentSpanContext, attributes, hrTimeAt(startMs), hrTimeAt(endMs), resource, scope)
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

class SpanRecord implements FinishedSpan {
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
    readonly resource: Resource,
    readonly instrumentationScope: InstrumentationScope,
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
