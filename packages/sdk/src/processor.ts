import { trace, type Context } from '@opentelemetry/api'
import type { FinishedSpan, SpanProcessor, StartedSpan } from './trace/types.js'
import { contextAttributes, getSpanlensContext } from './context.js'
import { diag } from './diag.js'
import type { OtlpExporter } from './export/exporter.js'
import { ATTR } from './attributes.js'

export const SCOPE_NAME = '@spanlens/sdk'

/**
 * The one place spans meet Spanlens, whether they come from our own provider
 * or the app's: stamps `withContext` values at start, samples and filters at
 * end, and hands survivors to the exporter's queue (O(1), no I/O).
 */
export class SpanlensSpanProcessor implements SpanProcessor {
  // Children that duplicate one of our LLM spans (the Anthropic SDK's own call span).
  private duplicates = new WeakSet<object>()
  private threshold: number

  constructor(
    private exporter: OtlpExporter,
    sampleRate: number,
    private filter: ((span: FinishedSpan) => boolean) | undefined,
  ) {
    this.threshold = Math.floor(sampleRate * 0x1_0000_0000)
  }

  onStart(span: StartedSpan, parentContext: Context): void {
    try {
      const c = getSpanlensContext(parentContext)
      if (c) span.setAttributes(contextAttributes(c))
      if (span.instrumentationScope.name.startsWith('com.anthropic.sdk')) {
        const parent = trace.getSpan(parentContext) as Partial<FinishedSpan> | undefined
        if (parent?.instrumentationScope?.name === SCOPE_NAME && parent.attributes?.[ATTR.kind] === 'llm') {
          this.duplicates.add(span)
        }
      }
    } catch (err) {
      diag.instrumentationError('span processor start', err)
    }
  }

  onEnd(span: FinishedSpan): void {
    try {
      if (this.duplicates.has(span)) return
      if (!this.sampled(span.spanContext().traceId)) return
      if (this.filter && !this.filter(span)) return
      this.exporter.enqueue(span)
    } catch (err) {
      diag.instrumentationError('span processor end', err)
    }
  }

  // Decided from the trace id so every span of a trace gets the same answer.
  private sampled(traceId: string): boolean {
    if (this.threshold >= 0x1_0000_0000) return true
    return parseInt(traceId.slice(-8), 16) < this.threshold
  }

  async forceFlush(): Promise<void> {
    await this.exporter.flush()
  }

  async shutdown(): Promise<void> {
    await this.exporter.shutdown()
  }
}
