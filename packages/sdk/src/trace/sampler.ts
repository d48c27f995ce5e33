import { SamplingDecision, TraceFlags, isValidTraceId, type SpanContext } from '@opentelemetry/api'
import type { SpanLimits } from './types.js'

/**
 * The SDK's own provider samples and limits spans as OpenTelemetry's tracing
 * SDK does from the same environment variables (OTEL_TRACES_SAMPLER,
 * OTEL_TRACES_SAMPLER_ARG, OTEL_SPAN_*_LIMIT, OTEL_ATTRIBUTE_*_LIMIT), with
 * the same defaults: parent-based always-on, 128 of everything, values whole.
 * A bad value is warned about and its default used, as OpenTelemetry does:
 * the variables are shared with every OpenTelemetry component of the app.
 * `sampleRate` (processor.ts) applies on top, per trace id.
 */

export type Sampler = (parent: SpanContext | undefined, traceId: string) => SamplingDecision

const SAMPLERS = ['always_on', 'always_off', 'traceidratio', 'parentbased_always_on', 'parentbased_always_off', 'parentbased_traceidratio'] as const
type SamplerName = (typeof SAMPLERS)[number]

export interface TracingSettings {
  sampler: SamplerName
  ratio: number
  limits: SpanLimits
  /** What was wrong in the environment, said once the SDK's logger is set. */
  warnings: string[]
}

type Env = Record<string, string | undefined>

export function tracingSettings(env: Env): TracingSettings {
  const warnings: string[] = []
  const number = (name: string): number | undefined => {
    const raw = env[name]?.trim()
    if (raw === undefined || raw === '') return undefined
    const n = Number(raw)
    if (Number.isNaN(n)) {
      warnings.push(`${name}=${JSON.stringify(env[name])} is not a number; ignored`)
      return undefined
    }
    return n
  }
  const valueLength = number('OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT') ?? number('OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT') ?? Infinity
  const attributeCount = number('OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT') ?? number('OTEL_ATTRIBUTE_COUNT_LIMIT') ?? 128
  const limits: SpanLimits = {
    attributeCountLimit: attributeCount,
    attributeValueLengthLimit: valueLength,
    eventCountLimit: number('OTEL_SPAN_EVENT_COUNT_LIMIT') ?? 128,
    linkCountLimit: number('OTEL_SPAN_LINK_COUNT_LIMIT') ?? 128,
    attributePerEventCountLimit: number('OTEL_SPAN_ATTRIBUTE_PER_EVENT_COUNT_LIMIT') ?? 128,
    attributePerLinkCountLimit: number('OTEL_SPAN_ATTRIBUTE_PER_LINK_COUNT_LIMIT') ?? 128,
  }
  let sampler: SamplerName = 'parentbased_always_on'
  const name = env.OTEL_TRACES_SAMPLER?.trim()
  if (name) {
    if ((SAMPLERS as readonly string[]).includes(name)) sampler = name as SamplerName
    else warnings.push(`OTEL_TRACES_SAMPLER=${JSON.stringify(name)} is not one of ${SAMPLERS.join(', ')}; using parentbased_always_on`)
  }
  let ratio = 1
  if (sampler.endsWith('traceidratio')) {
    const arg = number('OTEL_TRACES_SAMPLER_ARG')
    // Unset; a value that is not a number was already said.
    if (arg === undefined) {
      if (!env.OTEL_TRACES_SAMPLER_ARG?.trim()) warnings.push('OTEL_TRACES_SAMPLER_ARG is not set; using 1')
    }
    else if (arg < 0 || arg > 1) warnings.push(`OTEL_TRACES_SAMPLER_ARG=${arg} is outside [0, 1]; using 1`)
    else ratio = arg
  }
  return { sampler, ratio, limits, warnings }
}

const { RECORD_AND_SAMPLED: SAMPLED, NOT_RECORD } = SamplingDecision

export function samplerFor(settings: Pick<TracingSettings, 'sampler' | 'ratio'>): Sampler {
  const root = rootSampler(settings.sampler, settings.ratio)
  if (!settings.sampler.startsWith('parentbased_')) return (_parent, traceId) => root(traceId)
  // A valid parent decides (sampled → sampled, else not recorded), local or remote; a root span asks `root`.
  return (parent, traceId) => (parent ? (parent.traceFlags & TraceFlags.SAMPLED ? SAMPLED : NOT_RECORD) : root(traceId))
}

function rootSampler(name: SamplerName, ratio: number): (traceId: string) => SamplingDecision {
  if (name === 'always_off' || name === 'parentbased_always_off') return () => NOT_RECORD
  if (!name.endsWith('traceidratio') || ratio >= 1) return () => SAMPLED
  const bound = Math.floor(ratio * 0xffffffff)
  return (traceId) => (isValidTraceId(traceId) && accumulate(traceId) < bound ? SAMPLED : NOT_RECORD)
}

/** The four 32-bit words of a trace id XORed: OpenTelemetry JS's TraceIdRatioBasedSampler, so both keep the same traces. */
function accumulate(traceId: string): number {
  let acc = 0
  for (let i = 0; i < 32; i += 8) acc = (acc ^ parseInt(traceId.slice(i, i + 8), 16)) >>> 0
  return acc
}
