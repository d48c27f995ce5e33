import { context, createContextKey, type Context, type HrTime } from '@opentelemetry/api'
import { emptyResource } from '@opentelemetry/resources'
import { BasicTracerProvider, type ReadableSpan, type Span, type SpanProcessor } from '@opentelemetry/sdk-trace-base'

/**
 * Dates a workload in the past, so that a 40-second demo leaves two days of
 * history behind (time-window drift, SLO burn windows and the console's charts
 * need spans spread over hours).
 *
 * The SDK's spans (wrapOpenAI, observe, span) take no start time, so the demo
 * gives `init({ tracerProvider })` a provider of its own whose first processor
 * moves each new span's start by the shift found in its parent context. The
 * OpenTelemetry Span computes its end and event times as start + elapsed
 * (performance clock), so durations, TTFT and events stay exactly as measured.
 */
const SHIFT_MS = createContextKey('spanlens-demo.shift-ms')

/** Runs `fn` with every span started inside it (children included) dated as if it began at `time` (epoch ms, not in the future). */
export function backdated<T>(time: number, fn: () => T): T {
  const shift = Math.min(0, Math.round(time - Date.now()))
  return context.with(context.active().setValue(SHIFT_MS, shift), fn)
}

class BackdateProcessor implements SpanProcessor {
  onStart(span: Span, parentContext: Context): void {
    const shift = parentContext.getValue(SHIFT_MS)
    if (typeof shift !== 'number' || shift === 0) return
    const [s, ns] = span.startTime
    const nanos = BigInt(s) * 1_000_000_000n + BigInt(ns) + BigInt(shift) * 1_000_000n
    // startTime is readonly in the type only; nothing has read it yet (this processor runs first).
    ;(span as { startTime: HrTime }).startTime = [Number(nanos / 1_000_000_000n), Number(nanos % 1_000_000_000n)]
  }
  onEnd(_span: ReadableSpan): void {}
  forceFlush(): Promise<void> {
    return Promise.resolve()
  }
  shutdown(): Promise<void> {
    return Promise.resolve()
  }
}

/**
 * A provider for `init({ tracerProvider })`: the SDK appends its own processor
 * after ours. An empty resource lets the SDK fill in service.name, release and
 * environment from its init options.
 */
export function backdatingProvider(): BasicTracerProvider {
  return new BasicTracerProvider({ resource: emptyResource(), spanProcessors: [new BackdateProcessor()] })
}
