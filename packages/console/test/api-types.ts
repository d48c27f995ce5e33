// Compile-time check, run by `tsc` in the test command: the console's own copy of
// the query API's reply types (web/src/api/types.ts, kept apart so the browser
// bundle needs no server code) must accept what @spanlens/query really returns
// and list every field of it. A field renamed, retyped or added in @spanlens/query
// fails the build here, naming it, not in a user's browser. No runtime part:
// vitest does not collect this file.
import type * as Query from '@spanlens/query'
import type * as Web from '../web/src/api/types.js'

/** What JSON.stringify makes of a type: a Date becomes its ISO string. */
type Serialized<T> = T extends Date ? string : T extends Array<infer E> ? Array<Serialized<E>> : T extends object ? { [K in keyof T]: Serialized<T[K]> } : T

/** Each reply type: its name, the console's copy, and what the library returns (JSON-serialized as the API sends it). */
type Replies = [
  ['Page<TraceSummary>', Web.Page<Web.TraceSummary>, Query.Page<Query.TraceSummary>],
  ['Span', Web.Span, Query.Span],
  ['Score', Web.Score, Query.Score],
  ['SpanNode', Web.SpanNode, Query.SpanNode],
  ['Trace', Web.Trace, Query.Trace],
  ['SummaryRow', Web.SummaryRow, Query.SummaryRow],
  ['Summary', Web.Summary, Query.Summary],
  ['DriftStatistic', Web.DriftStatistic, Query.DriftStatistic],
  ['SignalDrift', Web.SignalDrift, Query.SignalDrift],
  ['DriftReport', Web.DriftReport, Serialized<Query.DriftReport>],
  ['BiasGroup', Web.BiasGroup, Query.BiasGroup],
  ['BiasReport', Web.BiasReport, Query.BiasReport],
  ['BurnWindow', Web.BurnWindow, Query.BurnWindow],
  ['SloAlert', Web.SloAlert, Query.SloAlert],
  ['SloStatus', Web.SloStatus, Query.SloStatus],
  ['SloReport', Web.SloReport, Query.SloReport],
  ['MetricPoint', Web.MetricPoint, Query.MetricPoint],
  ['MetricSeries', Web.MetricSeries, Query.MetricSeries],
  ['MetricsReply', Web.MetricsReply, Query.MetricsReply],
  ['Session', Web.Session, Query.Session],
  ['SessionTurn', Web.SessionTurn, Query.SessionTurn],
  ['UserSummary', Web.UserSummary, Query.UserSummary],
  ['UserBucket', Web.UserBucket, Query.UserBucket],
  ['UserScore', Web.UserScore, Query.UserScore],
  ['AttributeKeys', Web.AttributeKeys, Query.AttributeKeys],
  ['LogRecord', Web.LogRecord, Query.LogRecord],
]

/**
 * The names of the replies the console's copy cannot hold, and the fields (at any depth) the library's has
 * and the copy does not list: a field the API gains is listed in the console's copy, where its pages can be
 * checked for it, or the build fails naming it (a field the console leaves out was how its bias page came to
 * show neither a p-value's test nor the ratios' floor).
 */
type Problems<T extends unknown[]> = {
  [I in keyof T]: T[I] extends [infer N extends string, infer W, infer Q]
    ? [Q] extends [W]
      ? `${N}${Missing<W, Q>}`
      : `${N}: not assignable to the console's copy`
    : never
}[number]

/** The paths of `Q`'s fields that `W` lacks (`never` when none), 6 levels deep (SpanNode holds itself). */
type Missing<W, Q, P extends string = '', D extends unknown[] = []> = D['length'] extends 6
  ? never
  : Q extends readonly (infer E)[]
    ? W extends readonly (infer F)[]
      ? Missing<F, E, `${P}[]`, [...D, 0]>
      : never
    : Q extends object
      ? {
          [K in keyof Q & string]-?: K extends AnyKey<W> ? Missing<Field<W, K>, NonNullable<Q[K]>, `${P}.${K}`, [...D, 0]> : `${P}.${K}`
        }[keyof Q & string]
      : never
/** A key of any member of a union (a key of the union itself is one of every member). */
type AnyKey<W> = W extends unknown ? keyof W : never
/** Field `K` of the union's members that have it. */
type Field<W, K extends PropertyKey> = NonNullable<W extends unknown ? (K extends keyof W ? W[K] : never) : never>

/** Fails to compile, naming them, while there are any. */
type None<T extends never> = T
export type Checked = None<Problems<Replies>>
