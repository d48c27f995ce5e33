import { context as api, trace, INVALID_SPAN_CONTEXT, SamplingDecision, SpanKind, TraceFlags, type Context, type Span, type SpanContext, type SpanOptions, type Tracer } from '@opentelemetry/api'
import type { Sampler } from './sampler.js'
import { SpanlensSpan } from './span.js'
import type { InstrumentationScope, Resource, SpanLimits, SpanProcessor } from './types.js'

export interface TracerParts {
  resource: Resource
  sampler: Sampler
  limits: SpanLimits
  ids: { generateTraceId(): string; generateSpanId(): string }
  processor: SpanProcessor
  /** What may leave the process of a string value about to be cut to the value length limit (SpanParts.redact). */
  redact?: ((key: string, value: string) => string) | undefined
}

// The key @opentelemetry/core's suppressTracing() sets (createContextKey is Symbol.for of its description).
const SUPPRESS_TRACING = Symbol.for('OpenTelemetry SDK Context Key SUPPRESS_TRACING')

/** True when instrumentation is told to stay quiet in `ctx` (an exporter's own requests, for one). */
function isTracingSuppressed(ctx: Context): boolean {
  return ctx.getValue(SUPPRESS_TRACING) === true
}

/** A new span's ids, parent and sampling decision. */
export interface Placement {
  spanContext: SpanContext
  parentSpanContext: SpanContext | undefined
  decision: SamplingDecision
}

/**
 * The tracer of the SDK's own provider (provider.ts): spans start as
 * @opentelemetry/sdk-trace's Tracer starts them (suppressed tracing gives an
 * invalid non-recording span, a sampled-out one a non-recording span that
 * carries the context on), as SpanlensSpan.
 */
export class SpanlensTracer implements Tracer {
  constructor(
    readonly scope: InstrumentationScope,
    readonly parts: TracerParts,
  ) {}

  /**
   * Where a span under `parent` goes, or undefined when tracing is suppressed there; shared with
   * span-record.ts, which writes ended LLM spans directly.
   */
  place(parent: Context): Placement | undefined {
    if (isTracingSuppressed(parent)) return undefined
    const parentContext = trace.getSpanContext(parent)
    const valid = parentContext !== undefined && trace.isSpanContextValid(parentContext)
    const spanId = this.parts.ids.generateSpanId()
    const traceId = valid ? parentContext.traceId : this.parts.ids.generateTraceId()
    const decision = this.parts.sampler(valid ? parentContext : undefined, traceId)
    return {
      spanContext: {
        traceId,
        spanId,
        traceFlags: decision === SamplingDecision.RECORD_AND_SAMPLED ? TraceFlags.SAMPLED : TraceFlags.NONE,
        traceState: valid ? parentContext.traceState : undefined,
      },
      parentSpanContext: valid ? parentContext : undefined,
      decision,
    }
  }

  startSpan(name: string, options: SpanOptions = {}, ctx: Context = api.active()): Span {
    const parent = options.root ? trace.deleteSpan(ctx) : ctx
    const at = this.place(parent)
    if (!at) return trace.wrapSpanContext(INVALID_SPAN_CONTEXT)
    if (at.decision === SamplingDecision.NOT_RECORD) return trace.wrapSpanContext(at.spanContext)
    return new SpanlensSpan({
      name,
      kind: options.kind ?? SpanKind.INTERNAL,
      spanContext: at.spanContext,
      parentSpanContext: at.parentSpanContext,
      attributes: options.attributes,
      links: options.links,
      startTime: options.startTime,
      parentContext: parent,
      resource: this.parts.resource,
      scope: this.scope,
      limits: this.parts.limits,
      processor: this.parts.processor,
      redact: this.parts.redact,
    })
  }

  startActiveSpan<F extends (span: Span) => unknown>(name: string, fn: F): ReturnType<F>
  startActiveSpan<F extends (span: Span) => unknown>(name: string, options: SpanOptions, fn: F): ReturnType<F>
  startActiveSpan<F extends (span: Span) => unknown>(name: string, options: SpanOptions, ctx: Context, fn: F): ReturnType<F>
  startActiveSpan<F extends (span: Span) => unknown>(name: string, a?: SpanOptions | F, b?: Context | F, c?: F): ReturnType<F> | undefined {
    let options: SpanOptions | undefined
    let ctx: Context | undefined
    let fn: F
    if (typeof a === 'function') fn = a
    else if (typeof b === 'function') {
      options = a
      fn = b
    } else if (typeof c === 'function') {
      options = a
      ctx = b
      fn = c
    } else return undefined
    const parent = ctx ?? api.active()
    const span = this.startSpan(name, options, parent)
    return api.with(trace.setSpan(parent, span), fn as (span: Span) => ReturnType<F>, undefined, span)
  }
}
