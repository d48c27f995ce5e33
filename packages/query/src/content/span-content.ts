import { REFUSAL_PHRASES } from '../bias/refusal-phrases.js'
import { type ClickHouseClient, ParamBag, select } from '../db.js'

/**
 * Content that arrived as GenAI log records (`span_content`, clickhouse/007_logs.sql),
 * shown on its span. Spans and their logs come in separate requests, in any order, so
 * nothing is merged at ingest: every read that shows or analyses content fills a span's
 * empty input, output and finish reason from its content rows, whichever arrived
 * first. The API's trace tree and span listings (JS, `withContent`), text search
 * (filters.ts), bias refusals and drift's text signals (SQL, `spansWithContent`) and the
 * sandbox's `spans` view (007's analyst_spans, the same SQL) all apply this one rule:
 *
 * - input: the content's when the span has none, or only gen_ai.system_instructions
 *   (the details event repeats those as its first message);
 * - output and finish reason: the content's when the span has none.
 *
 * A span's content rows merge in (time, seq) order: each row's JSON message array is
 * spliced into one array, byte for byte what the span would hold had the library put
 * the events on it (one row is used as it is).
 */

/** A span's content merged from its span_content rows. */
export interface SpanContent {
  trace_id: string
  span_id: string
  input: string
  output: string
  finish_reason: string
}

/** The attribute and value that mark a span's input as the system instructions alone (normalize.ts). */
const SYSTEM_ONLY = "attributes['spanlens.input.source'] = 'gen_ai.system_instructions'"

const spliced = (list: string): string =>
  `if(length(${list}) <= 1, ${list}[1].3, concat('[', arrayStringConcat(arrayFlatten(arrayMap(x -> JSONExtractArrayRaw(x.3), ${list})), ','), ']'))`

/** span_content rows matching `where` merged per (trace_id, span_id). */
function contentSql(where: string): string {
  return `SELECT trace_id, span_id, ${spliced('ins')} AS input, ${spliced('outs')} AS output, finishes[1].3 AS finish_reason
    FROM (
      SELECT trace_id, span_id,
        arraySort(groupArrayIf((time, seq, input), input != '')) AS ins,
        arraySort(groupArrayIf((time, seq, output), output != '')) AS outs,
        arraySort(groupArrayIf((time, seq, finish_reason), finish_reason != '')) AS finishes
      FROM span_content FINAL WHERE ${where} GROUP BY trace_id, span_id)`
}

/** The rule in SQL, over `s` (spans) and `c` (contentSql). */
const FILLED = {
  input: `if((s.input = '' OR s.${SYSTEM_ONLY}) AND c.input != '', c.input, s.input)`,
  output: "if(s.output = '' AND c.output != '', c.output, s.output)",
  finish_reason: "if(s.finish_reason = '' AND c.finish_reason != '', c.finish_reason, s.finish_reason)",
}

/**
 * `spans FINAL` of one project with content filled, as a table expression (FROM ...):
 * every column of `spans`, and with `refusal` set, the `refusal` flag too, recomputed where
 * content filled the output or finish reason (005_refusal.sql's rule, bias/refusal-phrases.ts's
 * list). `project` is the project's parameter placeholder.
 *
 * Content rows are merged per span, one row per key, so ANY and ALL joins give the same rows.
 * The refusal flag reads the span's own output only through its size: the stored flag already
 * says whether that output holds a phrase (005 computes it with the same list, which
 * bias.test.ts checks), so no span's own completion, often kilobytes, is read for it.
 */
export function spansWithContent(bag: ParamBag, project: string, options: { refusal?: boolean } = {}): string {
  let refusal = ''
  if (options.refusal) {
    const phrases = bag.add(REFUSAL_PHRASES, 'Array(String)')
    const output = "s.output.size = 0 AND c.output != ''"
    const finish = "s.finish_reason = '' AND c.finish_reason != ''"
    // Output filled: judged on the content's output and the finish reason as shown. Only the
    // finish reason filled: the span's own output (its stored flag, its finish reason being empty) or the content's content_filter.
    refusal = `, multiIf(${output}, toUInt8(${FILLED.finish_reason} = 'content_filter' OR multiSearchAnyCaseInsensitive(c.output, ${phrases})),
        ${finish}, toUInt8(c.finish_reason = 'content_filter' OR s.refusal = 1), s.refusal) AS refusal`
  }
  return `(SELECT s.* REPLACE (${FILLED.input} AS input, ${FILLED.output} AS output, ${FILLED.finish_reason} AS finish_reason)${refusal}
    FROM spans AS s FINAL
    LEFT ANY JOIN (${contentSql(`project_id = ${project}`)}) AS c ON s.trace_id = c.trace_id AND s.span_id = c.span_id
    WHERE s.project_id = ${project})`
}

/**
 * For the existence checks below (`LIMIT 1` without an order): every shard reads to its end
 * instead of being cancelled once another shard has answered. On a cluster of served engines
 * (ClickHouse 26.7 through chDB's libchdb) a remote read cancelled mid-stream can end that
 * shard's process (std::terminate, SIGABRT): the refusal bias over content from logs took a
 * shard down in four of six cluster runs of otlp-logs.test.ts with a bare `LIMIT 1`, in none of
 * six with this. The check then reads the sizes and finish reasons of its whole window, not
 * up to the first match.
 */
const NO_EARLY_CANCEL = 'SETTINGS exact_rows_before_limit = 1'

/** The span columns content fills. */
export type ContentColumn = 'input' | 'output' | 'finish_reason'

export const CONTENT_COLUMNS: readonly ContentColumn[] = ['input', 'output', 'finish_reason']

/** A span whose column content would fill (FILLED's first half), read from sizes where it can be. */
const FILLABLE: Record<ContentColumn, string> = {
  input: `(input.size = 0 OR ${SYSTEM_ONLY})`,
  output: 'output.size = 0',
  finish_reason: "finish_reason = ''",
}

/**
 * Whether content from logs could change `columns` on any span `where` selects (conditions
 * over `spans`, with `params`; they must select at least every span the read does, e.g.
 * filters.ts's contentFreeFilter). Content fills only an empty input, output or finish reason
 * (or an input holding only the system instructions): when no selected span has one, or the
 * project has no content row, `spansWithContent` equals `spans FINAL` on those columns, and
 * the read takes `spans FINAL`. The join is not cheap whatever it fills: it reads every selected
 * span's trace and span ids (at 10 million spans with content for 1 in 1,000, prompt drift
 * took 4.6 times as long with it; bench/README.md, "Query"). This check reads sizes and
 * finish reasons (and, for the input, the attributes) of every selected span (NO_EARLY_CANCEL).
 * Without FINAL: any stored version counts, so it errs only towards the join.
 */
export async function contentMayFill(
  client: ClickHouseClient,
  project: string,
  where: readonly string[],
  params: Record<string, unknown>,
  columns: readonly ContentColumn[],
): Promise<boolean> {
  if (columns.length === 0 || !(await projectHasContent(client, project))) return false
  const fillable = [...new Set(columns)].map((c) => FILLABLE[c]).join(' OR ')
  const rows = await select<{ one: number }>(client, `SELECT 1 AS one FROM spans WHERE ${where.map((w) => `(${w})`).join(' AND ')} AND (${fillable}) LIMIT 1 ${NO_EARLY_CANCEL}`, params)
  return rows.length > 0
}

/**
 * The spans a read of `columns` as shown takes, as a table expression: `spansWithContent`,
 * with the refusal flag, where content may fill one of them on a span `where` selects
 * (contentMayFill), else `spans FINAL`. `where`'s parameters are in `bag`.
 */
export async function spansShown(client: ClickHouseClient, bag: ParamBag, project: string, where: readonly string[], columns: readonly ContentColumn[]): Promise<string> {
  return (await contentMayFill(client, project, where, bag.values, columns)) ? spansWithContent(bag, bag.add(project, 'String'), { refusal: true }) : 'spans FINAL'
}

/**
 * Whether the project has any span_content row. Without one, `spansWithContent` fills
 * nothing and equals `spans FINAL`. Any row counts, whatever its time: a log record's
 * timestamp need not fall in the window of the span it belongs to. One primary-key lookup
 * (the table is ordered by project first), a few milliseconds.
 */
async function projectHasContent(client: ClickHouseClient, project: string): Promise<boolean> {
  const bag = new ParamBag()
  const rows = await select<{ one: number }>(client, `SELECT 1 AS one FROM span_content WHERE project_id = ${bag.add(project, 'String')} LIMIT 1 ${NO_EARLY_CANCEL}`, bag.values)
  return rows.length > 0
}

/**
 * A text match (`match(column)` gives the condition) on a span's shown input or output,
 * its content's included: for filters.ts's `text` (`q=`), over `spans` columns under
 * `alias`; `project` is the project's parameter placeholder.
 */
export function contentTextMatch(alias: string, project: string, match: (column: string) => string): string {
  const keys = `(${alias}trace_id, ${alias}span_id)`
  const fromContent = (column: string) => `${keys} IN (SELECT trace_id, span_id FROM span_content WHERE project_id = ${project} AND ${match(column)})`
  return `(${match(`${alias}input`)} OR ${match(`${alias}output`)}` +
    ` OR ((${alias}input = '' OR ${alias}${SYSTEM_ONLY}) AND ${fromContent('input')})` +
    ` OR (${alias}output = '' AND ${fromContent('output')}))`
}

/**
 * The `refusal` flag (005_refusal.sql) as shown, for filters.ts's `refusal`: a span whose
 * output or finish reason would be filled is judged on its content rows too (a
 * content_filter finish or a refusal phrase, `phrases` the list's parameter placeholder).
 */
export function contentRefusal(alias: string, project: string, phrases: string): string {
  const keys = `(${alias}trace_id, ${alias}span_id)`
  const refusing = `SELECT trace_id, span_id FROM span_content WHERE project_id = ${project} AND (finish_reason = 'content_filter' OR multiSearchAnyCaseInsensitive(output, ${phrases}))`
  return `(${alias}refusal = 1 OR ((${alias}output = '' OR ${alias}finish_reason = '') AND ${keys} IN (${refusing})))`
}

/** The merged content of every span of these traces that has any, by `trace_id:span_id`. */
export async function contentOf(client: ClickHouseClient, project: string, traceIds: readonly string[]): Promise<Map<string, SpanContent>> {
  if (traceIds.length === 0) return new Map()
  const bag = new ParamBag()
  const rows = await select<SpanContent>(
    client,
    contentSql(`project_id = ${bag.add(project, 'String')} AND trace_id IN ${bag.add([...new Set(traceIds)], 'Array(String)')}`),
    bag.values,
  )
  return new Map(rows.map((r) => [`${r.trace_id}:${r.span_id}`, r]))
}

/** The fields of a selected span row the rule reads and fills (input and output only when selected). */
interface ContentFields {
  trace_id: string
  span_id: string
  finish_reason: string
  attributes: Record<string, string>
  input?: string
  output?: string
}

/** The rule in JS, on rows as selected (span-row.ts): the same decisions as FILLED. */
export function withContent<R extends ContentFields>(rows: R[], content: ReadonlyMap<string, SpanContent>): R[] {
  if (content.size === 0) return rows
  return rows.map((r) => {
    const c = content.get(`${r.trace_id}:${r.span_id}`)
    if (!c) return r
    const out = { ...r }
    if (out.input !== undefined && (out.input === '' || out.attributes['spanlens.input.source'] === 'gen_ai.system_instructions') && c.input !== '') out.input = c.input
    if (out.output !== undefined && out.output === '' && c.output !== '') out.output = c.output
    if (out.finish_reason === '' && c.finish_reason !== '') out.finish_reason = c.finish_reason
    return out
  })
}
