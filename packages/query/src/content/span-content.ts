import { type ClickHouseClient, ParamBag, select } from '../db.js'

/**
 * Content that arrived as GenAI log records (`span_content`, clickhouse/007_logs.sql),
 * shown on its span. Spans and their logs come in separate requests, in any order, so
 * nothing is merged as they are received. Reads of a few spans fill a span's empty input,
 * output and finish reason from its content rows at once, whichever arrived first: the
 * API's trace tree and span listings (JS, `withContent`), text search and the refusal
 * filter (filters.ts), group keys that read the prompt (SQL, `spansWithContent`) and the
 * sandbox's `spans` view (analyst_spans, 010_content_merge.sql, the same SQL). Analytics
 * over many spans (drift's text signals, bias refusals) read spans as stored, onto which the
 * server's content merge (content/merge.ts) writes the same rule's result within seconds.
 * One rule for all of them:
 *
 * - input: the content's when the span has none, or only gen_ai.system_instructions
 *   (the details event repeats those as its first message);
 * - output and finish reason: the content's when the span has none;
 * - a column the content merge filled (content_filled) takes the content again.
 *
 * A span's content rows merge in (time, received, seq) order: the record's time, then when
 * the server took its request (records of one time sent in separate requests, as a
 * SimpleLogRecordProcessor sends them), then its place in the request. Each row's JSON
 * message array is spliced into one array, byte for byte what the span would hold had the
 * library put the events on it (one row is used as it is).
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
  `if(length(${list}) <= 1, ${list}[1].4, concat('[', arrayStringConcat(arrayFlatten(arrayMap(x -> JSONExtractArrayRaw(x.4), ${list})), ','), ']'))`

/** span_content rows matching `where` merged per (trace_id, span_id); `keys` adds leading key columns (`project_id, `). */
export function contentSql(where: string, keys = ''): string {
  return `SELECT ${keys}trace_id, span_id, ${spliced('ins')} AS input, ${spliced('outs')} AS output, finishes[1].4 AS finish_reason
    FROM (
      SELECT ${keys}trace_id, span_id,
        arraySort(groupArrayIf((time, received, seq, input), input != '')) AS ins,
        arraySort(groupArrayIf((time, received, seq, output), output != '')) AS outs,
        arraySort(groupArrayIf((time, received, seq, finish_reason), finish_reason != '')) AS finishes
      FROM span_content FINAL WHERE ${where} GROUP BY ${keys}trace_id, span_id)`
}

/** The span columns content fills. */
export type ContentColumn = 'input' | 'output' | 'finish_reason'

/**
 * Whether content would fill `column` of the span under `alias` (`s.`, or '' for bare columns):
 * the column is empty (an input holding only the system instructions counts), or the content
 * merge filled it (010_content_merge.sql's content_filled), so content that arrived since takes
 * it again, all of it in (time, received, seq) order.
 */
function fillable(alias: string, column: ContentColumn): string {
  const merged = `bitTest(${alias}content_filled, ${CONTENT_BITS[column]})`
  if (column === 'input') return `${alias}input = '' OR ${alias}${SYSTEM_ONLY} OR ${merged}`
  return `${alias}${column} = '' OR ${merged}`
}

/** content_filled's bit for each column. */
export const CONTENT_BITS: Record<ContentColumn, number> = { input: 0, output: 1, finish_reason: 2 }

/** Whether `c`'s content fills `column` of span `s` (contentSql's row and a span): the rule's one condition. */
export const fills = (column: ContentColumn): string => `(${fillable('s.', column)}) AND c.${column} != ''`

/**
 * A span as sent that content could fill, read from sizes (the text itself is not read):
 * for the content merge's spans that arrived (content/merge.ts), whose content_filled is 0.
 */
export const FILLABLE_NOW = `input.size = 0 OR ${SYSTEM_ONLY} OR output.size = 0 OR finish_reason = ''`

/** The rule in SQL, over `s` (spans) and `c` (contentSql). */
const FILLED = {
  input: `if(${fills('input')}, c.input, s.input)`,
  output: `if(${fills('output')}, c.output, s.output)`,
  finish_reason: `if(${fills('finish_reason')}, c.finish_reason, s.finish_reason)`,
}

/**
 * `spans FINAL` of one project with content filled, as a table expression (FROM ...): every
 * column of `spans`, read at once, whatever the content merge has done yet. `project` is the
 * project's parameter placeholder; `traces`, an Array(String) parameter's, keeps the spans
 * and the content of those traces only (a few traces' reads: the content is then merged for
 * them alone, not for the whole project). Content rows are merged per span, one row per key,
 * so ANY and ALL joins give the same rows. The join reads every selected span's trace and
 * span ids: analytics over many spans read spans as stored instead (content/merge.ts).
 */
export function spansWithContent(project: string, traces?: string): string {
  const of = (alias: string) => (traces === undefined ? '' : ` AND ${alias}trace_id IN ${traces}`)
  return `(SELECT s.* REPLACE (${FILLED.input} AS input, ${FILLED.output} AS output, ${FILLED.finish_reason} AS finish_reason)
    FROM spans AS s FINAL
    LEFT ANY JOIN (${contentSql(`project_id = ${project}${of('')}`)}) AS c ON s.trace_id = c.trace_id AND s.span_id = c.span_id
    WHERE s.project_id = ${project}${of('s.')})`
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
    ` OR ((${fillable(alias, 'input')}) AND ${fromContent('input')})` +
    ` OR ((${fillable(alias, 'output')}) AND ${fromContent('output')}))`
}

/**
 * The `refusal` flag (005_refusal.sql) as shown, for filters.ts's `refusal`: a span whose
 * output or finish reason would be filled is judged on its content rows too (a
 * content_filter finish or a refusal phrase, `phrases` the list's parameter placeholder).
 */
export function contentRefusal(alias: string, project: string, phrases: string): string {
  const keys = `(${alias}trace_id, ${alias}span_id)`
  const refusing = `SELECT trace_id, span_id FROM span_content WHERE project_id = ${project} AND (finish_reason = 'content_filter' OR multiSearchAnyCaseInsensitive(output, ${phrases}))`
  return `(${alias}refusal = 1 OR ((${fillable(alias, 'output')} OR ${fillable(alias, 'finish_reason')}) AND ${keys} IN (${refusing})))`
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
  content_filled: number
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
    const merged = (column: ContentColumn) => (Number(r.content_filled) & (1 << CONTENT_BITS[column])) !== 0
    if (out.input !== undefined && (out.input === '' || out.attributes['spanlens.input.source'] === 'gen_ai.system_instructions' || merged('input')) && c.input !== '') out.input = c.input
    if (out.output !== undefined && (out.output === '' || merged('output')) && c.output !== '') out.output = c.output
    if ((out.finish_reason === '' || merged('finish_reason')) && c.finish_reason !== '') out.finish_reason = c.finish_reason
    return out
  })
}
