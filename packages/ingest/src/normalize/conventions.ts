import type { OtlpSpan } from '../otlp/model.js'
import { type AttrReader, readCount } from './attrs.js'
import { messagesFinishReason, spanEventsFinishReason } from './genai-events.js'
import { isSpanKind, type SpanKind } from '@spanlens/query/span-kinds'

/**
 * The normalization table: for each canonical field, where each convention in
 * the wild keeps it, in precedence order (first usable value wins). Adding a
 * convention is adding rows here and a fixture under test/fixtures/otlp.
 *
 * Conventions: spanlens (our SDK), otel (OpenTelemetry GenAI semconv, current and
 * pre-1.37/1.28 names), openllmetry (Traceloop), openinference (Arize), vercel
 * (Vercel AI SDK `ai.*`), langfuse.
 */
export interface Source<T> {
  convention: string
  read: (a: AttrReader, span: OtlpSpan) => T | undefined
  /**
   * Attributes this source may carry over whole into input/output (content sources
   * only). Which of them it did for a span is in what it read (content.ts `Content`):
   * only those are stored once, there, and left out of the attribute map, so a value
   * the source could not use is still stored as an attribute.
   */
  consumes?: string[]
}

const str = (key: string, convention: string): Source<string> => ({ convention, read: (a) => a.str(key) })
const count = (key: string, convention: string): Source<number> => ({ convention, read: (a) => a.count(key) })
const amount = (key: string, convention: string): Source<number> => ({ convention, read: (a) => a.amount(key) })
const res = (key: string, convention: string): Source<string> => ({ convention, read: (a) => a.res(key) })
/** A count inside a JSON/kvlist usage object, e.g. langfuse.observation.usage_details.input */
const countInObj = (key: string, fields: string[], convention: string): Source<number> => ({
  convention,
  read: (a) => {
    const o = a.obj(key)
    if (!o) return undefined
    for (const f of fields) {
      const n = readCount(o[f])
      if (n !== undefined) return n
    }
    return undefined
  },
})

/** A non-empty string field of a JSON/kvlist object attribute, e.g. llm.invocation_parameters.model */
const strInObj = (key: string, field: string, convention: string): Source<string> => ({
  convention,
  read: (a) => {
    const v = a.obj(key)?.[field]
    return typeof v === 'string' && v !== '' ? v : undefined
  },
})

export function first<T>(sources: Array<Source<T>>, a: AttrReader, span: OtlpSpan): T | undefined {
  for (const s of sources) {
    const v = s.read(a, span)
    if (v !== undefined) return v
  }
  return undefined
}

const OPENINFERENCE_KIND: Record<string, SpanKind> = {
  LLM: 'llm',
  EMBEDDING: 'embedding',
  CHAIN: 'chain',
  RETRIEVER: 'retrieval',
  RERANKER: 'retrieval',
  TOOL: 'tool',
  AGENT: 'agent',
}
const TRACELOOP_KIND: Record<string, SpanKind> = { workflow: 'chain', task: 'chain', agent: 'agent', tool: 'tool' }
const LANGFUSE_KIND: Record<string, SpanKind> = {
  generation: 'llm',
  embedding: 'embedding',
  agent: 'agent',
  tool: 'tool',
  chain: 'chain',
  retriever: 'retrieval',
  span: 'chain',
  evaluator: 'other',
  guardrail: 'other',
  event: 'other',
}
const OPERATION_KIND: Record<string, SpanKind> = {
  chat: 'llm',
  text_completion: 'llm',
  generate_content: 'llm',
  completion: 'llm',
  embeddings: 'embedding',
  embedding: 'embedding',
  retrieval: 'retrieval',
  execute_tool: 'tool',
  invoke_agent: 'agent',
  create_agent: 'agent',
  invoke_workflow: 'chain',
  // Vercel AI SDK v7 groups one model call and its tools as a step.
  agent_step: 'chain',
}

/**
 * A table's entry for an attribute's value, its own entries only: plain indexing
 * finds Object.prototype's members for values such as "constructor" or "__proto__".
 */
const entry = <T>(table: Record<string, T>, key: string): T | undefined => (Object.hasOwn(table, key) ? table[key] : undefined)

const mapped = (key: string, table: Record<string, SpanKind>, convention: string, lower = false): Source<SpanKind> => ({
  convention,
  read: (a) => {
    const v = a.str(key)
    return v === undefined ? undefined : entry(table, lower ? v.toLowerCase() : v)
  },
})

/** Vercel AI SDK span names: the doGenerate/doStream inner spans are the model calls. */
function vercelKind(name: string): SpanKind | undefined {
  if (!name.startsWith('ai.')) return undefined
  if (/^ai\.(generateText|streamText|generateObject|streamObject)\.do(Generate|Stream)$/.test(name)) return 'llm'
  if (/^ai\.embed(Many)?\.doEmbed$/.test(name)) return 'embedding'
  if (name === 'ai.toolCall') return 'tool'
  if (/^ai\.(generateText|streamText|generateObject|streamObject|embed|embedMany)$/.test(name)) return 'chain'
  return undefined
}

export const KIND: Array<Source<SpanKind>> = [
  { convention: 'spanlens', read: (a) => { const v = a.str('spanlens.span.kind'); return v && isSpanKind(v) ? v : undefined } },
  mapped('openinference.span.kind', OPENINFERENCE_KIND, 'openinference'),
  mapped('langfuse.observation.type', LANGFUSE_KIND, 'langfuse', true),
  { convention: 'vercel', read: (a, span) => (a.str('ai.operationId') ? vercelKind(a.str('ai.operationId') as string) : undefined) ?? vercelKind(span.name) },
  mapped('traceloop.span.kind', TRACELOOP_KIND, 'openllmetry'),
  mapped('gen_ai.operation.name', OPERATION_KIND, 'otel'),
  mapped('llm.request.type', { chat: 'llm', completion: 'llm', embedding: 'embedding', rerank: 'retrieval' }, 'openllmetry'),
  { convention: 'otel', read: (a) => (a.str('gen_ai.tool.name') ? 'tool' : undefined) },
  { convention: 'otel', read: (a) => (a.str('gen_ai.request.model') || a.str('gen_ai.system') || a.str('gen_ai.provider.name') ? 'llm' : undefined) },
]

/** Vercel reports "openai.chat" / "anthropic.messages"; the provider is the first part. */
const vercelProvider: Source<string> = {
  convention: 'vercel',
  read: (a) => a.str('ai.model.provider')?.split('.')[0],
}

export const PROVIDER: Array<Source<string>> = [
  str('gen_ai.provider.name', 'otel'),
  str('gen_ai.system', 'otel'),
  str('llm.provider', 'openinference'),
  str('llm.system', 'openinference'),
  vercelProvider,
  str('llm.vendor', 'openllmetry'),
]

/**
 * "OpenAI" (OpenLLMetry <= 0.22), "openai.chat" (Vercel's gen_ai.system) → "openai".
 * Dotted names that are real providers (aws.bedrock, az.ai.openai) are kept.
 */
export function canonicalProvider(raw: string): string {
  return raw.toLowerCase().replace(/\.(chat|messages|completion|completions|responses|embedding|embeddings|text|image)$/, '')
}

const OPERATION_FROM_TYPE: Record<string, string> = { chat: 'chat', completion: 'text_completion', embedding: 'embeddings', rerank: 'rerank' }
export const OPERATION: Array<Source<string>> = [
  str('gen_ai.operation.name', 'otel'),
  { convention: 'openllmetry', read: (a) => { const t = a.str('llm.request.type'); return t ? (entry(OPERATION_FROM_TYPE, t) ?? t) : undefined } },
]

// OpenInference's llm.model_name and Langfuse's langfuse.observation.model.name hold the
// model the provider answered with (gpt-4o-mini-2024-07-18); OpenInference keeps the
// requested one only inside llm.invocation_parameters. They are the request model only
// when nothing names the request (a price lookup or a filter still needs a model).
export const REQUEST_MODEL: Array<Source<string>> = [
  str('gen_ai.request.model', 'otel'),
  str('llm.request.model', 'openllmetry'),
  strInObj('llm.invocation_parameters', 'model', 'openinference'),
  str('llm.request.model_name', 'openinference'),
  str('ai.model.id', 'vercel'),
  str('llm.model_name', 'openinference'),
  str('langfuse.observation.model.name', 'langfuse'),
  str('embedding.model_name', 'openinference'),
  str('gen_ai.response.model', 'otel'),
]

export const RESPONSE_MODEL: Array<Source<string>> = [
  str('gen_ai.response.model', 'otel'),
  str('llm.response.model', 'openllmetry'),
  str('llm.response.model_name', 'openinference'),
  str('ai.response.model', 'vercel'),
  str('llm.model_name', 'openinference'),
  str('langfuse.observation.model.name', 'langfuse'),
]

const USAGE = 'langfuse.observation.usage_details'

/** Anthropic's names for the cache parts of the input in a Langfuse usage object. */
const LANGFUSE_INPUT_PARTS = /^input_|^cache_(read|creation)_input_tokens$/

/**
 * Langfuse's usage_details are parts that add up to `total`: its OpenAI integration
 * (@langfuse/openai 5.11) sends `input` 15 and `output` 6 for a call of 23 in (8 of
 * them cached) and 9 out (3 reasoning), with `input_cached_tokens` 8 and
 * `output_reasoning_tokens` 3 beside them. Apps that copy the provider's counts send
 * `input` 23 with the same details, and a `total` of input + output: then `input`
 * already holds its details and is taken as it is.
 */
const langfuseUsage = (side: 'input' | 'output'): Source<number> => ({
  convention: 'langfuse',
  read: (a) => {
    const o = a.obj(USAGE)
    if (!o) return undefined
    const input = readCount(o.input)
    const output = readCount(o.output)
    const own = side === 'input' ? input : output
    if (own === undefined) return undefined
    const total = readCount(o.total)
    if (total !== undefined && total === (input ?? 0) + (output ?? 0)) return own
    let sum = own
    for (const key in o) {
      const part = side === 'input' ? LANGFUSE_INPUT_PARTS.test(key) : key.startsWith('output_')
      if (part) sum += readCount(o[key]) ?? 0
    }
    return sum
  },
})

/**
 * @traceloop/instrumentation-anthropic (0.27.0) copies the Messages API's
 * usage.input_tokens, which leaves out cache reads and writes, into
 * gen_ai.usage.input_tokens and sums its total from it: recorded 14 in where the
 * Anthropic SDK's own span of the same call says 1514 (1200 read, 300 written).
 * OpenTelemetry's input_tokens include them, and so does every row (cost.ts).
 */
const ANTHROPIC_WIRE_USAGE_SCOPES = new Set(['@traceloop/instrumentation-anthropic'])
const withAnthropicCache = (key: string): Source<number> => ({
  convention: 'openllmetry',
  read: (a, span) => {
    if (!ANTHROPIC_WIRE_USAGE_SCOPES.has(span.scopeName)) return undefined
    const n = a.count(key)
    if (n === undefined) return undefined
    return n + (first(CACHE_READ_TOKENS, a, span) ?? 0) + (first(CACHE_WRITE_TOKENS, a, span) ?? 0)
  },
})

export const INPUT_TOKENS: Array<Source<number>> = [
  withAnthropicCache('gen_ai.usage.input_tokens'),
  count('gen_ai.usage.input_tokens', 'otel'),
  count('gen_ai.usage.prompt_tokens', 'otel'),
  count('llm.token_count.prompt', 'openinference'),
  count('ai.usage.inputTokens', 'vercel'),
  count('ai.usage.promptTokens', 'vercel'),
  count('ai.usage.tokens', 'vercel'),
  count('llm.usage.prompt_tokens', 'openllmetry'),
  langfuseUsage('input'),
  countInObj(USAGE, ['prompt_tokens', 'input_tokens', 'promptTokens'], 'langfuse'),
]

export const OUTPUT_TOKENS: Array<Source<number>> = [
  count('gen_ai.usage.output_tokens', 'otel'),
  count('gen_ai.usage.completion_tokens', 'otel'),
  count('llm.token_count.completion', 'openinference'),
  count('ai.usage.outputTokens', 'vercel'),
  count('ai.usage.completionTokens', 'vercel'),
  count('llm.usage.completion_tokens', 'openllmetry'),
  langfuseUsage('output'),
  countInObj(USAGE, ['completion_tokens', 'output_tokens', 'completionTokens'], 'langfuse'),
]

export const TOTAL_TOKENS: Array<Source<number>> = [
  withAnthropicCache('gen_ai.usage.total_tokens'),
  count('gen_ai.usage.total_tokens', 'otel'),
  count('llm.usage.total_tokens', 'openllmetry'),
  count('llm.token_count.total', 'openinference'),
  count('ai.usage.totalTokens', 'vercel'),
  countInObj(USAGE, ['total', 'total_tokens', 'totalTokens'], 'langfuse'),
]

export const CACHE_READ_TOKENS: Array<Source<number>> = [
  count('gen_ai.usage.cache_read.input_tokens', 'otel'),
  count('gen_ai.usage.cache_read_input_tokens', 'openllmetry'),
  count('llm.token_count.prompt_details.cache_read', 'openinference'),
  count('ai.usage.cachedInputTokens', 'vercel'),
  count('ai.usage.inputTokenDetails.cacheReadTokens', 'vercel'),
  countInObj(USAGE, ['cache_read_input_tokens', 'input_cached_tokens', 'cached_tokens', 'input_cache_read'], 'langfuse'),
]

export const CACHE_WRITE_TOKENS: Array<Source<number>> = [
  count('gen_ai.usage.cache_creation.input_tokens', 'otel'),
  // The Anthropic SDK's own spans (@anthropic-ai/sdk >= 0.134).
  count('gen_ai.usage.cache_write.input_tokens', 'otel'),
  count('gen_ai.usage.cache_creation_input_tokens', 'openllmetry'),
  count('llm.token_count.prompt_details.cache_write', 'openinference'),
  count('ai.usage.inputTokenDetails.cacheWriteTokens', 'vercel'),
  countInObj(USAGE, ['cache_creation_input_tokens', 'input_cache_creation'], 'langfuse'),
]

export const REASONING_TOKENS: Array<Source<number>> = [
  count('gen_ai.usage.reasoning.output_tokens', 'otel'),
  count('gen_ai.usage.reasoning_tokens', 'openllmetry'),
  count('llm.token_count.completion_details.reasoning', 'openinference'),
  count('ai.usage.reasoningTokens', 'vercel'),
  count('ai.usage.outputTokenDetails.reasoningTokens', 'vercel'),
  countInObj(USAGE, ['reasoning_tokens', 'output_reasoning_tokens', 'output_reasoning'], 'langfuse'),
]

const FINISH_ALIASES: Record<string, string> = {
  'tool-calls': 'tool_calls',
  tool_call: 'tool_calls',
  tool_use: 'tool_calls',
  function_call: 'tool_calls',
  end_turn: 'stop',
  stop_sequence: 'stop',
  max_tokens: 'length',
  'content-filter': 'content_filter',
  safety: 'content_filter',
  refusal: 'content_filter',
}

/**
 * One vocabulary for finish reasons (OpenAI's: stop, length, tool_calls,
 * content_filter, error) so drift and refusal analytics compare like with like;
 * the provider's own word stays in the raw attributes.
 */
export function canonicalFinishReason(raw: string): string {
  const v = raw.toLowerCase()
  return entry(FINISH_ALIASES, v) ?? v
}

const firstOfList = (key: string, convention: string): Source<string> => ({
  convention,
  read: (a) => a.strList(key)?.find((x) => x !== ''),
})

// In the order of the content sources (content.ts OUTPUT): an output message or GenAI
// event that carries a finish reason gives it to the column too.
export const FINISH_REASON: Array<Source<string>> = [
  firstOfList('gen_ai.response.finish_reasons', 'otel'),
  { convention: 'otel', read: (a) => messagesFinishReason(a.raw('gen_ai.output.messages')) },
  str('gen_ai.completion.0.finish_reason', 'openllmetry'),
  str('llm.finish_reason', 'openinference'),
  // A choice or details event on the span, as the same event sent as a log record gives it.
  { convention: 'otel', read: (_a, span) => spanEventsFinishReason(span.events) },
  firstOfList('ai.response.finishReason', 'vercel'),
  // The Anthropic SDK's own spans, which have no gen_ai.response.finish_reasons.
  str('anthropic.message.stop_reason', 'otel'),
]

/** Time to first token in milliseconds. */
export const TTFT_MS: Array<Source<number>> = [
  { convention: 'otel', read: (a) => scale(a.amount('gen_ai.response.time_to_first_chunk'), 1000) },
  { convention: 'vercel', read: (a) => scale(a.amount('gen_ai.client.operation.time_to_first_chunk'), 1000) },
  amount('ai.response.msToFirstChunk', 'vercel'),
  amount('ai.stream.msToFirstChunk', 'vercel'),
  { convention: 'otel', read: (a) => scale(a.amount('gen_ai.server.time_to_first_token'), 1000) },
  {
    convention: 'langfuse',
    read: (a, span) => {
      const v = a.str('langfuse.observation.completion_start_time')
      if (!v) return undefined
      const t = Date.parse(v.replace(/^"|"$/g, ''))
      if (!Number.isFinite(t)) return undefined
      const startMs = Number(BigInt(span.startNs) / 1_000_000n) + Number(BigInt(span.startNs) % 1_000_000n) / 1e6
      const d = t - startMs
      return d >= 0 ? d : undefined
    },
  },
]

function scale(v: number | undefined, k: number): number | undefined {
  return v === undefined ? undefined : v * k
}

const meta = (field: string): Source<string> => ({
  convention: 'vercel',
  read: (a) => a.str(`ai.telemetry.metadata.${field}`),
})
const assoc = (field: string): Source<string> => ({
  convention: 'openllmetry',
  read: (a) => a.str(`traceloop.association.properties.${field}`),
})

export const USER_ID: Array<Source<string>> = [
  str('user.id', 'otel'),
  str('enduser.id', 'otel'),
  str('langfuse.user.id', 'langfuse'),
  meta('userId'),
  meta('user_id'),
  str('ai.settings.context.userId', 'vercel'),
  assoc('user_id'),
  assoc('userId'),
]

export const SESSION_ID: Array<Source<string>> = [
  str('session.id', 'otel'),
  str('gen_ai.conversation.id', 'otel'),
  str('langfuse.session.id', 'langfuse'),
  meta('sessionId'),
  meta('session_id'),
  str('ai.settings.context.sessionId', 'vercel'),
  assoc('session_id'),
  assoc('sessionId'),
]

export const ENVIRONMENT: Array<Source<string>> = [
  res('deployment.environment.name', 'otel'),
  res('deployment.environment', 'otel'),
  str('deployment.environment.name', 'otel'),
  str('langfuse.environment', 'langfuse'),
  res('langfuse.environment', 'langfuse'),
]

export const RELEASE: Array<Source<string>> = [
  str('spanlens.release', 'spanlens'),
  str('langfuse.release', 'langfuse'),
  res('langfuse.release', 'langfuse'),
  res('service.version', 'otel'),
]

export const ERROR_TYPE: Array<Source<string>> = [
  str('error.type', 'otel'),
  {
    convention: 'otel',
    read: (_a, span) => {
      const ev = span.events.find((e) => e.name === 'exception')
      const t = ev?.attributes['exception.type']
      return typeof t === 'string' && t !== '' ? t : undefined
    },
  },
]

export const TAGS: Array<Source<string[]>> = [
  { convention: 'spanlens', read: (a) => a.strList('spanlens.tags') },
  { convention: 'langfuse', read: (a) => a.strList('langfuse.trace.tags') },
  { convention: 'openinference', read: (a) => a.strList('tag.tags') },
]
