/**
 * The attribute names the normalizer reads, per list: of a span (conventions.ts,
 * content.ts and normalize.ts), the namespaces of the GenAI conventions it maps and
 * the general OpenTelemetry names it takes a field from; of a log record, those and
 * `event.name` (logs.ts, content.ts); of a resource, the names a row's service,
 * environment and release come from (conventions.ts, normalize.ts, logs.ts,
 * metrics.ts). The decoders keep these past the attribute cap (otlp/attribute-cap.ts),
 * so a span's model, usage and content, a GenAI event's message and a service's name
 * do not depend on where they sit in a long list. conventions-fuzz.unit.test.ts checks
 * that every name the normalizer looks up is one of them.
 */
const NAMESPACES = ['gen_ai.', 'llm.', 'ai.', 'langfuse.', 'traceloop.', 'openinference.', 'spanlens.', 'embedding.', 'input.', 'output.']
const NAMES = new Set(['session.id', 'user.id', 'enduser.id', 'error.type', 'deployment.environment.name', 'tag.tags', 'anthropic.message.stop_reason'])
export const RESOURCE_CONVENTION_KEYS: readonly string[] = ['service.name', 'service.version', 'deployment.environment.name', 'deployment.environment', 'langfuse.environment', 'langfuse.release']
const RESOURCE_NAMES = new Set(RESOURCE_CONVENTION_KEYS)

export function isConventionKey(key: string): boolean {
  if (NAMES.has(key)) return true
  for (const ns of NAMESPACES) if (key.startsWith(ns)) return true
  return false
}

export function isLogConventionKey(key: string): boolean {
  return key === 'event.name' || isConventionKey(key)
}

export function isResourceConventionKey(key: string): boolean {
  return RESOURCE_NAMES.has(key)
}
