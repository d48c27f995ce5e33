import type { Tracer } from '@opentelemetry/api'
import type { ResolvedConfig } from './config.js'
import type { OtlpExporter } from './export/exporter.js'
import type { EndQueue } from './instrument/end-queue.js'

/**
 * The live SDK after init(): read by every wrapper on each call. `undefined`
 * before init (or after shutdown) makes all wrappers pure pass-throughs.
 */
export interface Runtime {
  config: ResolvedConfig
  tracer: Tracer
  exporter: OtlpExporter
  mode: 'standalone' | 'attached'
  /** Standalone LLM calls whose spans are built after the call (llm-span.ts); drained by flush(). */
  ends: EndQueue
  dispose: () => Promise<void>
}

let current: Runtime | undefined

export function getRuntime(): Runtime | undefined {
  return current
}

export function setRuntime(rt: Runtime | undefined): void {
  current = rt
}
