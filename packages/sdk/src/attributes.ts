/**
 * Attribute names the SDK emits. gen_ai.* follow the OpenTelemetry GenAI
 * semantic conventions (v1.37+ names); spanlens.* are ours for what the
 * conventions do not cover. The ingest normalizer maps these; keep them stable.
 */
export const ATTR = {
  operation: 'gen_ai.operation.name',
  provider: 'gen_ai.provider.name',
  requestModel: 'gen_ai.request.model',
  responseModel: 'gen_ai.response.model',
  responseId: 'gen_ai.response.id',
  finishReasons: 'gen_ai.response.finish_reasons',
  inputTokens: 'gen_ai.usage.input_tokens',
  outputTokens: 'gen_ai.usage.output_tokens',
  cacheRead: 'gen_ai.usage.cache_read.input_tokens',
  cacheCreation: 'gen_ai.usage.cache_creation.input_tokens',
  reasoning: 'gen_ai.usage.reasoning.output_tokens',
  ttft: 'gen_ai.response.time_to_first_chunk',
  inputMessages: 'gen_ai.input.messages',
  outputMessages: 'gen_ai.output.messages',
  systemInstructions: 'gen_ai.system_instructions',
  toolDefinitions: 'gen_ai.tool.definitions',
  toolName: 'gen_ai.tool.name',
  toolCallId: 'gen_ai.tool.call.id',
  toolArguments: 'gen_ai.tool.call.arguments',
  toolResult: 'gen_ai.tool.call.result',
  agentName: 'gen_ai.agent.name',
  outputType: 'gen_ai.output.type',
  embeddingsDimension: 'gen_ai.embeddings.dimension.count',
  errorType: 'error.type',
  httpStatus: 'http.response.status_code',
  kind: 'spanlens.span.kind',
  streaming: 'spanlens.request.stream',
  inputValue: 'input.value',
  outputValue: 'output.value',
} as const

/**
 * Names a redaction step (redact.ts, a `redact` hook's `attribute`) is told for what it redacts that is not
 * a span attribute. The status message has OpenTelemetry's name for it where exporters write it as one.
 */
export const REDACTED_NAMES = {
  statusMessage: 'otel.status_description',
  scoreComment: 'spanlens.score.comment',
  scoreLabel: 'spanlens.score.value',
} as const

/** Request parameters → gen_ai.request.* */
export const REQUEST_PARAMS = {
  temperature: 'gen_ai.request.temperature',
  topP: 'gen_ai.request.top_p',
  topK: 'gen_ai.request.top_k',
  maxTokens: 'gen_ai.request.max_tokens',
  frequencyPenalty: 'gen_ai.request.frequency_penalty',
  presencePenalty: 'gen_ai.request.presence_penalty',
  stopSequences: 'gen_ai.request.stop_sequences',
  seed: 'gen_ai.request.seed',
  choiceCount: 'gen_ai.request.choice.count',
  encodingFormats: 'gen_ai.request.encoding_formats',
} as const

export type SpanKindName = 'llm' | 'chain' | 'agent' | 'tool' | 'retrieval' | 'embedding'

/** gen_ai.operation.name for a Spanlens kind (llm depends on the API, set by the wrapper). */
export const OPERATION_FOR_KIND: Record<SpanKindName, string | undefined> = {
  llm: 'chat',
  chain: 'invoke_workflow',
  agent: 'invoke_agent',
  tool: 'execute_tool',
  retrieval: 'retrieval',
  embedding: 'embeddings',
}
