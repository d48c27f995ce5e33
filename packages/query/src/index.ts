export {
  SpanlensError,
  createError,
  errors,
  queryApiErrors,
  isSpanlensError,
  isStoreError,
  clickHouseErrorType,
  toSpanlensError,
  replyWithError,
  type ErrorBody,
  type ErrorFactory,
  type ErrorOptions,
} from './errors.js'
export { QueryAdmission, DEFAULT_ADMISSION, defaultAdmission, type AdmissionLimits } from './admission.js'
export { SPAN_KINDS, type SpanKind, isSpanKind } from './span-kinds.js'
export { type SpanFilter, type SpanFilterInput, spanFilterSchema, toSpanFilter, filterFromQuery } from './filters.js'
export { listSpans, listTraces, type ListOptions, type Page, type TraceSummary } from './traces/list.js'
export { getTrace, type Trace, type SpanNode, type Score } from './traces/get-trace.js'
export { summary, type Summary, type SummaryRow, type SummaryOptions, SUMMARY_DIMENSIONS } from './traces/summary.js'
export type { Span } from './traces/span-row.js'
export { recordScore, scoreBodySchema, type ScoreInput, type RecordedScore } from './scores/record.js'
export { drift, driftRequestSchema, type DriftRequest, type DriftReport } from './drift/report.js'
export { DEFAULT_SIGNALS, BUILTIN_SIGNALS } from './drift/signals.js'
export { DEFAULT_THRESHOLDS, type DriftThresholds, type SignalDrift, type DriftStatistic } from './drift/types.js'
export { bias, biasRequestSchema, BIAS_OUTCOMES, type BiasRequest, type BiasReport, type BiasGroup, type BiasOutcome } from './bias/report.js'
export { counterfactual, counterfactualRequestSchema, PAIR_ID_ATTR, PAIR_SIDE_ATTR, type CounterfactualRequest, type CounterfactualReport } from './bias/counterfactual.js'
export { loadSloFile, parseSloText, sloSchema, type SloDefinition, type SloDefinitionInput } from './slo/file.js'
export { sloStatus, ALERT_RULES, BURN_WINDOWS, type SloReport, type SloStatus, type SloAlert, type BurnWindow } from './slo/status.js'
export { runSandboxedSql, ANALYST_TABLES, TABLE_FUNCTION_ALLOW, SYSTEM_TABLE_ALLOW, FUNCTION_DENY, type SqlResult, type SandboxLimits } from './sql/sandbox.js'
export { queryRoutes, type QueryRoutesOptions } from './routes/index.js'
export { runCli, type CliIo } from './cli/run.js'
