import type { Attributes, Context, HrTime, Link, Span, SpanContext, SpanKind, SpanStatus } from '@opentelemetry/api'

/**
 * The shapes spans take once they leave a tracer: what the SDK's processor and
 * exporter read, and what `spanFilter` receives. Structural subsets of
 * `@opentelemetry/sdk-trace-base`'s `ReadableSpan` and `SpanProcessor` (1.x
 * and 2.x), so an app's provider hands its spans to the SDK's processor as is
 * and the SDK needs no tracing SDK package of its own at run time.
 */

export interface Resource {
  readonly attributes: Attributes
}

export interface InstrumentationScope {
  readonly name: string
  readonly version?: string
  readonly schemaUrl?: string
}

export interface TimedEvent {
  time: HrTime
  name: string
  attributes?: Attributes
  droppedAttributesCount?: number
}

/** An ended span as an exporter reads it. */
export interface FinishedSpan {
  readonly name: string
  readonly kind: SpanKind
  spanContext(): SpanContext
  readonly parentSpanContext?: SpanContext
  readonly startTime: HrTime
  readonly endTime: HrTime
  readonly status: SpanStatus
  readonly attributes: Attributes
  readonly links: Link[]
  readonly events: TimedEvent[]
  readonly duration: HrTime
  readonly ended: boolean
  readonly resource: Resource
  readonly instrumentationScope: InstrumentationScope
  readonly droppedAttributesCount: number
  readonly droppedEventsCount: number
  readonly droppedLinksCount: number
}

/** A started span as a processor's onStart sees it: readable, and still writable. */
export type StartedSpan = Span & FinishedSpan

export interface SpanProcessor {
  onStart(span: StartedSpan, parentContext: Context): void
  onEnd(span: FinishedSpan): void
  forceFlush(): Promise<void>
  shutdown(): Promise<void>
}

/** What one span may hold; past a count the oldest event or link (or the new attribute) is dropped, as OpenTelemetry does. */
export interface SpanLimits {
  attributeCountLimit: number
  /** Characters kept of a string value (each string of an array); Infinity keeps all. */
  attributeValueLengthLimit: number
  eventCountLimit: number
  linkCountLimit: number
  attributePerEventCountLimit: number
  attributePerLinkCountLimit: number
}
