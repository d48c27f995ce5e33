import type { Tracer, TracerOptions, TracerProvider } from '@opentelemetry/api'
import { SpanlensTracer, type TracerParts } from './tracer.js'

/**
 * The SDK's own tracer provider, used when the app registers none: never made
 * global, so the app's OpenTelemetry setup stays its own. One tracer per
 * (name, version, schema URL), as OpenTelemetry's TracerProvider keeps them.
 * The SDK's only tracing dependency is then @opentelemetry/api.
 */
export class SpanlensTracerProvider implements TracerProvider {
  private readonly tracers = new Map<string, SpanlensTracer>()

  constructor(private readonly parts: TracerParts) {}

  getTracer(name: string, version?: string, options?: TracerOptions): Tracer {
    return this.tracerFor(name, version, options)
  }

  tracerFor(name: string, version?: string, options?: TracerOptions): SpanlensTracer {
    const key = `${name}@${version ?? ''}:${options?.schemaUrl ?? ''}`
    let tracer = this.tracers.get(key)
    if (!tracer) {
      tracer = new SpanlensTracer({ name, version, schemaUrl: options?.schemaUrl }, this.parts)
      this.tracers.set(key, tracer)
    }
    return tracer
  }
}
