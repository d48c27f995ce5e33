// Compile-time check, run by `tsc` in the test command: the console's own copy of
// the query API's reply types (web/src/api/types.ts, kept apart so the browser
// bundle needs no server code) must accept what @spanlens/query really returns.
// A field renamed or retyped in @spanlens/query fails the build here, not in a
// user's browser. No runtime part: vitest does not collect this file.
import type * as Query from '@spanlens/query'
import type * as Web from '../web/src/api/types.js'

/** Fails to compile unless the library's type is assignable to the console's (JSON-serialized as the API sends it). */
type Accepts<W, Q extends W> = Q
/** What JSON.stringify makes of a type: a Date becomes its ISO string. */
type Serialized<T> = T extends Date ? string : T extends Array<infer E> ? Array<Serialized<E>> : T extends object ? { [K in keyof T]: Serialized<T[K]> } : T

export type Checked = [
  Accepts<Web.Page<Web.TraceSummary>, Query.Page<Query.TraceSummary>>,
  Accepts<Web.Span, Query.Span>,
  Accepts<Web.Score, Query.Score>,
  Accepts<Web.SpanNode, Query.SpanNode>,
  Accepts<Web.Trace, Query.Trace>,
  Accepts<Web.SummaryRow, Query.SummaryRow>,
  Accepts<Web.Summary, Query.Summary>,
  Accepts<Web.DriftStatistic, Query.DriftStatistic>,
  Accepts<Web.SignalDrift, Query.SignalDrift>,
  Accepts<Web.DriftReport, Serialized<Query.DriftReport>>,
  Accepts<Web.BiasGroup, Query.BiasGroup>,
  Accepts<Web.BiasReport, Query.BiasReport>,
  Accepts<Web.BurnWindow, Query.BurnWindow>,
  Accepts<Web.SloAlert, Query.SloAlert>,
  Accepts<Web.SloStatus, Query.SloStatus>,
  Accepts<Web.SloReport, Query.SloReport>,
  Accepts<Web.MetricPoint, Query.MetricPoint>,
  Accepts<Web.MetricSeries, Query.MetricSeries>,
  Accepts<Web.MetricsReply, Query.MetricsReply>,
  Accepts<Web.Session, Query.Session>,
  Accepts<Web.SessionTurn, Query.SessionTurn>,
  Accepts<Web.UserSummary, Query.UserSummary>,
  Accepts<Web.UserBucket, Query.UserBucket>,
  Accepts<Web.UserScore, Query.UserScore>,
  Accepts<Web.AttributeKeys, Query.AttributeKeys>,
]
