import type { SpanRow } from './row.js'

/**
 * Two instrumentations on one model call (OpenLLMetry's `chat claude-haiku-4-5`
 * around the Anthropic SDK's own `anthropic.messages.create`, recorded in
 * test/fixtures/otlp/openllmetry-anthropic; an agent framework's LLM span around an
 * OpenAI instrumentation's) each report the call with the same usage, and every
 * token and cost sum would count it twice. The inner span of
 * such a pair stays in the trace, demoted: kind `other`, no tokens or cost in its
 * columns (every sum, the per-minute rollup, drift, bias and SLOs skip it by
 * construction), its usage kept in attributes and `spanlens.duplicate_of` naming
 * the span that counts.
 */
export const DUPLICATE_OF = 'spanlens.duplicate_of'

/** A model call that could be one of a stacked pair, inner or outer: it reports usage, or failed without any. */
export function mayBeStacked(row: SpanRow): boolean {
  return countsUsage(row) || isFailedCallWithoutUsage(row)
}

/** A model call that reports usage and counts (not demoted). */
export function countsUsage(row: SpanRow): boolean {
  return (row.kind === 'llm' || row.kind === 'embedding') && row.input_tokens + row.output_tokens > 0
}

function isFailedCallWithoutUsage(row: SpanRow): boolean {
  return (row.kind === 'llm' || row.kind === 'embedding') && row.status_code === 'error' && row.input_tokens + row.output_tokens === 0 && row.request_model !== ''
}

/**
 * Demotes, in place, each row whose parent is a model call of the same kind,
 * trace and usage, and a failed call without usage whose parent is the same
 * model's failed call without usage. Rows of one export request are compared here: an SDK's batch
 * processor mostly exports a call's spans together (they end within milliseconds). A pair with
 * usage split across two requests is matched by the server's memory of recent calls
 * (pipeline/recent-model-calls.ts); a failed pair split so is counted twice (docs/conventions.md).
 */
export function demoteStackedCalls(rows: readonly SpanRow[]): number {
  if (rows.length < 2) return 0
  const byId = new Map<string, SpanRow>()
  for (const row of rows) byId.set(`${row.trace_id}/${row.span_id}`, row)
  // Decided against the rows as they came in: in a stack of three, each inner
  // row points at its own parent, and only the outermost keeps its usage.
  const inner: Array<[SpanRow, SpanRow]> = []
  const failedChildren = new Map<SpanRow, SpanRow[]>()
  for (const row of rows) {
    if (row.parent_span_id === '') continue
    const parent = byId.get(`${row.trace_id}/${row.parent_span_id}`)
    if (!parent || parent.kind !== row.kind) continue
    if (countsUsage(row)) {
      if (parent.input_tokens === row.input_tokens && parent.output_tokens === row.output_tokens) inner.push([row, parent])
    } else if (isFailedCallWithoutUsage(row) && isFailedCallWithoutUsage(parent) && row.request_model === parent.request_model) {
      const siblings = failedChildren.get(parent)
      if (siblings) siblings.push(row)
      else failedChildren.set(parent, [row])
    }
  }
  // A failed call has no usage to match on: the pair is the one failed model call of
  // the same model directly under another (a retrying wrapper's several failed
  // attempts under one errored span stay counted, each an attempt).
  for (const [parent, children] of failedChildren) if (children.length === 1) inner.push([children[0]!, parent])
  for (const [row, parent] of inner) {
    fillGaps(parent, row)
    demote(row, parent.span_id)
  }
  return inner.length
}

/**
 * What only the inner span measured moves to the span that counts: over a streamed
 * call the Anthropic SDK's own span has the time to first token and the stop reason
 * and OpenLLMetry's span around it has neither, and TTFT statistics read model
 * calls only, so a demoted span's TTFT would count nowhere.
 */
function fillGaps(counted: SpanRow, duplicate: SpanRow): void {
  if (counted.ttft_ms === null && duplicate.ttft_ms !== null) counted.ttft_ms = duplicate.ttft_ms
  if (counted.finish_reason === '' && duplicate.finish_reason !== '') counted.finish_reason = duplicate.finish_reason
  if (counted.response_model === '' && duplicate.response_model !== '') counted.response_model = duplicate.response_model
}

/** Makes `row` a duplicate of the call `countedSpanId`: kind other, no usage or cost in its columns, its own in attributes. */
export function demote(row: SpanRow, countedSpanId: string): void {
  row.attributes[DUPLICATE_OF] = countedSpanId
  row.attributes['spanlens.duplicate.kind'] = row.kind
  moveUsage(row, 'spanlens.duplicate')
  row.kind = 'other'
}

/**
 * Tokens count on model calls only (kind llm or embedding), as docs/conventions.md says
 * to aggregate them. A span of another kind that reports usage repeats the usage of the
 * calls under it: the Vercel AI SDK's ai.streamText and ai.generateText (kind chain)
 * carry the sum of their doStream/doGenerate steps, and every token sum, the trace's
 * and the per-minute rollup's, counted it twice. Its usage moves to attributes
 * (`spanlens.reported.*`), where the trace view still shows it.
 */
export function keepUsageOnModelCalls(row: SpanRow): void {
  if (row.kind === 'llm' || row.kind === 'embedding') return
  if (row.input_tokens + row.output_tokens + row.total_tokens + row.cache_read_tokens + row.cache_write_tokens + row.reasoning_tokens === 0 && row.cost_usd === null) return
  moveUsage(row, 'spanlens.reported')
}

/** Moves `row`'s token counts and cost from its columns to attributes under `prefix`. */
function moveUsage(row: SpanRow, prefix: string): void {
  const a = row.attributes
  a[`${prefix}.input_tokens`] = String(row.input_tokens)
  a[`${prefix}.output_tokens`] = String(row.output_tokens)
  a[`${prefix}.total_tokens`] = String(row.total_tokens)
  if (row.cache_read_tokens) a[`${prefix}.cache_read_tokens`] = String(row.cache_read_tokens)
  if (row.cache_write_tokens) a[`${prefix}.cache_write_tokens`] = String(row.cache_write_tokens)
  if (row.reasoning_tokens) a[`${prefix}.reasoning_tokens`] = String(row.reasoning_tokens)
  if (row.cost_usd !== null) a[`${prefix}.cost_usd`] = String(row.cost_usd)
  row.input_tokens = 0
  row.output_tokens = 0
  row.total_tokens = 0
  row.cache_read_tokens = 0
  row.cache_write_tokens = 0
  row.reasoning_tokens = 0
  row.cost_usd = null
}
