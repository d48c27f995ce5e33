import { z } from 'zod'
import { type ClickHouseClient, ParamBag, num, selectOne } from '../db.js'
import { errors } from '../errors.js'
import { filterObject, filterText, spanConditions, toSpanFilter } from '../filters.js'
import { invalidFields } from '../params.js'
import { binomialTwoSidedHalf, chiSquaredSf } from '../stats/distributions.js'
import { meanDifferenceTest } from '../stats/proportions.js'
import { refusalExpr } from './groups.js'
import { LIVE_SCORES } from '../scores/live.js'

/** Span attributes that mark the two sides of a counterfactual prompt pair. */
const PAIR_ID_ATTR = 'spanlens.counterfactual.pair_id'
const PAIR_SIDE_ATTR = 'spanlens.counterfactual.side'

const counterfactualRequestSchema = z
  .object({
    filter: filterObject.optional(),
    score: filterText.default('feedback'),
    alpha: z.number().gt(0).lt(1).default(0.05),
    refusalPhrases: z.array(filterText.min(1)).max(200).optional(),
    minPairs: z.number().int().min(1).default(10),
  })
  .strict()
export type CounterfactualRequest = z.input<typeof counterfactualRequestSchema>

interface PairedComparison {
  pairs: number
  meanA: number | null
  meanB: number | null
  /** mean of (b − a) over pairs */
  meanDifference: number | null
  /** paired z-test on the differences (normal approximation) */
  pValue: number | null
  /**
   * `paired_z`, or `zero_variance` when every pair differs by the same amount: that
   * difference is exact (p = 0 when it is not zero, 1 when it is); null with fewer than 2 pairs
   */
  method: 'paired_z' | 'zero_variance' | null
  significant: boolean | null
}

export interface CounterfactualReport {
  pairs: number
  refusal: {
    pairs: number
    rateA: number
    rateB: number
    /** pairs where only side a refused / only side b refused */
    onlyA: number
    onlyB: number
    /** McNemar: exact binomial when discordant pairs < 25, else χ² without continuity correction */
    pValue: number
    method: 'mcnemar_exact' | 'mcnemar_chi2'
    significant: boolean
  }
  outputLength: PairedComparison
  score: PairedComparison
}

/**
 * Spans tagged attributes[spanlens.counterfactual.pair_id] = <id> and
 * attributes[spanlens.counterfactual.side] = 'a' | 'b' (the same prompt with one
 * demographic term swapped). Pairs missing a side are ignored; several spans on a
 * side are averaged (refusal: any). Scores join through the span's trace.
 */
export async function counterfactual(client: ClickHouseClient, project: string, request: CounterfactualRequest = {}, now = new Date()): Promise<CounterfactualReport> {
  const parsed = counterfactualRequestSchema.safeParse(request)
  if (!parsed.success) throw invalidFields(parsed.error)
  const r = parsed.data
  const bag = new ParamBag()
  const filter = toSpanFilter(r.filter, now, 'filter.')
  const where = spanConditions(project, filter, bag)
  const pid = bag.add(PAIR_ID_ATTR, 'String')
  const side = bag.add(PAIR_SIDE_ATTR, 'String')
  // Refusals read the completion and finish reason as stored, content from logs merged (content/merge.ts).
  const pairedSpans = `attributes[${pid}] != '' AND attributes[${side}] IN ('a', 'b')`
  const phrases = r.refusalPhrases ? bag.add(r.refusalPhrases, 'Array(String)') : null
  const p = bag.add(project, 'String')
  const scoreName = bag.add(r.score, 'String')
  const row = await selectOne<Record<string, number | null>>(
    client,
    `WITH per_side AS (
       SELECT sp.pair, sp.side, max(sp.refused) AS refused, avg(sp.len) AS len, avgIf(sc.v, sc.trace_id != '') AS score0, if(countIf(sc.trace_id != '') > 0, score0, NULL) AS score
       FROM (SELECT attributes[${pid}] AS pair, attributes[${side}] AS side, trace_id,
                    toUInt8(${refusalExpr(phrases)}) AS refused, toFloat64(output_tokens) AS len
             FROM spans FINAL WHERE ${where.join(' AND ')} AND ${pairedSpans}) AS sp
       LEFT JOIN (SELECT trace_id, avg(assumeNotNull(value)) AS v FROM ${LIVE_SCORES}
                  AND project_id = ${p} AND name = ${scoreName} AND value IS NOT NULL GROUP BY trace_id) AS sc
       ON sp.trace_id = sc.trace_id
       GROUP BY sp.pair, sp.side),
     pairs AS (
       SELECT pair, anyIf(refused, side = 'a') AS ra, anyIf(refused, side = 'b') AS rb,
              anyIf(len, side = 'a') AS la, anyIf(len, side = 'b') AS lb,
              anyIf(score, side = 'a') AS sa, anyIf(score, side = 'b') AS sb
       FROM per_side GROUP BY pair HAVING countIf(side = 'a') = 1 AND countIf(side = 'b') = 1)
     SELECT count() AS n, sum(ra) AS refused_a, sum(rb) AS refused_b,
            countIf(ra = 1 AND rb = 0) AS only_a, countIf(ra = 0 AND rb = 1) AS only_b,
            avg(la) AS mean_la, avg(lb) AS mean_lb, avg(lb - la) AS mean_dl, varSamp(lb - la) AS var_dl,
            countIf(sa IS NOT NULL AND sb IS NOT NULL) AS n_s,
            avgIf(sa, sa IS NOT NULL AND sb IS NOT NULL) AS mean_sa, avgIf(sb, sa IS NOT NULL AND sb IS NOT NULL) AS mean_sb,
            avgIf(sb - sa, sa IS NOT NULL AND sb IS NOT NULL) AS mean_ds, varSampIf(sb - sa, sa IS NOT NULL AND sb IS NOT NULL) AS var_ds
     FROM pairs`,
    bag.values,
  )
  const n = num(row.n)
  if (n < r.minPairs) throw errors.NOT_ENOUGH_DATA(`${n} complete counterfactual pairs; at least ${r.minPairs} are needed`)
  const onlyA = num(row.only_a)
  const onlyB = num(row.only_b)
  const disc = onlyA + onlyB
  const exact = disc < 25
  const mcnemarP = disc === 0 ? 1 : exact ? binomialTwoSidedHalf(onlyA, disc) : chiSquaredSf((onlyA - onlyB) ** 2 / disc, 1)
  const paired = (pairs: number, ma: unknown, mb: unknown, md: unknown, vd: unknown): PairedComparison => {
    if (pairs === 0) return { pairs, meanA: null, meanB: null, meanDifference: null, pValue: null, method: null, significant: null }
    const meanA = num(ma)
    const meanB = num(mb)
    const d = num(md)
    // varSamp of one difference is nan: one pair gives no test.
    const t = pairs > 1 ? meanDifferenceTest(d, Math.sqrt(num(vd) / pairs), Math.max(Math.abs(meanA), Math.abs(meanB))) : null
    const pValue = t?.p ?? null
    const method = t === null ? null : t.method === 'z' ? 'paired_z' : 'zero_variance'
    return { pairs, meanA, meanB, meanDifference: d, pValue, method, significant: pValue === null ? null : pValue < r.alpha }
  }
  return {
    pairs: n,
    refusal: {
      pairs: n,
      rateA: num(row.refused_a) / n,
      rateB: num(row.refused_b) / n,
      onlyA,
      onlyB,
      pValue: mcnemarP,
      method: exact ? 'mcnemar_exact' : 'mcnemar_chi2',
      significant: mcnemarP < r.alpha,
    },
    outputLength: paired(n, row.mean_la, row.mean_lb, row.mean_dl, row.var_dl),
    score: paired(num(row.n_s), row.mean_sa, row.mean_sb, row.mean_ds, row.var_ds),
  }
}
