/**
 * @spanlens/sdk — trace LLM calls, chains, agents and tools as OpenTelemetry
 * spans and ship them to a Spanlens server. This file is the whole public API.
 */
export { init, flush, shutdown, getStats } from './init.js'
export type { InitOptions } from './config.js'
export type { FinishedSpan } from './trace/types.js'
export { wrapOpenAI } from './instrument/openai.js'
export { wrapAnthropic } from './instrument/anthropic.js'
export { spanlensAITelemetry, type SpanlensAITelemetry } from './instrument/vercel-ai.js'
export { observe, span, type ObserveOptions, type SpanHandle } from './observe.js'
export { withContext, type SpanlensContext } from './context.js'
export { score, type ScoreInput } from './score.js'
export { SpanlensSdkError, isSpanlensSdkError, type SpanlensSdkErrorCode } from './errors.js'
export type { DiagLogger, SdkStats } from './diag.js'
export type { RedactFn, RedactOption, BuiltinPattern } from './redact.js'
export type { SpanKindName } from './attributes.js'
