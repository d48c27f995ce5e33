import { z } from 'zod'
import { attributeNumberSql } from './attribute-numbers.js'
import { REFUSAL_PHRASES } from './bias/refusal-phrases.js'
import { contentRefusal, contentTextMatch, spansWithContent } from './content/span-content.js'
import { ParamBag } from './db.js'
import { errors } from './errors.js'
import { GROUP_KEYS_HELP, groupKey } from './group-keys.js'
import { TRACE_ID } from './ids.js'
import { DECIMAL, FLAG, fieldPath, invalidFields, oneValueEach } from './params.js'
import { SPAN_KINDS, SPAN_STATUSES, type SpanKind } from './span-kinds.js'
import { type NumberCondition, type SpanNumber, SPAN_NUMBER_KEYS, SPAN_NUMBERS, formatCondition, numberConditions, numberConditionsSql, parseComparison, parseConditions, readConditions } from './span-numbers.js'
import { chTime, parseTime } from './time.js'
import { LIVE_SCORES } from './scores/live.js'

export { MODEL_EXPR } from './group-keys.js'

/** What a caller can narrow spans by. Lists mean "any of". */
export interface SpanFilter extends Partial<Record<SpanNumber, NumberCondition[]>> {
  from?: Date
  to?: Date
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
  /** span attribute equality, all must hold */
  attributes?: Record<string, string>
  /** span attributes read as numbers (as the `attr_num:<key>` drift signal reads them), conditions that all hold */
  attributeNumbers?: Record<string, NumberCondition[]>
  /** resource attribute equality, all must hold */
  resource?: Record<string, string>
  /** case-insensitive substring of input or output, as shown (content from logs included) */
  text?: string
  /** any of these tags */
  tag?: string[]
  /** spans with an event of any of these names (`exception`: an error the app recorded with its stack trace) */
  event?: string[]
  /** spans made by any of these instrumentation scopes (`scope_name`: `@spanlens/sdk`, `openinference.instrumentation.openai`) */
  scope?: string[]
  /** true: refusals only (the `refusal` column: a content_filter finish or a refusal phrase); false: none */
  refusal?: boolean
  /** duration_ms at least / below this */
  minDurationMs?: number
  maxDurationMs?: number
  /** the span's trace has a score of this name matching the condition, all must hold */
  scores?: Record<string, ScoreCondition>
  /** the value of a group key (group-keys.ts: `language`, `user_prefix:3`, `model`…), all must hold */
  groups?: Record<string, string>
  /** spans that do not match this filter (all its conditions together); it has no time, nor a `not` */
  not?: SpanFilter
}

/**
 * A condition on a trace's score of one name: `*` (has one), numbers with an optional
 * operator that one score's value must all satisfy (`<=0`, `>0.2,<=0.4`: a drift bin of
 * a `score:<name>` signal), or a category (`positive`).
 */
type ScoreCondition = { op: 'any' } | { op: 'value'; conditions: NumberCondition[] } | { op: 'category'; value: string }

/** A value whose first comma part is a comparison is a list of them; anything else is a category. */
function parseScoreCondition(field: string, raw: string): ScoreCondition {
  const s = raw.trim()
  if (s === '*') return { op: 'any' }
  const first = parseComparison(s.split(',')[0] ?? '')
  if (first === null) return { op: 'category', value: s.startsWith('=') ? s.slice(1) : s }
  if ('error' in first) throw errors.BAD_REQUEST(`${field}: ${first.error}`)
  return { op: 'value', conditions: parseConditions(field, s) }
}

/** The query-string form of a score condition; null for a category that would read back as comparisons (`1`, `=2,x`). */
function formatScoreCondition(c: ScoreCondition): string | null {
  if (c.op === 'any') return '*'
  if (c.op === 'value') return c.conditions.map(formatCondition).join(',')
  return parseComparison(`=${c.value}`.split(',')[0] ?? '') === null ? `=${c.value}` : null
}

/** Dimensions the per-minute rollup keeps; a filter on anything else needs raw spans. */
const ROLLUP_FIELDS = new Set(['from', 'to', 'service', 'model', 'provider', 'operation', 'kind', 'environment', 'release'])

export function onlyRollupFields(f: SpanFilter): boolean {
  return Object.entries(f).every(([k, v]) => v === undefined || ROLLUP_FIELDS.has(k))
}

/**
 * SQL conditions over `spans` (no leading WHERE) scoping to the project and the
 * filter. Every value goes through a query parameter.
 */
export function spanConditions(project: string, f: SpanFilter, bag: ParamBag, alias = ''): string[] {
  const c = (col: string) => `${alias}${col}`
  const projectParam = bag.add(project, 'String')
  const out = [`${c('project_id')} = ${projectParam}`]
  if (f.from) out.push(`${c('start_time')} >= ${bag.add(chTime(f.from), "DateTime64(9, 'UTC')")}`)
  if (f.to) out.push(`${c('start_time')} < ${bag.add(chTime(f.to), "DateTime64(9, 'UTC')")}`)
  const inList = (col: string, values: string[] | undefined) => {
    if (values && values.length > 0) out.push(`${col} IN ${bag.add(values, 'Array(String)')}`)
  }
  inList(c('service_name'), f.service)
  inList(c('provider'), f.provider)
  inList(c('operation'), f.operation)
  inList(c('kind'), f.kind)
  inList(c('name'), f.name)
  inList(c('status_code'), f.status)
  inList(c('environment'), f.environment)
  inList(c('release'), f.release)
  inList(c('scope_name'), f.scope)
  if (f.model && f.model.length > 0) {
    const p = bag.add(f.model, 'Array(String)')
    out.push(`(${c('request_model')} IN ${p} OR ${c('response_model')} IN ${p})`)
  }
  if (f.userId !== undefined) out.push(`${c('user_id')} = ${bag.add(f.userId, 'String')}`)
  if (f.sessionId !== undefined) out.push(`${c('session_id')} = ${bag.add(f.sessionId, 'String')}`)
  if (f.traceId !== undefined) out.push(`${c('trace_id')} = ${bag.add(f.traceId, 'String')}`)
  for (const [k, v] of Object.entries(f.attributes ?? {})) {
    out.push(`${c('attributes')}[${bag.add(k, 'String')}] = ${bag.add(v, 'String')}`)
  }
  for (const [k, v] of Object.entries(f.attributeNumbers ?? {})) out.push(...attributeNumberSql(k, v, bag, alias))
  for (const [k, v] of Object.entries(f.resource ?? {})) {
    out.push(`${c('resource_attributes')}[${bag.add(k, 'String')}] = ${bag.add(v, 'String')}`)
  }
  if (f.tag && f.tag.length > 0) out.push(`hasAny(${c('tags')}, ${bag.add(f.tag, 'Array(String)')})`)
  if (f.event && f.event.length > 0) out.push(`hasAny(${c('events.name')}, ${bag.add(f.event, 'Array(String)')})`)
  if (f.refusal !== undefined) {
    // Content that arrived as GenAI log records counts, as everywhere content is read.
    const refused = contentRefusal(alias, projectParam, bag.add(REFUSAL_PHRASES, 'Array(String)'))
    out.push(f.refusal ? refused : `NOT ${refused}`)
  }
  // Numbers as text: @clickhouse/client refuses to serialize an integer beyond ±2^53 (1e21 is one).
  if (f.minDurationMs !== undefined) out.push(`${c('duration_ms')} >= ${bag.add(String(f.minDurationMs), 'Float64')}`)
  if (f.maxDurationMs !== undefined) out.push(`${c('duration_ms')} < ${bag.add(String(f.maxDurationMs), 'Float64')}`)
  for (const key of SPAN_NUMBER_KEYS) out.push(...numberConditionsSql(c(SPAN_NUMBERS[key]), f[key] ?? [], bag))
  for (const [key, value] of Object.entries(f.groups ?? {})) out.push(groupCondition(project, projectParam, key, value, f, bag, alias))
  for (const [name, cond] of Object.entries(f.scores ?? {})) {
    // All conditions hold for one score: `>0.2,<=0.4` is not met by a trace scored 0.1 and 0.5.
    const test =
      cond.op === 'any' ? '1' : cond.op === 'category' ? `string_value = ${bag.add(cond.value, 'String')}` : numberConditionsSql('value', cond.conditions, bag).join(' AND ')
    out.push(`${c('trace_id')} IN (SELECT trace_id FROM ${LIVE_SCORES} AND project_id = ${projectParam} AND name = ${bag.add(name, 'String')} AND ${test})`)
  }
  if (f.text !== undefined && f.text !== '') {
    const p = bag.add(f.text, 'String')
    out.push(contentTextMatch(alias, projectParam, (column) => `positionCaseInsensitiveUTF8(${column}, ${p}) > 0`))
  }
  if (f.not) {
    const inner = spanConditions(project, f.not, bag, alias).slice(1)
    // Every condition is 0 or 1, never NULL, so NOT keeps exactly the spans the filter does not.
    out.push(inner.length > 0 ? `NOT (${inner.join(' AND ')})` : '0')
  }
  return out
}

/** The filter's time range alone. */
export function timeOf(f: SpanFilter): SpanFilter {
  return { ...(f.from ? { from: f.from } : {}), ...(f.to ? { to: f.to } : {}) }
}

/**
 * A group key's value (bias's groups): the key's own SQL (group-keys.ts), so the
 * condition selects exactly the group's spans. A key that reads the prompt reads it
 * as shown, content from logs included, through a subquery bounded by the filter's time.
 */
function groupCondition(project: string, projectParam: string, key: string, value: string, f: SpanFilter, bag: ParamBag, alias: string): string {
  const g = groupKey(key, bag)
  if (!g) throw errors.BAD_REQUEST(`group.${key}: expected a group key (${GROUP_KEYS_HELP})`)
  const v = bag.add(value, 'String')
  if (!g.content && alias === '') return `${g.expr} = ${v}`
  const time = spanConditions(project, timeOf(f), bag)
  const from = g.content ? spansWithContent(projectParam) : 'spans FINAL'
  return `(${alias}trace_id, ${alias}span_id) IN (SELECT trace_id, span_id FROM ${from} WHERE ${time.join(' AND ')} AND ${g.expr} = ${v})`
}

/**
 * The most characters one text of a filter holds: about what a GET's whole URL carries (Node
 * takes 16 KiB of headers). A report's body (256 KB) could otherwise send a text that no query
 * parameter of a served ClickHouse takes (128 KiB, http_max_field_value_size: a 502 there);
 * an array of many texts is split over several parameters (db.ts).
 */
const TEXT_MAX = 16 * 1024
export const filterText = z.string().max(TEXT_MAX, { error: `expected at most ${TEXT_MAX} characters` })
const text = filterText

/**
 * A comma list, or in JSON an array of them: at least one value and no empty one. An empty
 * value read as no condition would answer for every span (`service=`, `kind=,`).
 */
const list = z
  .union([text, z.array(text)], { error: 'expected a comma-separated list, or an array of texts' })
  .transform((v) => (Array.isArray(v) ? v : [v]).flatMap((s) => s.split(',')).map((s) => s.trim()))
  .superRefine((items, ctx) => {
    if (items.every((s) => s === '')) ctx.addIssue({ code: 'custom', message: 'must not be empty; leave the field out for no condition', continue: false })
    else if (items.includes('')) ctx.addIssue({ code: 'custom', message: 'expected values separated by commas, got an empty one', continue: false })
  })

/** Span kinds: any other value is refused, not answered with nothing. */
const kinds = list.pipe(z.array(z.enum(SPAN_KINDS)))
/** Span statuses, as kinds: `status=erorr` matched nothing, and an SLO scoped so counted nothing bad. */
const statuses = list.pipe(z.array(z.enum(SPAN_STATUSES)))
const MS = 'expected a number of milliseconds from 0, in decimal (250, 1.5e3)'
const ms = z
  .union([z.number(), z.string().trim().regex(DECIMAL, { error: MS }).transform(Number)], { error: MS })
  .pipe(z.number({ error: MS }).finite({ error: MS }).min(0, { error: MS }))
const scoreConditions = z.record(text.min(1), text.trim().min(1))
/** Checked by parseConditions, which names the field as the query string does (`attrNum.<key>`). */
const attributeNumbers = z.record(text.min(1), z.union([text, z.array(text)]))

const groups = z.record(text, text)
const TIME_FORMS = 'expected a time: ISO-8601 text, epoch milliseconds or now-<n><unit>'

const filterFields = z
  .object({
    from: z.union([z.string(), z.number()], { error: TIME_FORMS }).optional(),
    to: z.union([z.string(), z.number()], { error: TIME_FORMS }).optional(),
    service: list.optional(),
    model: list.optional(),
    provider: list.optional(),
    operation: list.optional(),
    kind: kinds.optional(),
    name: list.optional(),
    status: statuses.optional(),
    environment: list.optional(),
    release: list.optional(),
    userId: text.optional(),
    sessionId: text.optional(),
    traceId: TRACE_ID.optional(),
    // An empty key (`attr.=x`) names no attribute: read as one, it matched no span and answered an empty list.
    attributes: z.record(text.min(1), text).optional(),
    attributeNumbers: attributeNumbers.optional(),
    resource: z.record(text.min(1), text).optional(),
    // An empty text matched every span.
    text: text.min(1).optional(),
    tag: list.optional(),
    event: list.optional(),
    scope: list.optional(),
    refusal: FLAG.optional(),
    minDurationMs: ms.optional(),
    maxDurationMs: ms.optional(),
    scores: scoreConditions.optional(),
    ...Object.fromEntries(SPAN_NUMBER_KEYS.map((k) => [k, numberConditions.optional()])) as Record<SpanNumber, z.ZodOptional<typeof numberConditions>>,
    groups: groups.optional(),
  })
  .strict()

/**
 * A filter inside a request body, taken as an object and checked by toSpanFilter, which names
 * each field by its path (`filter.ttftMs`): checked by the body's own schema, a bad filter
 * field would be reported as a failed union of the body.
 */
export const filterObject = z.record(z.string(), z.unknown(), { error: 'expected a filter object' })

/** JSON form of a filter (request bodies, SLO files). Times as ISO, epoch ms or now-<duration>. */
export const spanFilterSchema = filterFields.extend({ not: filterFields.omit({ from: true, to: true }).optional() }).strict()

/**
 * A filter in its JSON form, checked; `at` is where it sits in a body (`filter.`,
 * `reference.`), so that every error names the field's path, by its query-string name
 * (`filter.score.feedback`, `q`), the one name docs/api.md gives each filter field.
 */
export function toSpanFilter(input: unknown, now = new Date(), at = ''): SpanFilter {
  const not = (input as { not?: unknown } | undefined)?.not
  for (const k of ['from', 'to']) {
    // Said here: a schema error would call a time under `not` an unknown field.
    if (typeof not === 'object' && not !== null && k in not) throw errors.BAD_REQUEST(`${at}not.${k}: a time is not negated; give from and to on the filter itself`)
  }
  const parsed = spanFilterSchema.safeParse(input ?? {})
  if (!parsed.success) throw invalidFields(parsed.error, (path) => at + filterFieldPath(path))
  const { from, to, not: negated, ...rest } = parsed.data
  const out = timelessFilter(rest, at)
  if (negated !== undefined) {
    out.not = timelessFilter(negated, `${at}not.`)
    // The spans matching no condition at all are every span: `not` of them would be none.
    if (Object.keys(out.not).length === 0) throw errors.BAD_REQUEST(`${at}not: expected at least one condition`)
  }
  if (from !== undefined) out.from = parseTime(from, `${at}from`, now)
  if (to !== undefined) out.to = parseTime(to, `${at}to`, now)
  if (out.from && out.to && out.from >= out.to) throw errors.BAD_REQUEST(`${at}from: must be before to`)
  return out
}

type ParsedFields = Omit<z.output<typeof filterFields>, 'from' | 'to'>

/** A parsed filter without its time: score conditions read, group keys checked (`prefix` names the fields in errors). */
function timelessFilter(parsed: ParsedFields, prefix: string): SpanFilter {
  const { scores, groups, attributeNumbers, ...rest } = parsed
  const out: SpanFilter = {}
  const numbers = new Set<string>(SPAN_NUMBER_KEYS)
  for (const [k, v] of Object.entries(rest)) if (v !== undefined) (out as Record<string, unknown>)[k] = numbers.has(k) ? readConditions(v as string[]) : v
  if (attributeNumbers !== undefined) {
    out.attributeNumbers = Object.fromEntries(Object.entries(attributeNumbers).map(([k, v]) => [k, parseConditions(`${prefix}attrNum.${k}`, v)]))
  }
  if (scores !== undefined) out.scores = Object.fromEntries(Object.entries(scores).map(([k, v]) => [k, parseScoreCondition(`${prefix}score.${k}`, v)]))
  if (groups !== undefined) {
    for (const key of Object.keys(groups)) {
      if (!groupKey(key, new ParamBag())) throw errors.BAD_REQUEST(`${prefix}group.${key}: expected a group key (${GROUP_KEYS_HELP})`)
    }
    out.groups = groups
  }
  return out
}

/**
 * Query-string form: `service=a,b&model=gpt-4o&attr.tenant=acme&resource.region=eu&q=refund`,
 * `score.feedback=<=0`, `refusal=1`, `minDurationMs=1000`, `tag=vip`, `event=exception`,
 * `scope=@spanlens/sdk`, `ttftMs=>1000`,
 * `costUsd=>0.01,<=0.02`, `score.relevance=>0.2,<=0.4`, `attrNum.retrieval.docs=>3,<=5`,
 * `group.language=ja`, and `not.<any of these>` (spans that do
 * not match the `not.` conditions together: `not.status=ok&not.refusal=0`).
 * Any other key is refused, unless the route names it in `params` (its own parameters:
 * limit, order, …): a misspelt filter (`servce=checkout`) would otherwise be dropped and
 * answer for every span.
 */
export function filterFromQuery(q: Record<string, unknown>, params: readonly string[], now = new Date()): SpanFilter {
  const input = queryInput(oneValueEach(q), '', new Set(params))
  return toSpanFilter(input, now)
}

type MapField = 'attributes' | 'attributeNumbers' | 'resource' | 'scores' | 'groups'
const MAP_PREFIXES: Record<string, MapField> = { attr: 'attributes', attrNum: 'attributeNumbers', resource: 'resource', score: 'scores', group: 'groups' }
/** The query-string name of a filter field's JSON name (`scores` → `score`, `text` → `q`). */
const QUERY_NAMES: Record<string, string> = { ...Object.fromEntries(Object.entries(MAP_PREFIXES).map(([q, field]) => [field, q])), text: 'q' }

/** A path in a filter's JSON form, named as the query string names it: `not.score.feedback`. */
function filterFieldPath(path: readonly PropertyKey[]): string {
  return fieldPath(path.map((p, i) => (typeof p === 'string' && (i === 0 || path[i - 1] === 'not') ? (QUERY_NAMES[p] ?? p) : p)))
}

const FIELD_KEYS = new Set(Object.keys(spanFilterSchema.shape).filter((k) => k !== 'not' && !Object.values(MAP_PREFIXES).includes(k as MapField)))

/** True for a query parameter filterFromQuery reads as a filter (`service`, `q`, `attr.<key>`, `not.<any of these>`), whatever its value. */
export function isFilterParam(k: string): boolean {
  const [head = '', ...tail] = k.split('.')
  if (tail.length > 0 && Object.hasOwn(MAP_PREFIXES, head)) return true
  if (head === 'not' && tail.length > 0) return isFilterParam(tail.join('.'))
  return k === 'q' || FIELD_KEYS.has(k)
}

function queryInput(q: Record<string, string>, prefix: string, params: ReadonlySet<string> = new Set()): Record<string, unknown> {
  const input: Record<string, unknown> = {}
  const maps: Record<MapField, Record<string, string>> = { attributes: {}, attributeNumbers: {}, resource: {}, scores: {}, groups: {} }
  const negated: Record<string, string> = {}
  for (const [k, str] of Object.entries(q)) {
    const [head = '', ...tail] = k.split('.')
    const rest = tail.join('.')
    const map = Object.hasOwn(MAP_PREFIXES, head) ? MAP_PREFIXES[head] : undefined
    if (map && tail.length > 0) maps[map][rest] = str
    else if (head === 'not' && tail.length > 0) negated[rest] = str
    else if (k === 'q') input.text = str
    else if (FIELD_KEYS.has(k)) input[k] = str
    else if (prefix !== '' || !params.has(k)) {
      const also = prefix === '' && params.size > 0 ? ` nor one of this route's parameters (${[...params].join(', ')})` : ''
      throw errors.BAD_REQUEST(`${prefix}${k}: not a filter${also} (docs/api.md, "Filters")`)
    }
  }
  for (const [name, m] of Object.entries(maps)) if (Object.keys(m).length > 0) input[name] = m
  if (Object.keys(negated).length > 0) input.not = queryInput(negated, `${prefix}not.`)
  return input
}

/**
 * A filter in the query-string form filterFromQuery reads (the traces links of the
 * console's numbers); null when that form cannot say it (a list value with a comma, a
 * score category that reads as a number).
 */
export function filterToQuery(f: SpanFilter): Record<string, string> | null {
  const out: Record<string, string> = {}
  const put = (k: string, v: string | undefined) => v !== undefined && (out[k] = v)
  const list = (v: readonly string[] | undefined) => (v && v.length > 0 ? v.join(',') : undefined)
  for (const k of ['service', 'model', 'provider', 'operation', 'kind', 'name', 'status', 'environment', 'release', 'tag', 'event', 'scope'] as const) {
    if (f[k]?.some((v) => v.includes(','))) return null
    put(k, list(f[k]))
  }
  put('from', f.from?.toISOString())
  put('to', f.to?.toISOString())
  put('userId', f.userId)
  put('sessionId', f.sessionId)
  put('traceId', f.traceId)
  if (f.text) put('q', f.text)
  if (f.refusal !== undefined) put('refusal', f.refusal ? '1' : '0')
  if (f.minDurationMs !== undefined) put('minDurationMs', String(f.minDurationMs))
  if (f.maxDurationMs !== undefined) put('maxDurationMs', String(f.maxDurationMs))
  for (const k of SPAN_NUMBER_KEYS) if (f[k] && f[k].length > 0) put(k, f[k].map(formatCondition).join(','))
  for (const [k, v] of Object.entries(f.attributes ?? {})) put(`attr.${k}`, v)
  for (const [k, v] of Object.entries(f.attributeNumbers ?? {})) put(`attrNum.${k}`, v.map(formatCondition).join(','))
  for (const [k, v] of Object.entries(f.resource ?? {})) put(`resource.${k}`, v)
  for (const [k, v] of Object.entries(f.scores ?? {})) {
    const condition = formatScoreCondition(v)
    if (condition === null) return null
    put(`score.${k}`, condition)
  }
  for (const [k, v] of Object.entries(f.groups ?? {})) put(`group.${k}`, v)
  if (f.not) {
    const not = filterToQuery(f.not)
    if (not === null) return null
    for (const [k, v] of Object.entries(not)) put(`not.${k}`, v)
  }
  return out
}
