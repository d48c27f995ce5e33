// JSON replies of the query API (/api/v1), as documented in docs/api.md.
// Mirrors @spanlens/query's types; kept here so the browser bundle needs no server code.
// packages/console/test/api-types.ts fails the typecheck when they drift apart.

/** Every token count the API returns: a span's, or summed over a trace or a summary row. */
export interface Tokens {
  input: number
  output: number
  total: number
  cacheRead: number
  cacheWrite: number
  reasoning: number
}

/** @spanlens/query's SPAN_KINDS (test/span-kinds-types.ts holds the two equal). */
export type SpanKind = 'llm' | 'chain' | 'agent' | 'tool' | 'retrieval' | 'embedding' | 'other'

export interface Page<T> {
  items: T[]
  nextCursor: string | null
  /** traces the filter matches, when asked with total=1 */
  total?: number
}

export interface TraceSummary {
  traceId: string
  rootSpanId: string
  /** no root span within reach: name, service and rootSpanId are the earliest span's */
  rootMissing: boolean
  name: string
  service: string
  startTime: string
  durationMs: number
  status: string
  userId: string
  sessionId: string
  spans: number
  errors: number
  llmCalls: number
  tokens: Tokens
  costUsd: number
  costIncomplete: boolean
  scores: ScoreBrief[]
}

/** A score beside its trace in a listing (traces, a session's turns). */
export interface ScoreBrief {
  name: string
  value: number | null
  stringValue: string
  dataType: string
}

export interface Score {
  id: string
  traceId: string
  spanId: string | null
  name: string
  value: number | null
  stringValue: string
  dataType: string
  source: string
  comment: string
  timestamp: string
}

export interface Span {
  traceId: string
  spanId: string
  parentSpanId: string | null
  name: string
  kind: SpanKind
  spanKind: string
  service: string
  startTime: string
  endTime: string
  startTimeUnixNano: string
  durationMs: number
  status: string
  statusMessage: string
  errorType: string
  provider: string
  operation: string
  requestModel: string
  responseModel: string
  tokens: Tokens
  costUsd: number | null
  ttftMs: number | null
  finishReason: string
  userId: string
  sessionId: string
  environment: string
  release: string
  tags: string[]
  attributes: Record<string, string>
  input?: string
  output?: string
}

export interface SpanEvent {
  time: string
  timeUnixNano: string
  name: string
  attributes: Record<string, string>
}

interface SpanLink {
  traceId: string
  spanId: string
  attributes: Record<string, string>
}

/** One OTLP log record of a trace (GET /traces/:id/logs). */
export interface LogRecord {
  timestamp: string
  timeUnixNano: string
  observedTimestamp: string
  traceId: string
  spanId: string | null
  severityNumber: number
  severityText: string
  eventName: string
  body: string
  attributes: Record<string, string>
  resource: Record<string, string>
  service: string
  scope: { name: string; version: string; attributes: Record<string, string> }
}

export interface SpanNode extends Span {
  children: SpanNode[]
  scores: Score[]
  scope: { name: string; version: string; attributes: Record<string, string> }
  /** key of the span's resource in its trace's `resources` */
  resource: string
  events: SpanEvent[]
  links: SpanLink[]
}

export interface Trace {
  traceId: string
  startTime: string
  durationMs: number
  totals: { spans: number; errors: number; llmCalls: number; tokens: Tokens; costUsd: number; costIncomplete: boolean }
  roots: SpanNode[]
  resources: Record<string, Record<string, string>>
  scores: Score[]
  /** more spans than the tree holds: `roots` hold the first by start time, `totals` count them all */
  truncated: boolean
}

export type SummaryDimension = 'model' | 'service' | 'provider' | 'operation' | 'kind' | 'environment' | 'release'

export interface SummaryRow {
  bucket: string | null
  group: Partial<Record<SummaryDimension, string>>
  calls: number
  errors: number
  errorRate: number
  tokens: Tokens
  costUsd: number
  costUnknownCalls: number
  latencyMs: { avg: number | null; p50: number | null; p95: number | null; p99: number | null; max: number | null }
  ttftMs: { p50: number | null; p95: number | null; p99: number | null }
}

export interface Summary {
  source: 'rollup' | 'spans'
  /** the buckets' width, null without buckets */
  bucketSeconds: number | null
  /** the times the rows count, ISO (null: unbounded); the rollup counts whole minutes, so a `from` inside a minute counts all of it */
  counted: { from: string | null; to: string | null }
  /** groups left out past the reply's 10,000 rows, the smallest by calls (the charts show the top 6) */
  omittedGroups: number
  rows: SummaryRow[]
}

export interface DriftStatistic {
  name: string
  value: number
  pValue: number | null
  pValueMethod?: string
  threshold: number | null
  drifted: boolean | null
  role: 'verdict' | 'supporting'
}

export interface SignalDrift {
  signal: string
  type: 'numeric' | 'categorical' | 'text' | 'embedding'
  nReference: number
  nCurrent: number
  status: 'ok' | 'not_enough_data'
  method: string | null
  drifted: boolean | null
  statistics: DriftStatistic[]
  psiLevel?: 'none' | 'moderate' | 'major'
  detail?: Record<string, unknown>
}

/** A span filter as the API echoes it (JSON: times as ISO strings). */
export interface EchoedFilter {
  from?: string
  to?: string
  service?: string[]
  model?: string[]
  provider?: string[]
  operation?: string[]
  kind?: SpanKind[]
  name?: string[]
  status?: string[]
  environment?: string[]
  release?: string[]
  userId?: string
  sessionId?: string
  traceId?: string
  attributes?: Record<string, string>
  /** span attributes read as numbers (`attrNum.<key>`) */
  attributeNumbers?: Record<string, NumberCondition[]>
  resource?: Record<string, string>
  text?: string
  tag?: string[]
  event?: string[]
  scope?: string[]
  refusal?: boolean
  minDurationMs?: number
  maxDurationMs?: number
  durationMs?: NumberCondition[]
  ttftMs?: NumberCondition[]
  costUsd?: NumberCondition[]
  inputTokens?: NumberCondition[]
  outputTokens?: NumberCondition[]
  totalTokens?: NumberCondition[]
  /** group-key values (bias's keys: `language`, `user_prefix:3`…) */
  groups?: Record<string, string>
  /** the span's trace has a score of this name matching the condition */
  scores?: Record<string, ScoreCondition>
  /** spans that do not match this filter */
  not?: EchoedFilter
}

/** A condition on a trace's score of one name: has one, its value, or its category. */
type ScoreCondition = { op: 'any' } | { op: 'value'; conditions: NumberCondition[] } | { op: 'category'; value: string }

/** A condition on a span number, as the API echoes it (`>` 1000). */
interface NumberCondition {
  op: string
  value: number
}

export interface DriftReport {
  /** the two sets compared, as span filters */
  reference: EchoedFilter
  current: EchoedFilter
  nReference: number
  nCurrent: number
  drifted: boolean
  /** the thresholds the verdicts were judged by (each statistic carries its own too) */
  thresholds: DriftThresholds
  signals: SignalDrift[]
}

interface DriftThresholds {
  /** reference size at or below which the p-value tests decide */
  smallReferenceMax: number
  ksPValue: number
  chi2PValue: number
  wassersteinNormed: number
  jsDistance: number
  psiModerate: number
  psiMajor: number
  textJsDistance: number
  embeddingCosine: number | null
}

export interface BiasGroup {
  group: string
  n: number
  value: number | null
  ci: [number, number] | null
  judged: boolean
  difference: number | null
  ratio: number | null
  fourFifthsViolation: boolean | null
  pValue: number | null
  /** the test against the best group: `zero_variance` when neither group's values vary (exact, no test) */
  pValueMethod: 'two_proportion_z' | 'welch_z' | 'zero_variance' | null
  pValueAdjusted: number | null
  significant: boolean | null
}

export interface BiasReport {
  groupBy: string
  outcome: string
  kind: 'proportion' | 'mean' | 'quantile'
  better: 'lower' | 'higher'
  bestGroup: string | null
  groups: BiasGroup[]
  demographicParityDifference: number | null
  demographicParityRatio: number | null
  lowestRatio: { group: string; ratio: number } | null
  /** means only: the floor ratios of means are measured from (0 unless some value is negative) */
  ratioBaseline: number | null
  chiSquared: { statistic: number; df: number; pValue: number } | null
  comparisons: number
  flagged: boolean
}

export type BurnWindow = '5m' | '30m' | '1h' | '2h' | '6h' | '1d' | '3d'

export interface SloAlert {
  severity: 'page' | 'ticket'
  factor: number
  longWindow: BurnWindow
  shortWindow: BurnWindow
  burnRateLong: number | null
  burnRateShort: number | null
  firing: boolean
}

export interface SloStatus {
  name: string
  description?: string
  objective: number
  window: string
  indicator: string
  /** the spans the SLO counts */
  scope: Pick<EchoedFilter, 'service' | 'model' | 'environment' | 'kind' | 'operation'>
  /** latency and ttft indicators: slower than this is a bad event */
  thresholdMs?: number
  sli: number | null
  total: number
  good: number
  errorBudget: { remaining: number; consumed: number }
  burnRates: Record<BurnWindow, number | null>
  alerts: SloAlert[]
  firing: boolean
  source: 'rollup' | 'spans'
  /** where every window ends (exclusive): the window w is [windowEnd − w, windowEnd) */
  windowEnd: string
  /** the bad events as a traces query string's parameters (no time); null when no filter selects exactly them */
  badEvents: Record<string, string> | null
}

export interface SloReport {
  at: string
  firing: boolean
  slos: SloStatus[]
}

/** GET /api/v1/metrics: one OTLP metric per group and time bucket. */
export interface MetricPoint {
  time: string
  value: number | null
}

export interface MetricSeries {
  group: Record<string, string>
  points: MetricPoint[]
}

export interface MetricsReply {
  name: string
  type: 'gauge' | 'sum' | 'histogram' | 'exponential_histogram' | 'summary' | null
  unit: string
  temporality: string[]
  agg: string
  bucketSeconds: number | null
  from: string
  to: string
  groupBy: string[]
  series: MetricSeries[]
}

/** GET /api/v1/sessions/:sessionId */
export interface SessionTurn {
  traceId: string
  name: string
  service: string
  startTime: string
  durationMs: number
  status: string
  userId: string
  spans: number
  errors: number
  llmCalls: number
  tokens: Tokens
  costUsd: number
  costIncomplete: boolean
  input: string
  output: string
  scores: ScoreBrief[]
}

export interface Session {
  sessionId: string
  userIds: string[]
  startTime: string
  endTime: string
  totals: { traces: number; spans: number; errors: number; llmCalls: number; tokens: Tokens; costUsd: number; costIncomplete: boolean }
  turns: SessionTurn[]
  truncated: boolean
}

/** GET /api/v1/users/:userId */
export interface UserBucket {
  time: string
  traces: number
  calls: number
  errors: number
  tokens: number
  costUsd: number
}

export interface UserScore {
  name: string
  count: number
  mean: number | null
  negative: number
  points: Array<{ time: string; count: number; mean: number | null }>
}

export interface UserSummary {
  userId: string
  from: string
  to: string
  bucketSeconds: number
  totals: {
    traces: number
    sessions: number
    spans: number
    calls: number
    errors: number
    tokens: number
    costUsd: number
    costUnknownCalls: number
    firstSeen: string | null
    lastSeen: string | null
  }
  series: UserBucket[]
  scores: UserScore[]
  sessions: Array<{ sessionId: string; traces: number; startTime: string; lastTime: string }>
}

/** GET /api/v1/attributes */
export interface AttributeKeys {
  attributes: Array<{ key: string; spans: number }>
  resource: Array<{ key: string; spans: number }>
}

/** GET /api/v1/project */
export interface ProjectInfo {
  project: string
}
