/**
 * The span attribute names the normalizer reads (conventions.ts, content.ts and
 * normalize.ts): the namespaces of the GenAI conventions it maps, and the general
 * OpenTelemetry names it takes a field from. The decoders keep these past the
 * attribute cap (otlp/span-attributes.ts), so a span's model, usage and content do not
 * depend on where they sit in a long list. conventions-fuzz.unit.test.ts checks that
 * every name the normalizer looks up is one of them.
 */
const NAMESPACES = ['gen_ai.', 'llm.', 'ai.', 'langfuse.', 'traceloop.', 'openinference.', 'spanlens.', 'embedding.', 'input.', 'output.']
const NAMES = new Set(['session.id', 'user.id', 'enduser.id', 'error.type', 'deployment.environment.name', 'tag.tags', 'anthropic.message.stop_reason'])

export function isConventionKey(key: string): boolean {
  if (NAMES.has(key)) return true
  for (const ns of NAMESPACES) if (key.startsWith(ns)) return true
  return false
}
