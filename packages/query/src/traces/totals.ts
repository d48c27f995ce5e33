import { tokenSums, type Tokens, tokensOf } from './span-row.js'

/**
 * What a trace's (or a session's) spans add up to, counted in ClickHouse over every span:
 * the trace listing, a trace and a session read them from one SELECT list, so their
 * numbers agree and none depends on how many spans a reply shows.
 */
export interface SpanTotals {
  spans: number
  errors: number
  llmCalls: number
  /** each token count summed over the spans */
  tokens: Tokens
  costUsd: number
  /** true when at least one LLM span had no known price */
  costIncomplete: boolean
}

/** SELECT items (no leading SELECT) aggregating the spans of a group; read back with totalsOf(). */
export const TOTALS_SELECT = [
  'count() AS spans',
  "countIf(status_code = 'error') AS errors",
  "countIf(kind = 'llm') AS llm",
  tokenSums('sum_'),
  'sum(ifNull(cost_usd, 0)) AS cost',
  "countIf(kind = 'llm' AND cost_usd IS NULL) AS cost_unknown",
  'toString(toUnixTimestamp64Nano(min(start_time))) AS first_ns',
  'toString(toUnixTimestamp64Nano(max(end_time))) AS last_ns',
].join(', ')

/** What a row selected with TOTALS_SELECT says: the totals, the first start and last end (ns, as text) and the time between. */
export function totalsOf(row: Record<string, unknown>): { totals: SpanTotals; firstNs: string; lastNs: string; durationMs: number } {
  const firstNs = String(row.first_ns)
  const lastNs = String(row.last_ns)
  return {
    totals: {
      spans: Number(row.spans),
      errors: Number(row.errors),
      llmCalls: Number(row.llm),
      tokens: tokensOf(row, 'sum_'),
      costUsd: Number(row.cost),
      costIncomplete: Number(row.cost_unknown) > 0,
    },
    firstNs,
    lastNs,
    // From the first start to the last end, in ms from nanoseconds.
    durationMs: Number(BigInt(lastNs) - BigInt(firstNs)) / 1e6,
  }
}
