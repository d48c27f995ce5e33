import type { Tracer } from '@opentelemetry/api'
import type { ResolvedConfig } from './config.js'
import type { OtlpExporter } from './export/exporter.js'
import type { LlmCall } from './instrument/llm-span.js'
import type { ScoreSender } from './score-sender.js'
import type { SoonBatch } from './soon-batch.js'
import type { SpanWriter } from './instrument/span-record.js'

/**
 * The live SDK after init(): read by every wrapper on each call. `undefined`
 * before init (or after shutdown) makes all wrappers pure pass-throughs.
 */
export interface Runtime {
  config: ResolvedConfig
  tracer: Tracer
  exporter: OtlpExporter
  mode: 'standalone' | 'attached'
  /** Where score() posts, and the scores in flight that flush() and shutdown() wait for. */
  scores: ScoreSender
  /** Standalone LLM calls that ended, described, recorded and exported together a little later; drained by flush(). */
  ends: SoonBatch<LlmCall>
  /** Standalone: writes the span of a call that ended OK without the tracer (span-record.ts). */
  spanWriter: SpanWriter | undefined
  /** What may leave the process of a value named `key` (redact.ts); undefined when redaction is off. */
  redact: ((key: string, value: string) => string) | undefined
  /**
   * The value of the content attribute `key`: JSON, cut at maxContentLength, redacted over what the cut
   * keeps (content.ts). `more`: `value` is a string that is only the start of the content.
   */
  content: (key: string, value: unknown, more?: boolean) => string
  /**
   * `content` for an LLM request's or response's content, serialized whole: its client serialized or parsed
   * all of it. `more`: a streamed response whose text was cut while it streamed (instrument/stream-text.ts).
   */
  payload: (key: string, value: unknown, more?: boolean) => string
  /** Flushes and stops; whether everything was sent. */
  dispose: () => Promise<boolean>
}

let current: Runtime | undefined

export function getRuntime(): Runtime | undefined {
  return current
}

export function setRuntime(rt: Runtime | undefined): void {
  current = rt
}
