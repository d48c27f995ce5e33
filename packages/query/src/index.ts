/**
 * @spanlens/query — the public door: what the server (ingest), the console's type
 * check, bench/, the READMEs and this package's tests use. Everything else in src/ is internal; knip (`pnpm test`)
 * reports an export here that nothing uses.
 */
// The one error catalogue (docs/errors.md); also at @spanlens/query/errors for loaders that skip the analytics.
export {
  SpanlensError,
  createError,
  errors,
  queryApiErrors,
  isSpanlensError,
  clickHouseErrorType,
  toSpanlensError,
  replyWithError,
  type ErrorBody,
  type ErrorFactory,
  type ErrorOptions,
} from './errors.js'
export { SPAN_KINDS, type SpanKind } from './span-kinds.js'
export { QueryAdmission, defaultAdmission, type AdmissionLimits } from './admission.js'
export { listSpans, listTraces, type Page, type TraceSummary } from './traces/list.js'
export { getTrace, type Trace, type SpanNode, type Score } from './traces/get-trace.js'
export { summary, type Summary, type SummaryRow } from './traces/summary.js'
export type { MetricsReply, MetricSeries, MetricPoint } from './metrics/query.js'
export type { Span } from './traces/span-row.js'
export type { SpanEvent, SpanLink, SpanScope } from './traces/span-detail.js'
export type { LogRecord } from './logs/trace-logs.js'
export { attributeKeys, type AttributeKeys } from './traces/attribute-keys.js'
export type { Session, SessionTurn } from './sessions/session.js'
export type { UserSummary, UserBucket, UserScore } from './users/user.js'
export { drift, type DriftReport } from './drift/report.js'
export type { SignalDrift, DriftStatistic } from './drift/types.js'
export { bias, type BiasReport, type BiasGroup } from './bias/report.js'
export { counterfactual, type CounterfactualReport } from './bias/counterfactual.js'
export { loadSloFile, parseSloText, type SloDefinition } from './slo/file.js'
export { sloStatus, ALERT_RULES, type SloReport, type SloStatus, type SloAlert, type BurnWindow } from './slo/status.js'
export { runSandboxedSql, type SqlResult, type SandboxLimits, type StreamQuery } from './sql/sandbox.js'
export { queryRoutes, type QueryRoutesOptions } from './routes/index.js'
// Every route's yes/no query parameter, unknown parameter and bad body field, the server's own routes' (/readyz?strict, the admin routes) too.
export { invalidFields, onlyParams, parseFlag } from './params.js'
export { runCli, type CliIo } from './cli/run.js'
export { mergeContent, type MergeKind, type MergeRun } from './content/merge.js'
