import { type ClickHouseClient, ParamBag, numOrNull, select } from '../db.js'
import { errors } from '../errors.js'
import { MODEL_EXPR, onlyRollupFields, spanConditions, type SpanFilter } from '../filters.js'
import { refuseRepeats } from '../params.js'
import { checkBucketCount, parseBucketSeconds } from '../time.js'
import { tokenSums, tokensOf, type Tokens } from './span-row.js'

/** Buckets under a minute a range may hold: a second's over 27 hours. */
const MAX_SUMMARY_BUCKETS = 100_000

/**
 * Rows one reply holds (groups × buckets with traffic), about 4.5 MB of JSON: seven
 * dimensions at 30 s buckets over a day answered 9.3 MB, and nothing bounded it but the
 * store's groups. The console's charts ask for at most 60 buckets a group.
 */
export const MAX_SUMMARY_ROWS = 10_000

export const SUMMARY_DIMENSIONS = ['model', 'service', 'provider', 'operation', 'kind', 'environment', 'release'] as const
export type SummaryDimension = (typeof SUMMARY_DIMENSIONS)[number]

export interface SummaryOptions {
  filter?: SpanFilter
  groupBy?: SummaryDimension[]
  /**
   * Time bucket such as 30s, 1m, 1h, 1d (whole seconds); omitted = one row per group.
   * Whole minutes read the per-minute rollup, shorter or ragged ones (30s, 90s) the spans.
   */
  bucket?: string
}

export interface SummaryRow {
  bucket: string | null
  group: Partial<Record<SummaryDimension, string>>
  calls: number
  errors: number
  errorRate: number
  /** Every token count spans store (input, output, total, cache reads and writes, reasoning), summed. */
  tokens: Tokens
  costUsd: number
  /** LLM calls without a known price (not in costUsd) */
  costUnknownCalls: number
  latencyMs: { avg: number | null; p50: number | null; p95: number | null; p99: number | null; max: number | null }
  ttftMs: { p50: number | null; p95: number | null; p99: number | null }
}

export interface Summary {
  /** `rollup` = read from spans_minute; `spans` = the filter needed raw spans */
  source: 'rollup' | 'spans'
  /** The buckets' width, null without buckets. */
  bucketSeconds: number | null
  /**
   * The times the rows count, ISO (null: unbounded). The rollup's rows are whole minutes,
   * so a `from` or `to` inside a minute counts all of that minute: these say so.
   */
  counted: { from: string | null; to: string | null }
  rows: SummaryRow[]
  /**
   * Groups left out to keep `rows` within MAX_SUMMARY_ROWS: the groups with the most calls
   * are kept whole, largest first, while their rows fit; 0 when every group is here.
   */
  omittedGroups: number
}

const ROLLUP_COL: Record<SummaryDimension, string> = {
  model: 'model',
  service: 'service_name',
  provider: 'provider',
  operation: 'operation',
  kind: 'kind',
  environment: 'environment',
  release: 'release',
}
const SPAN_COL: Record<SummaryDimension, string> = { ...ROLLUP_COL, model: MODEL_EXPR }

/** The prefix of the token sums' aliases: the rollup's token columns are named as the spans' ones. */
const TOKENS = 'tok_'

/**
 * What the summary reads of the rollup, per group and bucket. Every column here must
 * be in the hourly projection (clickhouse/011), or whole hours read the minutes
 * (summary.test.ts runs this with force_optimize_projection).
 */
export const ROLLUP_AGGREGATES = `sum(calls) AS n_calls, sum(errors) AS errs, ${tokenSums(TOKENS)},
        sum(cost_usd) AS cost, sum(cost_unknown) AS n_cost_unknown,
        sum(duration_sum_ms) / nullIf(sum(calls), 0) AS avg_ms, max(duration_max_ms) AS max_ms,
        quantilesTDigestMerge(0.5, 0.95, 0.99)(duration_q) AS lat_q,
        if(sum(ttft_count) > 0, quantilesTDigestMerge(0.5, 0.95, 0.99)(ttft_q), []) AS ttft_q`

/**
 * Calls, errors, tokens, cost and latency/TTFT percentiles per group and time bucket.
 * Reads the per-minute rollup when the filter only uses rollup dimensions and
 * buckets are whole minutes, else the spans; percentiles are t-digest estimates either way.
 */
export async function summary(client: ClickHouseClient, project: string, opts: SummaryOptions = {}): Promise<Summary> {
  const filter = opts.filter ?? {}
  const groupBy = opts.groupBy ?? []
  for (const g of groupBy) if (!SUMMARY_DIMENSIONS.includes(g)) throw errors.BAD_REQUEST(`groupBy: unknown dimension ${g}`)
  refuseRepeats(groupBy, 'groupBy')
  const bucketSeconds = opts.bucket ? parseBucketSeconds(opts.bucket, 'bucket') : undefined
  if (bucketSeconds !== undefined) checkShortBucket(filter, bucketSeconds, opts.bucket ?? '')
  // The rollup's rows are minutes: a bucket that is not whole minutes would take one
  // minute or two by turns (90s), or a minute for each of 30s, so those read spans.
  const useRollup = onlyRollupFields(filter) && (bucketSeconds === undefined || bucketSeconds % 60 === 0)
  const bag = new ParamBag()
  const cols = useRollup ? ROLLUP_COL : SPAN_COL
  const timeCol = useRollup ? 'minute' : 'start_time'
  const dims = groupBy.map((g) => `${cols[g]} AS g_${g}`)
  const bucketExpr = bucketSeconds
    ? `toString(toStartOfInterval(${timeCol}, toIntervalSecond(${bucketSeconds}), 'UTC')) AS bucket`
    : 'NULL AS bucket'
  const keys = [...groupBy.map((g) => `g_${g}`), ...(bucketSeconds ? ['bucket'] : [])]

  let sql: string
  if (useRollup) {
    const grouped = keys.length ? `GROUP BY ${keys.join(', ')}` : ''
    const hours = wholeHours(filter, bucketSeconds)
    if (hours === null) {
      const where = rollupConditions(project, filter, bag)
      sql = `SELECT ${[bucketExpr, ...dims].join(', ')}, ${ROLLUP_AGGREGATES}
      FROM spans_minute WHERE ${where.join(' AND ')}
      ${keys.length ? `${grouped} ORDER BY ${keys.join(', ')}` : ''}`
    } else {
      // Whole buckets through the hourly projection (clickhouse/009), grouped by the hour;
      // the buckets cut by the range's ends from the minutes. No bucket is in both.
      const hour = "toStartOfHour(minute, 'UTC')"
      const at = (d: Date) => bag.add(d.toISOString().slice(0, 19).replace('T', ' '), "DateTime('UTC')")
      const inner = rollupConditions(project, {}, bag, filter)
      if (hours.from) inner.push(`${hour} >= ${at(hours.from)}`)
      if (hours.to) inner.push(`${hour} < ${at(hours.to)}`)
      const hourBucket = bucketSeconds ? `toString(toStartOfInterval(${hour}, toIntervalSecond(${bucketSeconds}), 'UTC')) AS bucket` : 'NULL AS bucket'
      const parts = [`SELECT ${[hourBucket, ...dims].join(', ')}, ${ROLLUP_AGGREGATES} FROM spans_minute WHERE ${inner.join(' AND ')} ${grouped}`]
      const ends = [hours.from ? `minute < ${at(hours.from)}` : '', hours.to ? `minute >= ${at(hours.to)}` : ''].filter(Boolean)
      if (ends.length > 0) {
        const edge = rollupConditions(project, filter, bag)
        edge.push(`(${ends.join(' OR ')})`)
        parts.push(`SELECT ${[bucketExpr, ...dims].join(', ')}, ${ROLLUP_AGGREGATES} FROM spans_minute WHERE ${edge.join(' AND ')} ${grouped}`)
      }
      sql = `SELECT * FROM (${parts.join('\n      UNION ALL\n      ')})${keys.length ? ` ORDER BY ${keys.join(', ')}` : ''}`
    }
  } else {
    const where = spanConditions(project, filter, bag)
    sql = `SELECT ${[bucketExpr, ...dims].join(', ')},
        count() AS n_calls, countIf(status_code = 'error') AS errs, ${tokenSums(TOKENS)}, sum(ifNull(cost_usd, 0)) AS cost,
        countIf(kind = 'llm' AND cost_usd IS NULL) AS n_cost_unknown, avg(duration_ms) AS avg_ms, max(duration_ms) AS max_ms,
        quantilesTDigest(0.5, 0.95, 0.99)(duration_ms) AS lat_q,
        if(count(ttft_ms) > 0, quantilesTDigestIf(0.5, 0.95, 0.99)(assumeNotNull(ttft_ms), ttft_ms IS NOT NULL), []) AS ttft_q
      FROM spans FINAL WHERE ${where.join(' AND ')}
      ${keys.length ? `GROUP BY ${keys.join(', ')} ORDER BY ${keys.join(', ')}` : ''}`
  }
  // Nearly every summary fits: read it as it is, and rank its groups (capped) only when it does not.
  // The ranking's window functions cost the rollup summary ~7 ms of its ~65 (bench/README.md, session 22).
  const plain = await select<Record<string, unknown>>(client, `${sql} LIMIT ${MAX_SUMMARY_ROWS + 1}`, bag.values)
  const fits = plain.length <= MAX_SUMMARY_ROWS
  const raw = fits ? plain.filter((r) => Number(r.n_calls) > 0) : await select<Record<string, unknown>>(client, capped(sql, groupBy.map((g) => `g_${g}`), keys), bag.values)
  const first = raw[0]
  if (!fits && first !== undefined && Number(first.rows_through) > MAX_SUMMARY_ROWS) {
    throw errors.BAD_REQUEST(
      `bucket: the largest group alone has ${Number(first.group_rows)} buckets with traffic, more than the ${MAX_SUMMARY_ROWS} rows a summary holds; choose a longer bucket or a shorter range`,
    )
  }
  const rows = raw
    .map((r): SummaryRow => {
      const lat = (r.lat_q as number[] | null) ?? []
      const ttft = (r.ttft_q as number[] | null) ?? []
      const group: Partial<Record<SummaryDimension, string>> = {}
      for (const g of groupBy) group[g] = String(r[`g_${g}`])
      const calls = Number(r.n_calls)
      const errs = Number(r.errs)
      return {
        bucket: r.bucket === null || r.bucket === undefined ? null : new Date(`${String(r.bucket).replace(' ', 'T')}Z`).toISOString(),
        group,
        calls,
        errors: errs,
        errorRate: calls > 0 ? errs / calls : 0,
        tokens: tokensOf(r, TOKENS),
        costUsd: Number(r.cost),
        costUnknownCalls: Number(r.n_cost_unknown),
        latencyMs: {
          avg: numOrNull(r.avg_ms),
          p50: numOrNull(lat[0]),
          p95: numOrNull(lat[1]),
          p99: numOrNull(lat[2]),
          max: numOrNull(r.max_ms),
        },
        ttftMs: { p50: numOrNull(ttft[0]), p95: numOrNull(ttft[1]), p99: numOrNull(ttft[2]) },
      }
    })
  const iso = (d: Date | undefined) => (d ? d.toISOString() : null)
  const counted = useRollup
    ? { from: iso(filter.from && new Date(Math.floor(filter.from.getTime() / MINUTE_MS) * MINUTE_MS)), to: iso(filter.to && new Date(Math.ceil(filter.to.getTime() / MINUTE_MS) * MINUTE_MS)) }
    : { from: iso(filter.from), to: iso(filter.to) }
  const omittedGroups = fits || first === undefined ? 0 : Number(first.groups_total) - new Set(raw.map((r) => Number(r.group_rank))).size
  return { source: useRollup ? 'rollup' : 'spans', bucketSeconds: bucketSeconds ?? null, counted, omittedGroups, rows }
}

/**
 * `sql`'s rows with traffic, of the groups with the most calls (ties by the group's keys)
 * whose rows all fit within MAX_SUMMARY_ROWS, in `order`. Each row says its group's rank,
 * the rows up to the end of its group in that ranking (a window ordered by calls and keys
 * counts a group's rows as peers, all at once) and how many groups there are. The largest
 * group comes back even when it alone does not fit, for the caller to refuse.
 */
function capped(sql: string, groupCols: string[], order: string[]): string {
  const partition = groupCols.length > 0 ? `PARTITION BY ${groupCols.join(', ')}` : ''
  const ranking = `ORDER BY group_calls DESC${groupCols.map((c) => `, ${c}`).join('')}`
  const groups = groupCols.length > 0 ? `uniqExact(${groupCols.join(', ')})` : 'uniqExact(1)'
  return `SELECT * FROM (
      SELECT *, dense_rank() OVER (${ranking}) AS group_rank, count() OVER (${ranking}) AS rows_through,
        ${groups} OVER () AS groups_total
      FROM (SELECT *, sum(n_calls) OVER (${partition}) AS group_calls, count() OVER (${partition}) AS group_rows
        FROM (${sql}) WHERE n_calls > 0))
    WHERE rows_through <= ${MAX_SUMMARY_ROWS} OR group_rank = 1
    ORDER BY ${order.length > 0 ? order.join(', ') : 'group_rank'}
    LIMIT ${MAX_SUMMARY_ROWS}`
}

/**
 * A bucket under a minute needs `from` and at most MAX_SUMMARY_BUCKETS buckets between
 * it and `to` (now when open). Rows are only buckets with traffic: a minute's or longer
 * have at most the rollup's rows, a second's over the retention could be millions.
 */
function checkShortBucket(f: SpanFilter, bucketSeconds: number, raw: string): void {
  if (bucketSeconds >= 60) return
  if (!f.from) throw errors.BAD_REQUEST(`bucket: a bucket under a minute (${raw}) needs from, at most ${MAX_SUMMARY_BUCKETS} buckets after it`)
  checkBucketCount(raw, bucketSeconds, f.from.getTime(), f.to ? f.to.getTime() : Date.now(), MAX_SUMMARY_BUCKETS)
}

/**
 * The rollup rows `f` selects; with `dims`, its time bounds are left out and the
 * dimensions are taken from `dims` (the whole hours, bounded by the caller).
 */
function rollupConditions(project: string, f: SpanFilter, bag: ParamBag, dims: SpanFilter = f): string[] {
  const out = [`project_id = ${bag.add(project, 'String')}`]
  // Rollup rows are whole minutes: a bound inside a minute includes that minute.
  if (f.from) out.push(`minute >= toStartOfMinute(${bag.add(f.from.toISOString().replace('T', ' ').replace('Z', ''), "DateTime64(3, 'UTC')")})`)
  if (f.to) out.push(`minute < ${bag.add(f.to.toISOString().replace('T', ' ').replace('Z', ''), "DateTime64(3, 'UTC')")}`)
  const inList = (col: string, v: string[] | undefined) => {
    if (v && v.length > 0) out.push(`${col} IN ${bag.add(v, 'Array(String)')}`)
  }
  inList('service_name', dims.service)
  inList('model', dims.model)
  inList('provider', dims.provider)
  inList('operation', dims.operation)
  inList('kind', dims.kind)
  inList('environment', dims.environment)
  inList('release', dims.release)
  return out
}

const HOUR_MS = 3_600_000
const MINUTE_MS = 60_000

/**
 * The hours [from, to) of the range that whole buckets cover (either end open when the
 * filter has none), for the rollup's hourly projection; null when it cannot serve: a
 * bucket that is not a whole number of hours, or, without buckets, a range whose ends
 * fall inside an hour (one row per group cannot be put together from two parts, their
 * t-digests being merged in SQL only). A bound inside a minute counts that minute, as
 * rollupConditions does.
 */
function wholeHours(f: SpanFilter, bucketSeconds: number | undefined): { from?: Date; to?: Date } | null {
  const step = bucketSeconds === undefined ? HOUR_MS : bucketSeconds * 1000
  if (step % HOUR_MS !== 0) return null
  const first = f.from ? Math.floor(f.from.getTime() / MINUTE_MS) * MINUTE_MS : undefined
  const end = f.to ? Math.ceil(f.to.getTime() / MINUTE_MS) * MINUTE_MS : undefined
  const from = first === undefined ? undefined : Math.ceil(first / step) * step
  const to = end === undefined ? undefined : Math.floor(end / step) * step
  if (from !== undefined && to !== undefined && from >= to) return null
  if (bucketSeconds === undefined && (from !== first || to !== end)) return null
  return { ...(from === undefined ? {} : { from: new Date(from) }), ...(to === undefined ? {} : { to: new Date(to) }) }
}
