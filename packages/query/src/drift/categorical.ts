import { type ClickHouseClient, ParamBag, num, select } from '../db.js'
import { contentText } from '../content/text.js'
import { type CategoryCounts, distributionStats, homogeneity } from './distribution.js'
import { type DriftSets, unionOfSignals } from './sets.js'
import type { SignalSpec } from './signals.js'
import { decide, type CategoricalMethod, type DriftStatistic, type DriftThresholds, psiLevel, type SignalDrift } from './types.js'

/** Categories beyond this many (by total count) are folded into one "(other)" category. */
const MAX_CATEGORIES = 500
/** Hashed vocabulary size for text drift. */
const TEXT_BUCKETS = 4096
/** Characters of each text part of a prompt/completion (content/text.ts) tokenized for text drift (bounds the cost per part). */
const TEXT_PREFIX_CHARS = 4000
/**
 * Spans per side whose text is tokenized: a larger side is sampled down to about this many
 * (docs/statistics.md). Tokenizing is most of a text signal's cost (at 10 million spans, a
 * day's 1 million prompts a side took 5 times their bare scan); 100,000 spans of tens of
 * tokens each put the JS distance of two samples of one distribution near 0.01, a tenth of
 * the 0.1 threshold.
 */
export const TEXT_SAMPLE_SPANS = 100_000
/**
 * The sampling hash's range: a span is kept when cityHash64(start_time) % this < the side's
 * threshold. The start time is read anyway (the sets are time windows or filtered beside
 * one); hashing trace_id and span_id instead read 100 MB more per million spans and doubled
 * the signal's time at 10 million spans.
 */
const SAMPLE_RANGE = 1_000_000

/**
 * (sig, category, reference count, current count) of several signals in one query, each
 * signal's `keyed(i, source)` giving (k, side) rows; per signal the categories beyond the
 * MAX_CATEGORIES most frequent fold into "(other)".
 */
async function categoryCounts(
  client: ClickHouseClient,
  project: string,
  sets: DriftSets,
  specs: readonly SignalSpec[],
  keyed: (i: number, source: string) => string,
): Promise<Map<number, CategoryCounts[]>> {
  const bag = new ParamBag()
  const counts = unionOfSignals(
    project,
    sets,
    specs,
    bag,
    (i, src) => `SELECT ${i} AS sig, toString(k) AS cat0, countIf(side = 0) AS r0, countIf(side = 1) AS c0 FROM (${keyed(i, src)}) GROUP BY cat0`,
  )
  const rows = await select<{ sig: number; cat: string; r: number; c: number }>(
    client,
    `SELECT sig, if(rk <= ${MAX_CATEGORIES}, cat0, '(other)') AS cat, sum(r0) AS r, sum(c0) AS c FROM (
       SELECT sig, cat0, r0, c0, row_number() OVER (PARTITION BY sig ORDER BY r0 + c0 DESC, cat0) AS rk FROM (${counts}))
     GROUP BY sig, cat`,
    bag.values,
  )
  const bySig = new Map<number, CategoryCounts[]>()
  for (const row of rows) {
    const list = bySig.get(num(row.sig)) ?? []
    list.push({ cat: String(row.cat), r: num(row.r), c: num(row.c) })
    bySig.set(num(row.sig), list)
  }
  return bySig
}

/**
 * Categorical drift of several signals in one query: per signal, counts per (category, side),
 * then in JS (drift/distribution.ts) χ², Jensen–Shannon distance and PSI. A category seen on
 * one side only is one more column, not a share of 1e-4: one span of a new model among 40 is
 * not evidence of drift.
 */
export async function categoricalDrift(
  client: ClickHouseClient,
  project: string,
  sets: DriftSets,
  specs: readonly SignalSpec[],
  opts: { thresholds: DriftThresholds; method: CategoricalMethod; minSamples: number },
): Promise<SignalDrift[]> {
  const counts = await categoryCounts(client, project, sets, specs, (_, src) => `SELECT v AS k, side FROM (${src})`)
  return specs.map((spec, i) => {
    const row = distributionStats(counts.get(i) ?? [])
    const nRef = row.nRef
    const nCur = row.nCur
    const base: SignalDrift = { signal: spec.signal, type: 'categorical', nReference: nRef, nCurrent: nCur, status: 'ok', method: null, drifted: null, statistics: [] }
    if (!(nRef >= opts.minSamples && nCur >= opts.minSamples)) return { ...base, status: 'not_enough_data' }
    const t = opts.thresholds
    const chi = homogeneity(row)
    const stats: Array<Omit<DriftStatistic, 'role'>> = [
      { name: 'chi2', value: chi.statistic, pValue: chi.p, pValueMethod: chi.method, threshold: t.chi2PValue, drifted: chi.p < t.chi2PValue },
      { name: 'js', value: row.js, pValue: null, threshold: t.jsDistance, drifted: row.js >= t.jsDistance },
      { name: 'psi', value: row.psi, pValue: null, threshold: t.psiModerate, drifted: row.psi >= t.psiModerate },
    ]
    const method = opts.method === 'auto' ? (nRef <= t.smallReferenceMax ? 'chi2' : 'js') : opts.method
    return {
      ...base,
      method,
      ...decide(stats, method),
      psiLevel: psiLevel(row.psi, t),
      detail: {
        categories: row.k,
        minExpected: row.minExpected,
        top: row.top.map(([category, ref, cur]) => ({ category, referenceShare: ref, currentShare: cur })),
      },
    }
  })
}

/** A side's sampling threshold: every span up to TEXT_SAMPLE_SPANS, else about that many. */
export function sampleThreshold(n: number): number {
  return n <= TEXT_SAMPLE_SPANS ? SAMPLE_RANGE : Math.ceil((SAMPLE_RANGE * TEXT_SAMPLE_SPANS) / n)
}

/**
 * Prompt/completion vocabulary: lower-cased tokens (ClickHouse `tokens`, split on
 * non-alphanumerics) of the text (content/text.ts: a structured value's messages, not its
 * JSON) hashed into 4096 buckets; Jensen–Shannon distance (natural log)
 * between the reference and current bucket distributions. Sample sizes are spans. A side
 * of more than TEXT_SAMPLE_SPANS spans is tokenized from a sample of about that many: the
 * spans whose cityHash64(start_time) falls under the side's threshold, the same spans on
 * every run over the same data (spans that started at the same instant are kept or left
 * together). Two queries for all text signals: span counts
 * (which read only the text's length), then the sampled token counts.
 */
export async function textDrift(
  client: ClickHouseClient,
  project: string,
  sets: DriftSets,
  specs: readonly SignalSpec[],
  opts: { thresholds: DriftThresholds; minSamples: number },
): Promise<SignalDrift[]> {
  const bag = new ParamBag()
  const sizes = await select<{ sig: number; n_ref: number; n_cur: number }>(
    client,
    unionOfSignals(project, sets, specs, bag, (i, src) => `SELECT ${i} AS sig, countIf(side = 0) AS n_ref, countIf(side = 1) AS n_cur FROM (${src})`),
    bag.values,
  )
  const n = new Map(sizes.map((s) => [num(s.sig), { ref: num(s.n_ref), cur: num(s.n_cur) }]))
  const out: Array<SignalDrift | undefined> = specs.map((spec, i) => {
    const { ref = 0, cur = 0 } = n.get(i) ?? {}
    if (ref >= opts.minSamples && cur >= opts.minSamples) return undefined
    return { signal: spec.signal, type: 'text', nReference: ref, nCurrent: cur, status: 'not_enough_data', method: null, drifted: null, statistics: [] }
  })
  // Only what is sampled is tokenized: the sampling condition joins the signal's own, so the
  // text of a span left out is read but never split. The thresholds are integers of ours.
  const todo = specs.flatMap((spec, i) => {
    if (out[i] !== undefined) return []
    const { ref, cur } = n.get(i) as { ref: number; cur: number }
    const keep = `cityHash64(start_time) % ${SAMPLE_RANGE} < if(side = 0, ${sampleThreshold(ref)}, ${sampleThreshold(cur)})`
    return [{ spec: { ...spec, where: `(${spec.where}) AND ${keep}` }, i }]
  })
  if (todo.length === 0) return out as SignalDrift[]
  const counts = await categoryCounts(
    client,
    project,
    sets,
    todo.map((x) => x.spec),
    (_, src) => `SELECT cityHash64(arrayJoin(tokens(lower(${contentText('v', TEXT_PREFIX_CHARS)})))) % ${TEXT_BUCKETS} AS k, side FROM (${src})`,
  )
  const t = opts.thresholds.textJsDistance
  for (const [j, { i }] of todo.entries()) {
    const spec = specs[i] as SignalSpec
    const { ref, cur } = n.get(i) as { ref: number; cur: number }
    const row = distributionStats(counts.get(j) ?? [])
    out[i] = {
      signal: spec.signal,
      type: 'text',
      nReference: ref,
      nCurrent: cur,
      status: 'ok',
      method: 'js',
      ...decide([{ name: 'js', value: row.js, pValue: null, threshold: t, drifted: row.js >= t }], 'js'),
      detail: {
        buckets: TEXT_BUCKETS,
        referenceTokens: row.nRef,
        currentTokens: row.nCur,
        sampled: ref > TEXT_SAMPLE_SPANS || cur > TEXT_SAMPLE_SPANS,
      },
    }
  }
  return out as SignalDrift[]
}
